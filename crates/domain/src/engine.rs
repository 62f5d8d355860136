//! Decisions of the recurrence engine's `task-operations` consumer, as pure functions: which
//! deliveries matter, which are poison (dead-lettered), and which occurrence comes next after a
//! completion. The component only runs the SQL and maps [`Verdict`]s to Dapr answers.

use chrono::{DateTime, Utc};

use crate::event::{read_task_event, BadTaskEvent, TaskEvent};
use crate::schedule::{self, NextInstance};
use crate::types::{Mode, ReminderOffset, SeriesId, TaskId};

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
    /// The body is not a platform CloudEvent.
    #[error("{0}")]
    Envelope(String),
    /// The `data` of a task event does not have the documented shape.
    #[error("event {event_id}: bad task event data: {reason}")]
    Data {
        /// The CloudEvent id.
        event_id: String,
        /// What is wrong.
        reason: String,
    },
    /// The task (or its series) named by the event does not exist.
    #[error("event {event_id}: unknown task {task_id} or series")]
    Unknown {
        /// The CloudEvent id.
        event_id: String,
        /// The task id the event names.
        task_id: String,
    },
    /// The stored series cannot be rebuilt (corrupt rule, time zone or start).
    #[error("event {event_id}: series of task {task_id} cannot be read: {reason}")]
    Series {
        /// The CloudEvent id.
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

/// A completion of a recurring instance, read from a `task-operations` delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The CloudEvent id (idempotency key).
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
                        .filter_map(|o| crate::types::ReminderOffset::parse(o).ok())
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

/// How long before an occurrence's due time its instance is pre-created (at least).
pub const PRECREATE_LEAD_SECS: i64 = 15 * 60;

/// How long before its largest reminder an instance is pre-created: reminders are planned when
/// the instance exists, so one whose time had already passed would be recorded as missed.
pub const REMINDER_MARGIN_SECS: i64 = 5 * 60;

/// The pre-creation lead of an occurrence whose instance gets reminders with the largest offset
/// `max_reminder_secs`: [`PRECREATE_LEAD_SECS`], or that offset plus [`REMINDER_MARGIN_SECS`]
/// when longer, so every reminder of the instance is still ahead when it is created.
pub fn precreate_lead_secs(max_reminder_secs: Option<i64>) -> i64 {
    max_reminder_secs.map_or(PRECREATE_LEAD_SECS, |o| {
        (o.max(0) + REMINDER_MARGIN_SECS).max(PRECREATE_LEAD_SECS)
    })
}

/// Default width of the herd window: pre-creation jobs are spread over the 10 minutes before
/// the lead (the seed's 23:55–00:05 is such a 10-minute window).
pub const DEFAULT_HERD_WINDOW_SECS: u32 = 600;

/// The `processed_events.consumer` of pre-creation job triggers (the event id is the job name).
pub const PRECREATE_CONSUMER: &str = "recurrence-engine/precreate";

/// One occurrence of a series to pre-create with a Dapr job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precreate {
    /// The series.
    pub series_id: SeriesId,
    /// The occurrence (its due date and recurrence id).
    pub occurrence: DateTime<Utc>,
}

impl Precreate {
    /// The job name, deterministic in series and occurrence, so scheduling the same occurrence
    /// again overwrites the job instead of adding one.
    pub fn job_name(&self) -> String {
        format!(
            "precreate-{}-{}",
            self.series_id.as_str(),
            self.occurrence.format("%Y%m%dT%H%M%SZ")
        )
    }

    /// This series' deterministic place in a herd window of `window_secs`: an offset in
    /// `[0, window_secs)` from the series id (its 128 bits modulo the window), so the jobs of
    /// many series due at the same instant are spread evenly across the window, and a series
    /// always lands on the same second.
    pub fn herd_offset(&self, window_secs: u32) -> i64 {
        if window_secs == 0 {
            return 0;
        }
        let bits = u128::from_str_radix(&self.series_id.as_str().replace('-', ""), 16).unwrap_or(0);
        i64::try_from(bits % u128::from(window_secs)).unwrap_or(0)
    }

