//! The `data` of task events as consumers read it. Unknown fields are ignored (new optional
//! fields may appear within `v1`), so a consumer built against this type keeps working.

use serde::Deserialize;

/// `data` of `v1.task.created|updated|completed|deleted`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TaskEventData {
    /// The task.
    pub task_id: String,
    /// Its owner (also the Kafka key).
    pub user_id: String,
    /// Its series, if recurring.
    #[serde(default)]
    pub series_id: Option<String>,
    /// For updated/deleted: the request's scope.
    #[serde(default)]
    pub scope: Option<String>,
    /// For updated/deleted after a `following` split: the series that now owns the edited
    /// occurrence and the later instances (`series_id` is the series that was split).
    #[serde(default)]
    pub new_series_id: Option<String>,
    /// For updated/deleted: true when the series' recurrence, time zone, mode or end date
    /// changed (pending instances may have been moved or removed).
    #[serde(default)]
    pub rule_changed: bool,
    /// The task after the change.
    pub task: TaskSnapshot,
}

/// The fields of a task snapshot consumers rely on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TaskSnapshot {
    /// Task id.
    pub task_id: String,
    /// Title.
    pub title: String,
    /// pending, completed or deleted.
    pub status: String,
    /// Due date (RFC 3339), if any.
    #[serde(default)]
    pub due_date: Option<String>,
    /// Canonical RRULE of its series, if any.
    #[serde(default)]
    pub recurrence_pattern: Option<String>,
    /// Reminder offsets (ISO 8601 durations).
    #[serde(default)]
    pub reminders: Vec<String>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

impl TaskEventData {
    /// Reads the `data` of a task event.
    pub fn from_value(data: &serde_json::Value) -> Result<Self, serde_json::Error> {
        Self::deserialize(data)
    }
}

/// A task event read from a delivery: its envelope, its `data` and the task id (checked).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskEvent {
    /// The CloudEvent.
    pub event: events::CloudEvent,
    /// Its `data`.
    pub data: TaskEventData,
    /// The task, parsed.
    pub task_id: crate::TaskId,
}

/// Why a delivery is not a readable task event (each consumer turns it into its own poison).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadTaskEvent {
    /// The body is not a platform CloudEvent.
    Envelope(String),
    /// The `data` does not have the documented shape.
    Data {
        /// The CloudEvent id.
        event_id: String,
        /// What is wrong.
        reason: String,
    },
}

impl TaskEvent {
    /// A `Data` error about this event.
    pub fn bad(&self, reason: impl Into<String>) -> BadTaskEvent {
        BadTaskEvent::Data {
            event_id: self.event.id.clone(),
            reason: reason.into(),
        }
    }
}

/// Reads a delivery as a task event of one of `types`: `Ok(None)` for other types, `Err` when
/// the envelope, the data or the task id are not as documented.
pub fn read_task_event(body: &[u8], types: &[&str]) -> Result<Option<TaskEvent>, BadTaskEvent> {
    let event =
        events::CloudEvent::from_json(body).map_err(|e| BadTaskEvent::Envelope(e.to_string()))?;
    if !types.contains(&event.event_type.as_str()) {
        return Ok(None);
    }
    let bad = |reason: String| BadTaskEvent::Data {
        event_id: event.id.clone(),
        reason,
    };
    let data = TaskEventData::from_value(&event.data).map_err(|e| bad(e.to_string()))?;
    let task_id = crate::TaskId::parse(&data.task_id)
        .ok_or_else(|| bad(format!("task_id {:?} is not a UUID", data.task_id)))?;
    Ok(Some(TaskEvent {
        event,
        data,
        task_id,
    }))
}
