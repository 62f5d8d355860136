//! Answering the sidecar's subscription deliveries, single or bulk (`events::delivery`). With
//! [`handle`] each event goes to the consumer's handler in order, and once one must be retried
//! the rest of the delivery is answered `RETRY` without being handled (a user's later event never
//! overtakes an earlier one). A bulk delivery costs one request, one instance and one app-token
//! check for up to `maxMessagesCount` events.

use std::future::Future;

use events::delivery::{bulk_answer, single_answer};
use spin_sdk::http::Response;

pub use events::delivery::{read, Delivery, Entry, Status};

/// The answer to a single delivery (`events::delivery::single_answer`).
pub fn single_response(status: Status) -> Response {
    let (code, answer) = single_answer(status);
    crate::json::response(code, &answer)
}

/// The answer to a bulk delivery: each entry's status, in order.
pub fn bulk_response(statuses: &[(String, Status)]) -> Response {
    crate::json::response(200, &bulk_answer(statuses))
}

/// Handles the delivery in `body` with `each` (one call per event, in order) and answers daprd.
pub async fn handle<F, Fut>(body: &[u8], mut each: F) -> Response
where
    F: FnMut(Vec<u8>) -> Fut,
    Fut: Future<Output = Status>,
{
    match read(body) {
        Delivery::Single => single_response(each(body.to_vec()).await),
        Delivery::Bulk(entries) => {
            let mut statuses = Vec::with_capacity(entries.len());
            let mut held = false;
            for entry in entries {
                let status = if held {
                    Status::Retry
                } else {
                    each(entry.event).await
                };
                held |= status == Status::Retry;
                statuses.push((entry.entry_id, status));
            }
            bulk_response(&statuses)
        }
    }
}
