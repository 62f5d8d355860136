//! The Dapr job of one reminder: a one-shot job whose name is derived from the reminder id alone,
//! so scheduling a reminder again (a moved due date) overwrites its job, and cancelling deletes
//! it by name. Only the app id that scheduled a job receives its trigger, so the notification
//! service schedules its own jobs.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{json, Value};

use domain::{ReminderId, TaskId};

use crate::Poison;

/// Prefix of every reminder job name.
pub const JOB_PREFIX: &str = "reminder-";

/// A reminder found later than this when it is scheduled (a backlog, an instance created late)
/// is still sent at once; older ones are recorded as missed instead of arriving out of context.
pub const LATE_GRACE_SECS: i64 = 10 * 60;

/// How far ahead a reminder gets its Dapr job. A reminder further ahead waits as a stored row
/// (no scheduler entry, no Jobs API call when its task is written) until the recurring
/// [`HORIZON_JOB`] finds it inside the horizon. Far-future reminders then cost the scheduler
/// nothing until their last two days, and its store holds about two days of reminders.
pub const HORIZON_SECS: i64 = 48 * 3600;

/// The recurring job that schedules reminders entering the horizon (outside [`JOB_PREFIX`]).
pub const HORIZON_JOB: &str = "horizon-reminders";

/// How often [`HORIZON_JOB`] runs: far more often than [`HORIZON_SECS`], so a reminder is
/// scheduled at least a day before its time even when several runs fail in a row.
pub const HORIZON_EVERY: &str = "@every 1h";

/// Whether a reminder at `remind_at` is beyond the horizon at `now` (no job yet).
pub fn beyond_horizon(remind_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    remind_at > now + TimeDelta::seconds(HORIZON_SECS)
}

/// The job's failure policy: a trigger answered with an error is retried 3 times, 5 s apart.
pub fn failure_policy() -> Value {
    json!({"constant": {"interval": "5s", "max_retries": 3}})
}

/// The job name of a reminder.
pub fn job_name(reminder_id: &ReminderId) -> String {
    format!("{JOB_PREFIX}{}", reminder_id.as_str())
}

/// When a reminder's job fires, relative to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// At the reminder time (still ahead).
    At(DateTime<Utc>),
    /// At once: the time has just passed (within [`LATE_GRACE_SECS`]).
    Now,
    /// Not at all: the time passed too long ago.
    Missed,
}

/// Decides when a reminder due at `remind_at` fires.
pub fn timing(remind_at: DateTime<Utc>, now: DateTime<Utc>) -> Timing {
    if remind_at > now {
        Timing::At(remind_at)
    } else if now - remind_at <= TimeDelta::seconds(LATE_GRACE_SECS) {
        Timing::Now
    } else {
        Timing::Missed
    }
}

/// RFC 3339 in UTC with milliseconds.
pub fn rfc3339_ms(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One reminder's job: what the trigger needs to publish `v1.reminder.due` without a database
/// call (the alerts consumer checks the stored reminder before delivering).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderJob {
    /// The reminder.
    pub reminder_id: ReminderId,
    /// Its task.
    pub task_id: TaskId,
    /// The task's owner (the Kafka key of the event).
    pub user_id: String,
    /// The reminder time the job was scheduled for.
    pub remind_at: DateTime<Utc>,
}

impl ReminderJob {
    /// The job name (see [`job_name`]).
    pub fn name(&self) -> String {
        job_name(&self.reminder_id)
    }

    /// The Jobs API body: one shot at the reminder time (in one second when [`Timing::Now`]),
    /// `overwrite`, constant failure policy 5 s × 3. `None` for [`Timing::Missed`].
    pub fn body(&self, now: DateTime<Utc>) -> Option<Value> {
        let due = match timing(self.remind_at, now) {
            Timing::At(t) => rfc3339_ms(t),
            Timing::Now => "1s".to_string(),
            Timing::Missed => return None,
        };
        Some(json!({
            "dueTime": due,
            "overwrite": true,
            "failure_policy": failure_policy(),
            "data": {
                "reminder_id": self.reminder_id.as_str(),
                "task_id": self.task_id.as_str(),
                "user_id": self.user_id,
                "remind_at": rfc3339_ms(self.remind_at),
            },
        }))
    }

