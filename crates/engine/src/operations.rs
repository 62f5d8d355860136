//! The `task-operations` consumer's reading of a delivery: which operation it is (a completion,
//! a created instance, a deletion), and the instance that must follow a completion.

use chrono::{DateTime, Utc};

use domain::event::{read_task_event, TaskEvent};
use domain::schedule::{self, NextInstance};
use domain::{Mode, ReminderOffset, SeriesId, TaskId};

use crate::{precreate_lead_secs, Poison, Precreate, COMPLETED, CREATED, DELETED};

/// A completion of a recurring instance, read from a `task-operations` delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The `CloudEvent` id (idempotency key).
    pub event_id: String,
    /// The completed instance.
    pub task_id: TaskId,
    /// Its owner.
    pub user_id: String,
    /// Its series.
    pub series_id: SeriesId,
}

/// What a `task-operations` delivery asks of the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// A recurring instance was completed: make sure the next instance exists.
    Completed(Completion),
    /// A recurring instance was created: pre-create the occurrence after it, this many seconds
    /// ahead ([`precreate_lead_secs`] of the instance's reminders).
    Created(Precreate, i64),
    /// Instances of a series were deleted (`following` or `all`): the job of the occurrence
    /// after the deleted instance is cancelled.
    Cancel(Precreate),
}

/// Reads a `task-operations` delivery: `Ok(None)` for events this consumer ignores (other
/// types, tasks without a series, instances without a following occurrence), `Err` for poison.
pub fn operation(body: &[u8]) -> Result<Option<Operation>, Poison> {
    let Some(TaskEvent {
        event,
        data,
        task_id,
    }) = read_task_event(body, &[COMPLETED, CREATED, DELETED])?
    else {
        return Ok(None);
    };
    let bad = |reason: String| Poison::Data {
        event_id: event.id.clone(),
        reason,
    };
    let series_id = match data.series_id.as_deref() {
        None | Some("") => return Ok(None),
        Some(s) => {
            SeriesId::parse(s).ok_or_else(|| bad(format!("series_id {s:?} is not a UUID")))?
        }
    };
    if data.user_id.trim().is_empty() {
        return Err(bad("user_id is empty".into()));
    }
    if event.event_type == CREATED || event.event_type == DELETED {
        let series_wide = matches!(data.scope.as_deref(), Some("following" | "all"));
        if event.event_type == DELETED && !series_wide {
            return Ok(None);
        }
        let upcoming = event
            .data
            .pointer("/task/upcoming_occurrence")
            .and_then(serde_json::Value::as_str);
        let Some(t) = upcoming else {
            return Ok(None);
        };
        let occurrence = DateTime::parse_from_rfc3339(t)
            .map_err(|e| bad(format!("upcoming_occurrence {t:?}: {e}")))?
            .with_timezone(&Utc);
        let p = Precreate {
            series_id,
            occurrence,
        };
        return Ok(Some(if event.event_type == CREATED {
            let offsets = event
                .data
                .pointer("/task/reminders")
                .and_then(serde_json::Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(serde_json::Value::as_str)
                        .filter_map(|o| ReminderOffset::parse(o).ok())
                        .map(|o| o.seconds())
                        .max()
                })
                .unwrap_or_default();
            Operation::Created(p, precreate_lead_secs(offsets))
        } else {
            Operation::Cancel(p)
        }));
    }
    Ok(Some(Operation::Completed(Completion {
        event_id: event.id,
        task_id,
        user_id: data.user_id,
        series_id,
    })))
}

/// A completed instance and its series as stored (the row of
/// `store::engine::completed_instance`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInstance {
    /// The instance's original occurrence instant.
    pub recurrence_id: DateTime<Utc>,
    /// Canonical RRULE of the series.
    pub rule: String,
    /// DTSTART as local wall time (`schedule::LOCAL_FORMAT`).
    pub dtstart_local: String,
    /// The series' time zone.
    pub tzid: String,
    /// The series' end date.
    pub end_date: Option<DateTime<Utc>>,
    /// Fixed grid or from completion.
    pub mode: Mode,
    /// When the instance was completed.
    pub completed_at: DateTime<Utc>,
}

/// The instance that must follow a completed one, computed exactly as the Task API does when
/// it completes the instance ([`schedule::next_after_completion`]) with the stored completion
/// time as "now", so the engine and the Task API name the same occurrence. `Ok(None)` means the
/// rule is exhausted (end date or COUNT reached).
pub fn next_instance(c: &Completion, i: &StoredInstance) -> Result<Option<NextInstance>, Poison> {
    let series = schedule::stored_series(&i.rule, &i.dtstart_local, &i.tzid, i.end_date, i.mode)
        .ok_or_else(|| Poison::Series {
            event_id: c.event_id.clone(),
            task_id: c.task_id.as_str().to_string(),
            reason: format!(
                "rule {:?} from {:?} in {:?} does not parse",
                i.rule, i.dtstart_local, i.tzid
            ),
        })?;
    Ok(
        schedule::next_after_completion(&series, i.recurrence_id, i.completed_at)
            .map(|(due, upcoming)| NextInstance { due, upcoming }),
    )
}