    /// When the job fires: `lead_secs` ([`precreate_lead_secs`]) before the occurrence, moved
    /// earlier by the series' [`Self::herd_offset`] in a window of `window_secs` (so the
    /// instance always exists at least the lead time before it is due).
    pub fn fire_at(&self, lead_secs: i64, window_secs: u32) -> DateTime<Utc> {
        self.occurrence - chrono::TimeDelta::seconds(lead_secs + self.herd_offset(window_secs))
    }

    /// The Jobs API body: one shot at [`Self::fire_at`] (in one second if that has passed),
    /// `overwrite`, constant failure policy 5 s × 3, data naming series and occurrence. The
    /// name does not depend on the lead: a re-schedule with other reminders moves the same job.
    pub fn job(&self, now: DateTime<Utc>, lead_secs: i64, window_secs: u32) -> serde_json::Value {
        let fire = self.fire_at(lead_secs, window_secs);
        let due = if fire > now {
            fire.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        } else {
            "1s".to_string()
        };
        serde_json::json!({
            "dueTime": due,
            "overwrite": true,
            "failure_policy": {"constant": {"interval": "5s", "max_retries": 3}},
            "data": {
                "series_id": self.series_id.as_str(),
                "occurrence": self.occurrence.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            },
        })
    }

    /// Reads a job trigger: the body is the job's `data`; it must match the job name.
    pub fn from_trigger(name: &str, body: &[u8]) -> Result<Self, Poison> {
        let bad = |reason: String| Poison::Data {
            event_id: name.to_string(),
            reason,
        };
        let v: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| bad(format!("job data: {e}")))?;
        let series_id = v
            .get("series_id")
            .and_then(serde_json::Value::as_str)
            .and_then(SeriesId::parse)
            .ok_or_else(|| bad("job data needs a series_id UUID".into()))?;
        let occurrence = v
            .get("occurrence")
            .and_then(serde_json::Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .ok_or_else(|| bad("job data needs an RFC 3339 occurrence".into()))?
            .with_timezone(&Utc);
        let p = Self {
            series_id,
            occurrence,
        };
        if p.job_name() != name {
            return Err(bad(format!("job data names {}", p.job_name())));
        }
        Ok(p)
    }
}

/// An edit of a series read from a `task-modifications` delivery: the series whose pre-creation
/// chain must be recomputed (the edited one, and the new one of a split).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesChange {
    /// The CloudEvent id.
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

/// Where a series' chain of pre-creation jobs stands, as stored.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The series.
    pub series_id: SeriesId,
    /// Its rule, start, zone, end and mode; `None` if it cannot be rebuilt.
    pub series: Option<recurrence::Series>,
    /// False once the series was deleted ("all").
    pub active: bool,
    /// The latest occurrence that has a live (not deleted) instance.
    pub frontier: Option<DateTime<Utc>>,
    /// That instance's `upcoming_occurrence`: the occurrence whose job the chain scheduled.
    pub frontier_upcoming: Option<DateTime<Utc>>,
    /// Missed occurrences up to this instant are already counted.
    pub counted_through: Option<DateTime<Utc>>,
    /// The pre-creation lead of the chain's next occurrence ([`precreate_lead_secs`] of the
    /// frontier instance's reminders, which the next instance copies).
    pub lead_secs: i64,
}

/// What to do to put a series' chain back in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resume {
    /// The job to (re-)schedule: the first occurrence after the frontier and now.
    pub schedule: Option<Precreate>,
    /// A job the chain scheduled for an occurrence that is no longer the next one.
    pub cancel: Option<Precreate>,
    /// Occurrences that passed without an instance since the frontier (and since the last
    /// count), skipped by the recurrence library's default catch-up policy
    /// ([`recurrence::CatchUpPolicy::SkipWithCount`]).
    pub skipped: u32,
}