    /// Reads a job trigger: the body is the job's `data`; it must match the job name.
    pub fn from_trigger(name: &str, body: &[u8]) -> Result<Self, Poison> {
        let bad = |reason: String| Poison::Data {
            event_id: name.to_string(),
            reason,
        };
        let v: Value = serde_json::from_slice(body).map_err(|e| bad(format!("job data: {e}")))?;
        let id = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .filter(|t| TaskId::parse(t).is_some())
                .ok_or_else(|| bad(format!("job data needs a {k} UUID")))
        };
        let reminder_id =
            ReminderId::parse(id("reminder_id")?).ok_or_else(|| bad("reminder_id".into()))?;
        let task_id = TaskId::parse(id("task_id")?).ok_or_else(|| bad("task_id".into()))?;
        let user_id = v
            .get("user_id")
            .and_then(Value::as_str)
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| bad("job data needs a user_id".into()))?
            .to_string();
        let remind_at = v
            .get("remind_at")
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .ok_or_else(|| bad("job data needs an RFC 3339 remind_at".into()))?
            .with_timezone(&Utc);
        let job = Self {
            reminder_id,
            task_id,
            user_id,
            remind_at,
        };
        if job.name() != name {
            return Err(bad(format!("job data names {}", job.name())));
        }
        Ok(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const REMINDER: &str = "2b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a";
    const TASK: &str = "0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a";

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, h, m, s)
            .single()
            .unwrap_or_default()
    }

    fn job() -> ReminderJob {
        ReminderJob {
            reminder_id: ReminderId::parse(REMINDER).expect("id"),
            task_id: TaskId::parse(TASK).expect("id"),
            user_id: "u1".into(),
            remind_at: at(9, 0, 0),
        }
    }

    #[test]
    fn names_depend_on_the_reminder_only() {
        let mut other_time = job();
        other_time.remind_at = at(10, 0, 0);
        assert_eq!(job().name(), format!("reminder-{REMINDER}"));
        assert_eq!(job().name(), other_time.name());
    }

    #[test]
    fn timing_fires_ahead_now_or_never() {
        assert_eq!(timing(at(9, 0, 0), at(8, 0, 0)), Timing::At(at(9, 0, 0)));
        assert_eq!(timing(at(9, 0, 0), at(9, 0, 0)), Timing::Now);
        assert_eq!(timing(at(9, 0, 0), at(9, 10, 0)), Timing::Now);
        assert_eq!(timing(at(9, 0, 0), at(9, 10, 1)), Timing::Missed);
    }

    #[test]
    fn body_is_a_one_shot_with_overwrite_and_the_failure_policy() {
        let b = job().body(at(8, 0, 0)).expect("ahead");
        assert_eq!(b["dueTime"], json!("2026-11-26T09:00:00.000Z"));
        assert_eq!(b["overwrite"], json!(true));
        assert_eq!(
            b["failure_policy"],
            json!({"constant": {"interval": "5s", "max_retries": 3}})
        );
        assert_eq!(
            job().body(at(9, 5, 0)).expect("late")["dueTime"],
            json!("1s")
        );
        assert_eq!(job().body(at(10, 0, 0)), None);
    }

    #[test]
    fn triggers_read_back_the_job_and_refuse_mismatches() {
        let data = job().body(at(8, 0, 0)).expect("ahead")["data"].to_string();
        assert_eq!(
            ReminderJob::from_trigger(&job().name(), data.as_bytes()),
            Ok(job())
        );
        assert!(ReminderJob::from_trigger("reminder-other", data.as_bytes()).is_err());
        assert!(ReminderJob::from_trigger(&job().name(), b"{}").is_err());
        assert!(ReminderJob::from_trigger(&job().name(), b"garbage").is_err());
        let mut v: Value = serde_json::from_str(&data).expect("json");
        v["user_id"] = json!("");
        assert!(ReminderJob::from_trigger(&job().name(), v.to_string().as_bytes()).is_err());
    }
}
