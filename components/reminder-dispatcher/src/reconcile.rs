//! The task events consumer: brings a task's reminders in line with the stored task. Pending
//! reminders get a Dapr job at their time (same name, `overwrite`: a moved due date
//! reschedules), reminders of a completed or deleted task are cancelled (job deleted,
//! `v1.reminder.cancelled` published), reminders too far in the past are recorded as missed.
//! Everything is derived from the stored rows, so redelivery and reordering are harmless.

use chrono::Utc;
use component_kit::dapr::{Dapr, DaprError};
use domain::TaskId;
use notify::alert;
use notify::input::{self, TaskChange};
use notify::job::{job_name, ReminderJob};
use notify::sql;

use crate::db::{flag, publish_alert, query, text, time, Verdict};

/// Handles one delivery of `task-operations` or `task-modifications`.
pub async fn handle(body: &[u8]) -> spin_sdk::http::Response {
    let verdict = match input::task_change(body) {
        Ok(None) => Verdict::Success,
        Err(p) => Verdict::Drop(p.to_string()),
        Ok(Some(change)) => match run(&Dapr::from_env(), &change).await {
            Ok(()) => Verdict::Success,
            Err(e) => Verdict::Retry(format!("event {}: {e}", change.event_id)),
        },
    };
    verdict.answer("task events")
}

async fn run(dapr: &Dapr, change: &TaskChange) -> Result<(), DaprError> {
    let rows = query(dapr, &sql::reconcile_task(&change.task_id)).await?;
    let now = Utc::now();
    let (mut scheduled, mut cleared, mut missed) = (Vec::new(), Vec::new(), Vec::new());
    for row in &rows {
        let (Some(reminder_id), Some(task_id), Some(user_id), Some(status)) = (
            text(row, 0).and_then(TaskId::parse),
            text(row, 1).and_then(TaskId::parse),
            text(row, 2),
            text(row, 3),
        ) else {
            eprintln!("notification: unreadable reminder row {row:?}");
            continue;
        };
        let has_job = text(row, 5).is_some();
        match (status, time(row, 4)) {
            ("pending", Some(remind_at)) => {
                let job = ReminderJob {
                    reminder_id: reminder_id.clone(),
                    task_id,
                    user_id: user_id.to_string(),
                    remind_at,
                };
                match job.body(now) {
                    Some(body) => {
                        dapr.schedule_job(&job.name(), &body).await?;
                        scheduled.push((reminder_id, remind_at));
                    }
                    None => {
                        if has_job {
                            dapr.delete_job(&job.name()).await?;
                        }
                        missed.push(reminder_id);
                    }
                }
            }
            _ => {
                if has_job {
                    dapr.delete_job(&job_name(&reminder_id)).await?;
                    cleared.push(reminder_id.clone());
                }
                let newly_cancelled = flag(row, 7);
                if status == "cancelled" && (newly_cancelled || has_job) {
                    let task_status = text(row, 6).unwrap_or("closed");
                    if let Some(ev) =
                        alert::cancelled_event(&reminder_id, &task_id, user_id, task_status, now)
                    {
                        publish_alert(dapr, &ev, user_id).await?;
                    }
                }
            }
        }
    }
    if scheduled.is_empty() && cleared.is_empty() && missed.is_empty() {
        return Ok(());
    }
    let rows = query(dapr, &sql::record_jobs(&scheduled, &cleared, &missed)).await?;
    // A reminder cancelled while its job was being scheduled: delete that job again.
    let orphans = rows.first().and_then(|r| text(r, 0)).unwrap_or_default();
    for id in orphans.split(',').filter_map(TaskId::parse) {
        dapr.delete_job(&job_name(&id)).await?;
    }
    Ok(())
}
