//! Answering the sidecar's subscription deliveries, single or bulk (`events::delivery`). With
//! [`handle`] each user's events go to the consumer's handler in order, different users' side by
//! side, and once one of a user's events must be retried that user's later ones are answered
//! `RETRY` without being handled (a user's later event never overtakes an earlier one). A bulk
//! delivery costs one request, one instance and one app-token check for up to
//! `maxMessagesCount` events, and its handling lasts about as long as its busiest user's.

use std::future::Future;

use futures::stream::{self, StreamExt};

use events::delivery::{bulk_answer, single_answer};
use spin_sdk::http::Response;

pub use events::delivery::{read, user_groups, Delivery, Entry, Status};

/// Users whose entries of one bulk are handled at once.
pub const USERS_IN_FLIGHT: usize = 16;

/// The answer to a single delivery (`events::delivery::single_answer`).
pub fn single_response(status: Status) -> Response {
    let (code, answer) = single_answer(status);
    crate::json::response(code, &answer)
}

/// The answer to a bulk delivery: each entry's status, in order.
pub fn bulk_response(statuses: &[(String, Status)]) -> Response {
    crate::json::response(200, &bulk_answer(statuses))
}

/// Handles the delivery in `body` with `each` (one call per event; a user's events in order,
/// [`USERS_IN_FLIGHT`] users at once) and answers daprd.
pub async fn handle<F, Fut>(body: &[u8], each: F) -> Response
where
    F: Fn(Vec<u8>) -> Fut,
    Fut: Future<Output = Status>,
{
    match read(body) {
        Delivery::Single => single_response(each(body.to_vec()).await),
        Delivery::Bulk(mut entries) => {
            let mut statuses: Vec<(String, Status)> = entries
                .iter()
                .map(|e| (e.entry_id.clone(), Status::Retry))
                .collect();
            // Each group owns its events (moved out of the entries, not copied).
            let groups: Vec<Vec<(usize, Vec<u8>)>> = user_groups(&entries)
                .into_iter()
                .map(|group| {
                    group
                        .into_iter()
                        .map(|i| (i, std::mem::take(&mut entries[i].event)))
                        .collect()
                })
                .collect();
            let each = &each;
            let handled: Vec<Vec<(usize, Status)>> = stream::iter(groups)
                .map(|group| async move {
                    let mut out = Vec::with_capacity(group.len());
                    let mut held = false;
                    for (i, event) in group {
                        let status = if held {
                            Status::Retry
                        } else {
                            each(event).await
                        };
                        held |= status == Status::Retry;
                        out.push((i, status));
                    }
                    out
                })
                .buffer_unordered(USERS_IN_FLIGHT)
                .collect()
                .await;
            for (i, status) in handled.into_iter().flatten() {
                statuses[i].1 = status;
            }
            bulk_response(&statuses)
        }
    }
}
