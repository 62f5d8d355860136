//! The `task-modifications` consumer: which series edits move pre-creation jobs.

use domain::event::{read_task_event, TaskEvent};
use domain::{ReminderOffset, SeriesId};

use crate::{precreate_lead_secs, Poison, PRECREATE_LEAD_SECS, UPDATED};

/// An edit of a series read from a `task-modifications` delivery: the series whose pre-creation
/// chain must be recomputed (the edited one, and the new one of a split).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesChange {
    /// The `CloudEvent` id.
    pub event_id: String,
    /// The series to recompute, the edited series first.
    pub series: Vec<SeriesId>,
}

/// Reads a `task-modifications` delivery: `Ok(None)` for events that change neither which
/// occurrences a series has nor when its next instance must be created (other types, one-off
/// tasks, scope `this` exceptions and edits that keep the rule, unless the instance's reminders
/// reach further back than the default lead), `Err` for poison. An instance whose reminders
/// need a longer lead re-plans its series, so the job of the next occurrence (which copies the
/// latest instance's reminders) moves earlier when a reminder was lengthened.
pub fn modification(body: &[u8]) -> Result<Option<SeriesChange>, Poison> {
    let Some(TaskEvent { event, data, .. }) = read_task_event(body, &[UPDATED])? else {
        return Ok(None);
    };
    let bad = |reason: String| Poison::Data {
        event_id: event.id.clone(),
        reason,
    };
    if data.user_id.trim().is_empty() {
        return Err(bad("user_id is empty".into()));
    }
    let uuid = |field: &str, v: &str| {
        SeriesId::parse(v).ok_or_else(|| bad(format!("{field} {v:?} is not a UUID")))
    };
    let series_id = match data.series_id.as_deref() {
        None | Some("") => return Ok(None),
        Some(s) => uuid("series_id", s)?,
    };
    let new_series = match data.new_series_id.as_deref() {
        None | Some("") => None,
        Some(s) => Some(uuid("new_series_id", s)?),
    };
    let series_wide = matches!(data.scope.as_deref(), Some("following" | "all"));
    let occurrences_changed = series_wide && (data.rule_changed || new_series.is_some());
    if !occurrences_changed && !needs_longer_lead(&data.task.reminders) {
        return Ok(None);
    }
    let mut series = vec![series_id];
    series.extend(new_series.filter(|n| !series.contains(n)));
    Ok(Some(SeriesChange {
        event_id: event.id,
        series,
    }))
}

/// True if reminders with these offsets need a pre-creation lead longer than the default.
fn needs_longer_lead(reminders: &[String]) -> bool {
    let largest = reminders
        .iter()
        .filter_map(|r| ReminderOffset::parse(r).ok())
        .map(|o| o.seconds())
        .max();
    precreate_lead_secs(largest) > PRECREATE_LEAD_SECS
}
