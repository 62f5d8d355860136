//! Whether each reminder's Dapr job is scheduled. Only the notification service can tell (a job
//! is visible to the app id that scheduled it alone), so the Task API asks it by Dapr service
//! invocation: `GET /internal/reminder-jobs?ids=<reminder id>,...` ([`ROUTE`], [`query`]); the
//! service reads each job from its sidecar's Jobs API ([`read_job`]) and answers [`JobStates`].
//! The Task API joins that answer with the task's stored reminders ([`views`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use domain::ReminderId;

use crate::job::{job_name, rfc3339_ms};

/// The notification service's route (reached by service invocation only).
pub const ROUTE: &str = "/internal/reminder-jobs";

/// The notification service's Dapr app id.
pub const APP_ID: &str = "notification";

/// The notification service's route base (`ROUTE_PREFIX` in spin.toml, `routePrefix` in the
/// chart): Spin routes `/notification/...` to its component, which strips the base.
pub const ROUTE_BASE: &str = "/notification";

/// The method path the Task API invokes on [`APP_ID`] for `ids`.
pub fn invoke_path(ids: &[ReminderId]) -> String {
    format!("{ROUTE_BASE}{ROUTE}?{}", query(ids))
}

/// Most ids one request may name (a task's reminder limit).
pub const MAX_IDS: usize = domain::input::MAX_REMINDERS;

/// Why a request's `ids` cannot be read (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadIds {
    /// No `ids` parameter.
    #[error("query parameter ids is required")]
    Missing,
    /// An entry is not a UUID.
    #[error("ids: {0:?} is not a reminder id")]
    NotAnId(String),
    /// More than [`MAX_IDS`] entries.
    #[error("ids: at most {MAX_IDS} reminder ids")]
    TooMany,
}

/// The query string naming `ids` (`ids=a,b`; empty for none).
pub fn query(ids: &[ReminderId]) -> String {
    let list: Vec<&str> = ids.iter().map(ReminderId::as_str).collect();
    format!("ids={}", list.join(","))
}

/// Reads the `ids` parameter: comma-separated reminder ids, at most [`MAX_IDS`]; empty entries
/// are skipped, duplicates kept once.
pub fn parse_ids(raw: Option<&str>) -> Result<Vec<ReminderId>, BadIds> {
    let raw = raw.ok_or(BadIds::Missing)?;
    let mut ids: Vec<ReminderId> = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id = ReminderId::parse(part).ok_or_else(|| BadIds::NotAnId(part.to_string()))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.len() > MAX_IDS {
        return Err(BadIds::TooMany);
    }
    Ok(ids)
}

/// Why the sidecar's answer about a job cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobReadError {
    /// The Jobs API failed (scheduler unreachable, ...).
    #[error("Jobs API answered {status}: {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The answer body.
        body: String,
    },
    /// A 200 whose body is not a job.
    #[error("unreadable job: {0}")]
    Decode(String),
}

/// A job the scheduler holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundJob {
    /// Its `dueTime` as the Jobs API shows it (RFC 3339 or a duration), if any.
    pub due_time: Option<String>,
}

/// Reads the sidecar's answer to `GET /v1.0-alpha1/jobs/{name}`: 200 is the job; a missing job
/// is a 500 whose message says `job not found` (Dapr 1.18; `None`); any other answer is an error.
pub fn read_job(status: u16, body: &[u8]) -> Result<Option<FoundJob>, JobReadError> {
    let text = || String::from_utf8_lossy(body).into_owned();
    match status {
        200 => {
            let v: Value =
                serde_json::from_slice(body).map_err(|e| JobReadError::Decode(e.to_string()))?;
            if !v.is_object() {
                return Err(JobReadError::Decode(format!("expected a job, got {v}")));
            }
            Ok(Some(FoundJob {
                due_time: v.get("dueTime").and_then(Value::as_str).map(str::to_string),
            }))
        }
        500 if text().contains("job not found") => Ok(None),
        _ => Err(JobReadError::Status {
            status,
            body: text(),
        }),
    }
}

/// One reminder's job as the notification service reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobState {
    /// The reminder.
    pub reminder_id: String,
    /// Its job's name.
    pub job_name: String,
    /// Whether the scheduler holds the job.
    pub scheduled: bool,
    /// The job's `dueTime` when scheduled.
    pub due_time: Option<String>,
}

impl JobState {
    /// The state of `id`'s job from [`read_job`]'s result.
    pub fn of(id: &ReminderId, found: Option<FoundJob>) -> Self {
        Self {
            reminder_id: id.as_str().to_string(),
            job_name: job_name(id),
            scheduled: found.is_some(),
            due_time: found.and_then(|f| f.due_time),
        }
    }
}

/// The notification service's answer: one state per requested id, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobStates {
    /// The states.
    pub jobs: Vec<JobState>,
}

/// A stored reminder of the user's task, as the Task API reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReminder {
    /// The reminder.
    pub reminder_id: ReminderId,
    /// Its offset before the due date (ISO 8601 duration).
    pub offset: String,
    /// When it fires (none without a due date).
    pub remind_at: Option<DateTime<Utc>>,
    /// `pending`, `sent`, `missed` or `cancelled`.
    pub status: String,
}

