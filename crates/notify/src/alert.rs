//! The `alerts` topic: `v1.reminder.due` (a reminder's job fired: deliver it) and
//! `v1.reminder.cancelled` (its task was completed or deleted), both keyed by `user_id`.

use chrono::{DateTime, Utc};
use events::CloudEvent;
use serde_json::{json, Value};

use domain::ReminderId;

use crate::job::{rfc3339_ms, ReminderJob};
use crate::Poison;

/// A reminder is due.
pub const DUE: &str = events::EventType::ReminderDue.name();
/// A pending reminder was cancelled.
pub const CANCELLED: &str = events::EventType::ReminderCancelled.name();
/// CloudEvent `source` of the events this service publishes.
pub const SOURCE: &str = "/notification";
/// The topic of reminder events.
pub const ALERTS_TOPIC: &str = events::Topic::Alerts.name();

/// A `v1.reminder.due` to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The CloudEvent id.
    pub event_id: String,
    /// The reminder.
    pub reminder_id: ReminderId,
    /// The reminder time it is due for (a reminder moved since is not delivered by it).
    pub remind_at: DateTime<Utc>,
    /// The owner.
    pub user_id: String,
}

/// What an `alerts` delivery asks of the dispatcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    /// Deliver a reminder.
    Due(Due),
    /// Nothing to deliver (the reason is logged).
    Ignored(&'static str),
}

/// Reads an `alerts` delivery; `Err` for poison.
pub fn read(body: &[u8]) -> Result<Alert, Poison> {
    let event = CloudEvent::from_json(body).map_err(|e| Poison::Envelope(e.to_string()))?;
    match event.event_type.as_str() {
        DUE => {}
        CANCELLED => return Ok(Alert::Ignored("a cancellation notice")),
        _ => return Ok(Alert::Ignored("not a reminder event")),
    }
    // The recurrence engine announces a pre-created instance with a task snapshot and no
    // reminder: that instance's reminders are scheduled from its v1.task.created event.
    let Some(rid) = event.data.get("reminder_id") else {
        return Ok(Alert::Ignored(
            "an instance notice without reminder_id (its reminders are scheduled from v1.task.created)",
        ));
    };
    let bad = |reason: String| Poison::Data {
        event_id: event.id.clone(),
        reason,
    };
    let reminder_id = rid
        .as_str()
        .and_then(ReminderId::parse)
        .ok_or_else(|| bad(format!("reminder_id {rid} is not a UUID")))?;
    let remind_at = event
        .data
        .get("remind_at")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .ok_or_else(|| bad("remind_at must be RFC 3339".into()))?
        .with_timezone(&Utc);
    let user_id = event
        .data
        .get("user_id")
        .and_then(Value::as_str)
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| bad("user_id is required".into()))?
        .to_string();
    Ok(Alert::Due(Due {
        event_id: event.id,
        reminder_id,
        remind_at,
        user_id,
    }))
}

/// The `v1.reminder.due` event of a fired job. Its id is deterministic in reminder and time, so
/// a trigger retried after a lost answer publishes the same event again.
pub fn due_event(job: &ReminderJob, now: DateTime<Utc>) -> Option<CloudEvent> {
    CloudEvent::new(
        format!(
            "due-{}-{}",
            job.reminder_id.as_str(),
            job.remind_at.timestamp_millis()
        ),
        SOURCE,
        DUE,
        now,
        Some(job.user_id.clone()),
        json!({
            "reminder_id": job.reminder_id.as_str(),
            "task_id": job.task_id.as_str(),
            "user_id": job.user_id,
            "remind_at": rfc3339_ms(job.remind_at),
        }),
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use domain::TaskId;

    const REMINDER: &str = "2b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a";
    const TASK: &str = "0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a";

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn job() -> ReminderJob {
        ReminderJob {
            reminder_id: ReminderId::parse(REMINDER).expect("id"),
            task_id: TaskId::parse(TASK).expect("id"),
            user_id: "u1".into(),
            remind_at: at(9),
        }
    }

    #[test]
    fn due_events_round_trip_with_a_deterministic_id() {
        let e = due_event(&job(), at(9)).expect("valid");
        assert_eq!(e.partitionkey.as_deref(), Some("u1"));
        assert_eq!(e.id, due_event(&job(), at(10)).expect("valid").id);
        let read = read(e.to_json().as_bytes()).expect("valid");
        assert_eq!(
            read,
            Alert::Due(Due {
                event_id: e.id.clone(),
                reminder_id: job().reminder_id,
                remind_at: at(9),
                user_id: "u1".into(),
            })
        );
    }

    #[test]
    fn cancellations_and_instance_notices_are_ignored() {
        // The shape the reconcile statement writes to the outbox (store::reminders::reconcile_tasks).
        let c = CloudEvent::new(
            "6f1c2a34-9d1e-4b7a-8c3d-2e4f5a6b7c8d",
            SOURCE,
            CANCELLED,
            at(9),
            Some("u1".into()),
            json!({"reminder_id": job().reminder_id.as_str(), "task_id": TASK, "user_id": "u1",
                   "reason": "task completed"}),
        )
        .expect("valid");
        assert!(matches!(
            read(c.to_json().as_bytes()),
            Ok(Alert::Ignored(_))
        ));
        let notice = CloudEvent::new(
            "x",
            "/recurrence-engine",
            DUE,
            at(9),
            None,
            json!({"task_id": TASK, "user_id": "u1", "task": {}}),
        )
        .expect("valid");
        assert!(matches!(
            read(notice.to_json().as_bytes()),
            Ok(Alert::Ignored(_))
        ));
    }

    #[test]
    fn malformed_due_events_are_poison() {
        assert!(matches!(read(b"{}"), Err(Poison::Envelope(_))));
        for data in [
            json!({"reminder_id": "nope", "remind_at": "2026-11-26T09:00:00Z", "user_id": "u"}),
            json!({"reminder_id": REMINDER, "remind_at": "soon", "user_id": "u"}),
            json!({"reminder_id": REMINDER, "remind_at": "2026-11-26T09:00:00Z"}),
        ] {
            let e = CloudEvent::new("e", "/t", DUE, at(9), None, data).expect("valid");
            assert!(
                matches!(read(e.to_json().as_bytes()), Err(Poison::Data { .. })),
                "{}",
                e.to_json()
            );
        }
    }
}
