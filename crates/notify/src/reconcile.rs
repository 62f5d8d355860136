//! What to do with each reminder `store::reminders::reconcile_tasks` answers: schedule its job, record
//! it missed, or delete its job (and announce the cancellation).

use chrono::{DateTime, Utc};
use serde_json::Value;

use domain::{ReminderId, TaskId};

use crate::job::ReminderJob;

/// One row of `store::reminders::reconcile_tasks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderRow {
    /// The reminder.
    pub reminder_id: ReminderId,
    /// Its task.
    pub task_id: TaskId,
    /// The owner.
    pub user_id: String,
    /// `pending`, `sent`, `cancelled` or `missed` after the reconciliation.
    pub status: String,
    /// Its time (none when the task has no due date).
    pub remind_at: Option<DateTime<Utc>>,
    /// Whether a job is recorded for it.
    pub has_job: bool,
    /// The task's status.
    pub task_status: String,
    /// Cancelled by this reconciliation.
    pub newly_cancelled: bool,
}

/// The work for one reminder.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    /// Schedule (or overwrite) its job with this Jobs API body.
    Schedule {
        /// The job.
        job: ReminderJob,
        /// The Jobs API body.
        body: Value,
    },
    /// Too late to send: record it missed, deleting its job first if it has one.
    Missed {
        /// The job to delete, if any.
        delete_job: Option<String>,
    },
    /// Nothing yet: pending, without a job, and beyond the horizon ([`crate::job::HORIZON_SECS`]);
    /// the horizon job schedules it later.
    Later,
    /// No job any more (cancelled, or no due date): delete it if it has one (a cancellation's
    /// event is written to the outbox by the reconcile statement itself).
    Clear {
        /// The job to delete, if any.
        delete_job: Option<String>,
    },
}

/// Decides the work for one reminder at `now`.
pub fn plan(row: &ReminderRow, now: DateTime<Utc>) -> Work {
    let job_name = crate::job::job_name(&row.reminder_id);
    match (row.status.as_str(), row.remind_at) {
        ("pending", Some(remind_at))
            if !row.has_job && crate::job::beyond_horizon(remind_at, now) =>
        {
            Work::Later
        }
        ("pending", Some(remind_at)) => {
            let job = ReminderJob {
                reminder_id: row.reminder_id.clone(),
                task_id: row.task_id.clone(),
                user_id: row.user_id.clone(),
                remind_at,
            };
            match job.body(now) {
                Some(body) => Work::Schedule { job, body },
                None => Work::Missed {
                    delete_job: row.has_job.then_some(job_name),
                },
            }
        }
        _ => Work::Clear {
            delete_job: row.has_job.then_some(job_name),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, h, m, 0)
            .single()
            .unwrap_or_default()
    }

    fn row(status: &str, remind_at: Option<DateTime<Utc>>, has_job: bool) -> ReminderRow {
        ReminderRow {
            reminder_id: ReminderId::parse("2b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a").expect("id"),
            task_id: TaskId::parse("0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a").expect("id"),
            user_id: "u1".into(),
            status: status.into(),
            remind_at,
            has_job,
            task_status: "completed".into(),
            newly_cancelled: false,
        }
    }

    const JOB: &str = "reminder-2b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a";

    #[test]
    fn pending_reminders_are_scheduled_at_their_time() {
        let Work::Schedule { job, body } = plan(&row("pending", Some(at(9, 0)), false), at(8, 0))
        else {
            unreachable!("expected a schedule")
        };
        assert_eq!(job.name(), JOB);
        assert_eq!(body["dueTime"], "2026-11-26T09:00:00.000Z");
    }

    #[test]
    fn reminders_beyond_the_horizon_wait_without_a_job() {
        let now = at(8, 0);
        let edge = now + chrono::TimeDelta::seconds(crate::job::HORIZON_SECS);
        assert_eq!(
            plan(
                &row("pending", Some(edge + chrono::TimeDelta::seconds(1)), false),
                now
            ),
            Work::Later
        );
        // At the edge the job is scheduled.
        assert!(matches!(
            plan(&row("pending", Some(edge), false), now),
            Work::Schedule { .. }
        ));
        // A reminder that has a job keeps one at its new time, however far (overwrite).
        let Work::Schedule { body, .. } = plan(
            &row("pending", Some(edge + chrono::TimeDelta::days(30)), true),
            now,
        ) else {
            unreachable!("expected a schedule")
        };
        assert_eq!(body["overwrite"], true);
    }

    #[test]
    fn reminders_past_their_grace_are_missed_and_lose_their_job() {
        assert_eq!(
            plan(&row("pending", Some(at(9, 0)), true), at(10, 0)),
            Work::Missed {
                delete_job: Some(JOB.into())
            }
        );
        assert_eq!(
            plan(&row("pending", Some(at(9, 0)), false), at(10, 0)),
            Work::Missed { delete_job: None }
        );
    }

    #[test]
    fn cancelled_reminders_and_removed_due_dates_lose_their_job() {
        assert_eq!(
            plan(&row("cancelled", Some(at(9, 0)), true), at(8, 0)),
            Work::Clear {
                delete_job: Some(JOB.into())
            }
        );
        // Cancelled now but never scheduled: nothing to delete.
        let mut r = row("cancelled", Some(at(9, 0)), false);
        r.newly_cancelled = true;
        assert_eq!(plan(&r, at(8, 0)), Work::Clear { delete_job: None });
        // A due date removed: the job goes.
        assert_eq!(
            plan(&row("pending", None, true), at(8, 0)),
            Work::Clear {
                delete_job: Some(JOB.into())
            }
        );
    }
}
