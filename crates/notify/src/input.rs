//! Task events the dispatcher consumes (`task-operations`, `task-modifications`): each one only
//! names a task whose reminders must be brought in line with the stored task (scheduled,
//! rescheduled or cancelled). The stored rows are the truth, so the order in which events of
//! two topics arrive does not matter and a redelivered event is harmless.

use domain::event::{read_task_event, TaskEvent};
use domain::TaskId;

use crate::Poison;

/// The task event types that can change a task's reminders.
pub const TASK_TYPES: [&str; 4] = [
    events::EventType::TaskCreated.name(),
    events::EventType::TaskUpdated.name(),
    events::EventType::TaskCompleted.name(),
    events::EventType::TaskDeleted.name(),
];

/// A task whose reminders must be reconciled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskChange {
    /// The CloudEvent id.
    pub event_id: String,
    /// The CloudEvent type.
    pub event_type: String,
    /// The task.
    pub task_id: TaskId,
    /// Its owner.
    pub user_id: String,
}

/// Reads a task event: `Ok(None)` for events that cannot touch reminders (other types, tasks
/// without reminders: reminders are set at creation and the snapshot lists them), `Err` for
/// poison.
pub fn task_change(body: &[u8]) -> Result<Option<TaskChange>, Poison> {
    let Some(read) = read_task_event(body, &TASK_TYPES)? else {
        return Ok(None);
    };
    if read.data.user_id.trim().is_empty() {
        return Err(read.bad("user_id is empty").into());
    }
    let TaskEvent {
        event,
        data,
        task_id,
    } = read;
    if data.task.reminders.is_empty() {
        return Ok(None);
    }
    Ok(Some(TaskChange {
        event_id: event.id,
        event_type: event.event_type,
        task_id,
        user_id: data.user_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TASK: &str = "0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a";

    fn envelope(event_type: &str, data: serde_json::Value) -> Vec<u8> {
        json!({"id": "ev-1", "specversion": "1.0", "source": "/task-api", "type": event_type,
               "time": "2026-11-26T08:00:00.000Z", "datacontenttype": "application/json",
               "data": data})
        .to_string()
        .into_bytes()
    }

    fn data(reminders: serde_json::Value) -> serde_json::Value {
        json!({"task_id": TASK, "user_id": "u1", "series_id": null,
               "task": {"task_id": TASK, "title": "t", "status": "pending", "version": 1,
                        "due_date": "2026-12-01T09:00:00Z", "reminders": reminders}})
    }

    #[test]
    fn every_task_event_with_reminders_names_its_task() {
        for t in TASK_TYPES {
            let c = task_change(&envelope(t, data(json!(["PT1H"]))))
                .expect("valid")
                .expect("acted on");
            assert_eq!(c.task_id.as_str(), TASK);
            assert_eq!(c.user_id, "u1");
            assert_eq!(c.event_type, t);
        }
    }

    #[test]
    fn tasks_without_reminders_and_other_types_are_ignored() {
        assert_eq!(
            task_change(&envelope("v1.task.updated", data(json!([])))),
            Ok(None)
        );
        assert_eq!(
            task_change(&envelope("v1.series.updated", json!("anything"))),
            Ok(None)
        );
    }

    #[test]
    fn poison_is_named() {
        assert!(matches!(task_change(b"nope"), Err(Poison::Envelope(_))));
        let mut d = data(json!(["PT1H"]));
        d["task_id"] = json!("not-a-uuid");
        assert!(matches!(
            task_change(&envelope("v1.task.created", d)),
            Err(Poison::Data { .. })
        ));
        let mut d = data(json!(["PT1H"]));
        d["user_id"] = json!(" ");
        assert!(matches!(
            task_change(&envelope("v1.task.created", d)),
            Err(Poison::Data { .. })
        ));
        assert!(matches!(
            task_change(&envelope("v1.task.created", json!({"x": 1}))),
            Err(Poison::Data { .. })
        ));
    }
}