/// Recomputes a series' chain at `now`: the next occurrence to pre-create is the first one
/// after both the frontier and `now` (missed occurrences are skipped and counted, as
/// [`recurrence::catch_up`] does with the default policy); a job scheduled for another
/// occurrence is stale. Inactive, from-completion and unreadable series get no job.
pub fn resume(chain: &Chain, now: DateTime<Utc>) -> Resume {
    let stale = |next: Option<&Precreate>| {
        chain
            .frontier_upcoming
            .filter(|u| next.map(|n| n.occurrence) != Some(*u))
            .map(|u| Precreate {
                series_id: chain.series_id.clone(),
                occurrence: u,
            })
    };
    let Some(series) = chain
        .series
        .as_ref()
        .filter(|s| chain.active && s.mode == recurrence::Mode::Fixed)
    else {
        return Resume {
            cancel: stale(None),
            ..Resume::default()
        };
    };
    let from = chain.frontier.max(chain.counted_through);
    let caught = recurrence::catch_up(series, from, now, recurrence::CatchUpPolicy::default());
    let after = chain.frontier.map_or(now, |f| f.max(now));
    let schedule = series.next_after(after).map(|occurrence| Precreate {
        series_id: chain.series_id.clone(),
        occurrence,
    });
    Resume {
        cancel: stale(schedule.as_ref()),
        schedule,
        skipped: caught.skipped,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    const TASK: &str = "0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a";
    const SERIES: &str = "1b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a";

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn envelope(event_type: &str, data: serde_json::Value) -> Vec<u8> {
        json!({"id": "ev-1", "specversion": "1.0", "source": "/task-api", "type": event_type,
               "time": "2026-11-26T08:00:00.000Z", "datacontenttype": "application/json",
               "topic": "task-operations", "pubsubname": "pubsub", "data": data})
        .to_string()
        .into_bytes()
    }

    fn data(series: Option<&str>) -> serde_json::Value {
        json!({"task_id": TASK, "user_id": "u1", "series_id": series,
               "task": {"task_id": TASK, "title": "t", "status": "completed", "version": 2}})
    }

    fn completion(body: &[u8]) -> Result<Option<Completion>, Poison> {
        operation(body).map(|o| match o {
            Some(Operation::Completed(c)) => Some(c),
            _ => None,
        })
    }

    #[test]
    fn created_instances_with_an_upcoming_occurrence_are_pre_created() {
        let mut d = data(Some(SERIES));
        d["task"]["upcoming_occurrence"] = json!("2026-11-27T09:00:00Z");
        let op = operation(&envelope(CREATED, d.clone())).expect("valid");
        let p = Precreate {
            series_id: SeriesId::parse(SERIES).expect("id"),
            occurrence: at(2026, 11, 27, 9),
        };
        assert_eq!(op, Some(Operation::Created(p.clone(), PRECREATE_LEAD_SECS)));
        // Reminders longer than the lead move it: the largest one plus the margin.
        d["task"]["reminders"] = json!(["PT1H", "P1D", "PT0S"]);
        let op = operation(&envelope(CREATED, d.clone())).expect("valid");
        assert_eq!(op, Some(Operation::Created(p.clone(), 86_400 + 300)));
        d["task"]["reminders"] = json!(["PT10M"]);
        let op = operation(&envelope(CREATED, d.clone())).expect("valid");
        assert_eq!(op, Some(Operation::Created(p, PRECREATE_LEAD_SECS)));
        d["task"]["upcoming_occurrence"] = json!("tomorrow");
        assert!(matches!(
            operation(&envelope(CREATED, d)),
            Err(Poison::Data { .. })
        ));
    }

    #[test]
    fn precreate_jobs_are_named_timed_and_read_back() {
        let p = Precreate {
            series_id: SeriesId::parse(SERIES).expect("id"),
            occurrence: at(2026, 11, 27, 9),
        };
        let name = p.job_name();
        assert_eq!(name, format!("precreate-{SERIES}-20261127T090000Z"));
        let job = p.job(at(2026, 11, 26, 8), PRECREATE_LEAD_SECS, 0);
        // A one-hour reminder: 65 minutes ahead, same name.
        let early = p.job(at(2026, 11, 26, 8), precreate_lead_secs(Some(3600)), 0);
        assert_eq!(early["dueTime"], json!("2026-11-27T07:55:00Z"));
        assert_eq!(job["dueTime"], json!("2026-11-27T08:45:00Z"));
        // In a 10-minute herd window this series fires its offset earlier, never later.
        let offset = p.herd_offset(600);
        assert!((0..600).contains(&offset));
        assert_eq!(
            offset,
            (0x1b9f3c2e8a1d4c4e9b7a1f2e3d4c5b6a_u128 % 600) as i64
        );
        assert_eq!(
            p.fire_at(PRECREATE_LEAD_SECS, 600),
            at(2026, 11, 27, 8) + chrono::TimeDelta::seconds(45 * 60 - offset)
        );
        assert_eq!(job["overwrite"], json!(true));
        assert_eq!(
            job["failure_policy"],
            json!({"constant": {"interval": "5s", "max_retries": 3}})
        );
        // Already past its fire time: fire at once.
        assert_eq!(
            p.job(
                at(2026, 11, 27, 8) + chrono::TimeDelta::minutes(50),
                PRECREATE_LEAD_SECS,
                0
            )["dueTime"],
            json!("1s")
        );
        let body = job["data"].to_string();
        assert_eq!(Precreate::from_trigger(&name, body.as_bytes()), Ok(p));
        assert!(Precreate::from_trigger("precreate-other", body.as_bytes()).is_err());
        assert!(Precreate::from_trigger(&name, b"{}").is_err());
        assert!(Precreate::from_trigger(&name, b"garbage").is_err());
    }

    #[test]
    fn completions_of_recurring_instances_are_read() {
        let c = completion(&envelope(COMPLETED, data(Some(SERIES))))
            .expect("valid")
            .expect("recurring");
        assert_eq!(c.event_id, "ev-1");
        assert_eq!(c.task_id.as_str(), TASK);
        assert_eq!(c.series_id.as_str(), SERIES);
        assert_eq!(c.user_id, "u1");
    }

    #[test]
    fn other_types_and_one_off_tasks_are_ignored() {
        assert_eq!(
            completion(&envelope("v1.task.created", data(Some(SERIES)))),
            Ok(None)
        );
        assert_eq!(completion(&envelope(COMPLETED, data(None))), Ok(None));
        // Data of ignored types is not inspected.
        assert_eq!(
            completion(&envelope("v1.task.updated", json!("x"))),
            Ok(None)
        );
    }

    #[test]
    fn series_wide_deletions_cancel_the_job_of_the_upcoming_occurrence() {
        let mut d = data(Some(SERIES));
        d["task"]["upcoming_occurrence"] = json!("2026-11-27T09:00:00Z");
        let p = Precreate {
            series_id: SeriesId::parse(SERIES).expect("id"),
            occurrence: at(2026, 11, 27, 9),
        };
        for scope in ["following", "all"] {
            d["scope"] = json!(scope);
            assert_eq!(
                operation(&envelope(DELETED, d.clone())),
                Ok(Some(Operation::Cancel(p.clone())))
            );
        }
        // Deleting one occurrence keeps the chain.
        d["scope"] = json!("this");
        assert_eq!(operation(&envelope(DELETED, d)), Ok(None));
        assert!(matches!(
            operation(&envelope(DELETED, json!("x"))),
            Err(Poison::Data { .. })
        ));
    }

    const NEW_SERIES: &str = "2b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a";

    fn updated(scope: &str, extra: serde_json::Value) -> Vec<u8> {
        let mut d = data(Some(SERIES));
        d["scope"] = json!(scope);
        if let (Some(o), Some(e)) = (d.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        envelope(UPDATED, d)
    }

    #[test]
    fn rule_changes_and_splits_re_plan_their_series() {
        let series = |ids: &[&str]| {
            Ok(Some(SeriesChange {
                event_id: "ev-1".into(),
                series: ids.iter().filter_map(|i| SeriesId::parse(i)).collect(),
            }))
        };
        assert_eq!(
            modification(&updated("all", json!({"rule_changed": true}))),
            series(&[SERIES])
        );
        assert_eq!(
            modification(&updated(
                "following",
                json!({"rule_changed": true, "new_series_id": NEW_SERIES})
            )),
            series(&[SERIES, NEW_SERIES])
        );
        assert_eq!(
            modification(&updated("following", json!({"new_series_id": NEW_SERIES}))),
            series(&[SERIES, NEW_SERIES])
        );
        // Exceptions and edits that keep the rule change no occurrence.
        assert_eq!(
            modification(&updated("this", json!({"rule_changed": true}))),
            Ok(None)
        );
        assert_eq!(modification(&updated("all", json!({}))), Ok(None));
        // Reminders reaching back further than the default lead move the next job, any scope.
        let with_reminders = |scope: &str, r: serde_json::Value| {
            let mut e: serde_json::Value =
                serde_json::from_slice(&updated(scope, json!({}))).unwrap();
            e["data"]["task"]["reminders"] = r;
            serde_json::to_vec(&e).unwrap()
        };
        assert_eq!(
            modification(&with_reminders("this", json!(["PT5M", "P1D"]))),
            series(&[SERIES])
        );
        assert_eq!(
            modification(&with_reminders("all", json!(["PT11M"]))),
            series(&[SERIES])
        );
        assert_eq!(
            modification(&with_reminders("this", json!(["PT10M", "PT0S"]))),
            Ok(None)
        );
        assert_eq!(
            modification(&envelope(COMPLETED, data(Some(SERIES)))),
            Ok(None)
        );
        assert!(matches!(
            modification(&updated("following", json!({"new_series_id": "nope"}))),
            Err(Poison::Data { .. })
        ));
        assert!(matches!(modification(b"{}"), Err(Poison::Envelope(_))));
    }

    fn chain(frontier: DateTime<Utc>, upcoming: Option<DateTime<Utc>>) -> Chain {
        Chain {
            series_id: SeriesId::parse(SERIES).expect("id"),
            series: schedule::stored_series(
                "FREQ=DAILY",
                "2026-11-01T09:00:00",
                "UTC",
                None,
                Mode::Fixed,
            ),
            active: true,
            frontier: Some(frontier),
            frontier_upcoming: upcoming,
            counted_through: None,
            lead_secs: PRECREATE_LEAD_SECS,
        }
    }

    fn job(o: DateTime<Utc>) -> Option<Precreate> {
        Some(Precreate {
            series_id: SeriesId::parse(SERIES).expect("id"),
            occurrence: o,
        })
    }

    #[test]
    fn resume_schedules_the_next_occurrence_and_counts_missed_ones() {
        let now = at(2026, 11, 26, 8);
        // In order: the chain's job is the next one.
        let ok = resume(&chain(at(2026, 11, 27, 9), Some(at(2026, 11, 28, 9))), now);
        assert_eq!(
            ok,
            Resume {
                schedule: job(at(2026, 11, 28, 9)),
                cancel: None,
                skipped: 0
            }
        );
        // Down since the 22nd: the 23rd, 24th and 25th passed without an instance.
        let mut stuck = chain(at(2026, 11, 22, 9), Some(at(2026, 11, 23, 9)));
        let r = resume(&stuck, now);
        assert_eq!(r.schedule, job(at(2026, 11, 26, 9)));
        assert_eq!(r.skipped, 3);
        assert_eq!(r.cancel, job(at(2026, 11, 23, 9)));
        // Counted already up to the 24th at noon: only the 25th is new.
        stuck.counted_through = Some(at(2026, 11, 24, 12));
        assert_eq!(resume(&stuck, now).skipped, 1);
        // A rule change: the chain's job is for an occurrence the series no longer has.
        let mut edited = chain(at(2026, 11, 27, 9), Some(at(2026, 11, 28, 12)));
        assert_eq!(resume(&edited, now).cancel, job(at(2026, 11, 28, 12)));
        // Inactive series: no job, the pending one is cancelled.
        edited.active = false;
        assert_eq!(
            resume(&edited, now),
            Resume {
                schedule: None,
                cancel: job(at(2026, 11, 28, 12)),
                skipped: 0
            }
        );
    }

    #[test]
    fn poison_is_named() {
        assert!(matches!(completion(b"not json"), Err(Poison::Envelope(_))));
        assert!(matches!(completion(b"{}"), Err(Poison::Envelope(_))));
        for bad in [
            json!({"foo": 1}),
            json!({"task_id": "nope", "user_id": "u", "series_id": SERIES,
                   "task": {"task_id": "x", "title": "t", "status": "completed", "version": 1}}),
            json!({"task_id": TASK, "user_id": "u", "series_id": "nope",
                   "task": {"task_id": TASK, "title": "t", "status": "completed", "version": 1}}),
            json!({"task_id": TASK, "user_id": " ", "series_id": SERIES,
                   "task": {"task_id": TASK, "title": "t", "status": "completed", "version": 1}}),
        ] {
            let e = completion(&envelope(COMPLETED, bad.clone())).expect_err("poison");
            assert!(matches!(e, Poison::Data { .. }), "{bad}: {e}");
            assert!(e.to_string().contains("ev-1"));
        }
    }

    fn stored(mode: Mode, end: Option<DateTime<Utc>>) -> StoredInstance {
        StoredInstance {
            recurrence_id: at(2026, 11, 20, 9),
            rule: "FREQ=DAILY".into(),
            dtstart_local: "2026-11-20T09:00:00".into(),
            tzid: "UTC".into(),
            end_date: end,
            mode,
            completed_at: at(2026, 11, 26, 8),
        }
    }

    fn c() -> Completion {
        Completion {
            event_id: "ev".into(),
            task_id: TaskId::parse(TASK).expect("id"),
            user_id: "u".into(),
            series_id: SeriesId::parse(SERIES).expect("id"),
        }
    }

    #[test]
    fn next_counts_from_the_completion_time_not_from_processing_time() {
        // Fixed grid: missed occurrences before the completion are skipped, as the Task API does.
        let n = next_instance(&c(), &stored(Mode::Fixed, None))
            .expect("ok")
            .expect("next");
        assert_eq!(n.due, at(2026, 11, 26, 9));
        assert_eq!(n.upcoming, Some(at(2026, 11, 27, 9)));
        let n = next_instance(&c(), &stored(Mode::FromCompletion, None))
            .expect("ok")
            .expect("next");
        assert_eq!(n.due, at(2026, 11, 27, 9));
    }

    #[test]
    fn exhausted_rules_answer_none_and_corrupt_series_are_poison() {
        let end = Some(at(2026, 11, 26, 10));
        assert_eq!(
            next_instance(&c(), &stored(Mode::Fixed, end))
                .expect("ok")
                .map(|n| n.due),
            Some(at(2026, 11, 26, 9))
        );
        let end = Some(at(2026, 11, 25, 10));
        assert_eq!(next_instance(&c(), &stored(Mode::Fixed, end)), Ok(None));
        let mut bad = stored(Mode::Fixed, None);
        bad.rule = "FREQ=NEVER".into();
        assert!(matches!(
            next_instance(&c(), &bad),
            Err(Poison::Series { .. })
        ));
    }
}
