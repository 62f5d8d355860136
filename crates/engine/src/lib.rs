//! Decisions of the recurrence engine (`components/recurrence-engine`), as pure functions: which
//! deliveries of its consumers matter and which are poison (dead-lettered), which occurrence
//! comes next after a completion, when and under which job name an instance is pre-created, and
//! how a stuck chain catches up. The component only runs the SQL and answers Dapr.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod catchup;
mod modifications;
mod operations;
mod precreate;

use domain::event::BadTaskEvent;

pub use catchup::{resume, Chain, Resume};
pub use modifications::{modification, SeriesChange};
pub use operations::{next_instance, operation, Completion, Operation, StoredInstance};
pub use precreate::{
    precreate_lead_secs, Precreate, DEFAULT_HERD_WINDOW_SECS, PRECREATE_CONSUMER,
    PRECREATE_LEAD_SECS, REMINDER_MARGIN_SECS,
};

/// The `processed_events.consumer` of the completion consumer.
pub const COMPLETION_CONSUMER: &str = "recurrence-engine/task-operations";

/// The event type the completion consumer acts on.
pub const COMPLETED: &str = events::EventType::TaskCompleted.name();

/// The event type that starts pre-creation of the occurrence after a new instance.
pub const CREATED: &str = events::EventType::TaskCreated.name();

/// The event type of deletions; `following` / `all` deletions cancel the series' pending job.
pub const DELETED: &str = events::EventType::TaskDeleted.name();

/// The event type of edits (`task-modifications`).
pub const UPDATED: &str = events::EventType::TaskUpdated.name();

/// The `processed_events.consumer` of the `task-modifications` consumer.
pub const MODIFICATIONS_CONSUMER: &str = "recurrence-engine/task-modifications";

/// Why a delivery can never succeed: Dapr should dead-letter it (`{"status":"DROP"}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Poison {
    /// The body is not a platform `CloudEvent`.
    #[error("{0}")]
    Envelope(String),
    /// The `data` of a task event does not have the documented shape.
    #[error("event {event_id}: bad task event data: {reason}")]
    Data {
        /// The `CloudEvent` id.
        event_id: String,
        /// What is wrong.
        reason: String,
    },
    /// The task (or its series) named by the event does not exist.
    #[error("event {event_id}: unknown task {task_id} or series")]
    Unknown {
        /// The `CloudEvent` id.
        event_id: String,
        /// The task id the event names.
        task_id: String,
    },
    /// The stored series cannot be rebuilt (corrupt rule, time zone or start).
    #[error("event {event_id}: series of task {task_id} cannot be read: {reason}")]
    Series {
        /// The `CloudEvent` id.
        event_id: String,
        /// The task id the event names.
        task_id: String,
        /// What is wrong.
        reason: String,
    },
}

impl From<BadTaskEvent> for Poison {
    fn from(e: BadTaskEvent) -> Self {
        match e {
            BadTaskEvent::Envelope(reason) => Poison::Envelope(reason),
            BadTaskEvent::Data { event_id, reason } => Poison::Data { event_id, reason },
        }
    }
}

#[cfg(test)]
mod tests;