/// The job part of a [`ReminderView`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobView {
    /// The job's name.
    pub name: String,
    /// Whether the Dapr scheduler holds it.
    pub scheduled: bool,
    /// Its `dueTime` when scheduled.
    pub due_time: Option<String>,
}

/// One reminder of `GET /api/tasks/{id}/reminders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReminderView {
    /// The reminder.
    pub reminder_id: String,
    /// Its offset before the due date.
    pub offset: String,
    /// When it fires (RFC 3339, milliseconds), null without a due date.
    pub remind_at: Option<String>,
    /// Its delivery status.
    pub status: String,
    /// Its Dapr job.
    pub job: JobView,
}

/// The answer named no state for this reminder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the notification service answered no job state for reminder {0}")]
pub struct MissingState(pub String);

/// Joins stored reminders with the notification service's answer, keeping the stored order.
pub fn views(
    stored: &[StoredReminder],
    answer: &JobStates,
) -> Result<Vec<ReminderView>, MissingState> {
    stored
        .iter()
        .map(|r| {
            let state = answer
                .jobs
                .iter()
                .find(|s| s.reminder_id == r.reminder_id.as_str())
                .ok_or_else(|| MissingState(r.reminder_id.as_str().to_string()))?;
            Ok(ReminderView {
                reminder_id: r.reminder_id.as_str().to_string(),
                offset: r.offset.clone(),
                remind_at: r.remind_at.map(rfc3339_ms),
                status: r.status.clone(),
                job: JobView {
                    name: state.job_name.clone(),
                    scheduled: state.scheduled,
                    due_time: state.due_time.clone(),
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const A: &str = "2b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a";
    const B: &str = "0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a";

    fn id(s: &str) -> ReminderId {
        ReminderId::parse(s).expect("uuid")
    }

    #[test]
    fn ids_round_trip_through_the_query() {
        let ids = vec![id(A), id(B)];
        let q = query(&ids);
        assert_eq!(q, format!("ids={A},{B}"));
        assert_eq!(
            invoke_path(&ids),
            format!("/notification/internal/reminder-jobs?ids={A},{B}")
        );
        assert_eq!(parse_ids(q.strip_prefix("ids=")), Ok(ids));
        assert_eq!(parse_ids(Some("")), Ok(vec![]));
        assert_eq!(parse_ids(Some(&format!("{A},{A}"))), Ok(vec![id(A)]));
    }

    #[test]
    fn bad_ids_are_refused() {
        assert_eq!(parse_ids(None), Err(BadIds::Missing));
        assert_eq!(parse_ids(Some("x")), Err(BadIds::NotAnId("x".to_string())));
        let many: Vec<String> = (0..=MAX_IDS)
            .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
            .collect();
        assert_eq!(parse_ids(Some(&many.join(","))), Err(BadIds::TooMany));
    }

    #[test]
    fn job_answers_are_read_as_found_missing_or_failed() {
        let found = br#"{"name":"reminder-x","dueTime":"2026-11-26T09:00:00.000Z","data":{}}"#;
        assert_eq!(
            read_job(200, found),
            Ok(Some(FoundJob {
                due_time: Some("2026-11-26T09:00:00.000Z".into())
            }))
        );
        // Dapr 1.18's answer for a missing job, as the test stack's sidecar gives it.
        let missing = br#"{"errorCode":"DAPR_SCHEDULER_GET_JOB","message":"failed to get job due to: rpc error: code = NotFound desc = job not found: reminder-x"}"#;
        assert_eq!(read_job(500, missing), Ok(None));
        let down = br#"{"errorCode":"DAPR_SCHEDULER_GET_JOB","message":"failed to get job due to: rpc error: code = Unavailable"}"#;
        assert!(matches!(
            read_job(500, down),
            Err(JobReadError::Status { status: 500, .. })
        ));
        assert!(matches!(read_job(200, b"[]"), Err(JobReadError::Decode(_))));
        assert!(matches!(
            read_job(200, b"nope"),
            Err(JobReadError::Decode(_))
        ));
    }

    #[test]
    fn views_join_stored_reminders_with_their_job_state() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 26, 9, 0, 0)
            .single()
            .expect("time");
        let stored = vec![
            StoredReminder {
                reminder_id: id(A),
                offset: "PT1H".into(),
                remind_at: Some(at),
                status: "pending".into(),
            },
            StoredReminder {
                reminder_id: id(B),
                offset: "PT0S".into(),
                remind_at: None,
                status: "pending".into(),
            },
        ];
        let answer = JobStates {
            jobs: vec![
                JobState::of(&id(B), None),
                JobState::of(
                    &id(A),
                    Some(FoundJob {
                        due_time: Some("2026-11-26T09:00:00.000Z".into()),
                    }),
                ),
            ],
        };
        let v = views(&stored, &answer).expect("joined");
        assert_eq!(v[0].reminder_id, A);
        assert_eq!(v[0].remind_at.as_deref(), Some("2026-11-26T09:00:00.000Z"));
        assert_eq!(
            v[0].job,
            JobView {
                name: format!("reminder-{A}"),
                scheduled: true,
                due_time: Some("2026-11-26T09:00:00.000Z".into())
            }
        );
        assert!(!v[1].job.scheduled && v[1].remind_at.is_none());
        let partial = JobStates {
            jobs: vec![answer.jobs[0].clone()],
        };
        assert_eq!(views(&stored, &partial), Err(MissingState(A.to_string())));
    }
}
