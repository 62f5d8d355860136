//! What the engine's handlers share: the answer to daprd for one delivery, and publishing the
//! outbox events a write statement answered (the outbox is the platform's, `component_kit::outbox`).

use component_kit::dapr::{Dapr, DaprError};
use component_kit::delivery::Status;
use component_kit::outbox;
use engine::Poison;

/// What to tell Dapr about a delivery.
pub(crate) enum Verdict {
    /// Done or ignored: acknowledged.
    Success,
    /// Poison: to the dead-letter topic.
    Drop(Poison),
    /// A dependency failed: redelivered.
    Retry(DaprError),
}

/// The delivery status of a verdict (logged unless it is a success).
pub(crate) fn verdict(v: Verdict) -> Status {
    match v {
        Verdict::Success => Status::Success,
        Verdict::Drop(p) => {
            component_kit::error!("recurrence-engine: dead-lettering: {p}");
            Status::Drop
        }
        Verdict::Retry(e) => {
            component_kit::warn!("recurrence-engine: will retry: {e}");
            Status::Retry
        }
    }
}

/// Publishes the outbox events of a write statement's `events` column in order and marks them
/// published. A failure leaves them unpublished for the Task API's outbox sweep job.
pub(crate) async fn publish(dapr: &Dapr, events: &outbox::Events) {
    outbox::publish(dapr, &events.0).await;
}

/// Publishes the outbox events of a batch statement with one bulk call per topic.
pub(crate) async fn publish_bulk(dapr: &Dapr, events: &outbox::Events) {
    outbox::publish_bulk(dapr, &events.0).await;
}
