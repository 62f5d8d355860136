//! The task events consumer: brings a task's reminders in line with the stored task. Pending
//! reminders get a Dapr job at their time (same name, `overwrite`: a moved due date
//! reschedules), reminders of a completed or deleted task are cancelled (job deleted,
//! `v1.reminder.cancelled` written to the outbox with the cancellation and published from it),
//! reminders too far in the past are recorded as missed.
//! Everything is derived from the stored rows, so redelivery and reordering are harmless.

use chrono::Utc;
use component_kit::dapr::{Dapr, DaprError};
use component_kit::outbox;
use domain::ReminderId;
use notify::input::{self, TaskChange};
use notify::job::job_name;
use notify::reconcile::{self, Work};

use crate::db::{query, Verdict};

/// Handles one delivery of `task-operations` or `task-modifications`.
pub async fn handle(body: &[u8]) -> component_kit::delivery::Status {
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
    let rows = query(dapr, &store::reminders::reconcile_task(&change.task_id)).await?;
    let now = Utc::now();
    let (mut scheduled, mut cleared, mut missed) = (Vec::new(), Vec::new(), Vec::new());
    for raw in &rows {
        let Some(row) = raw.plan_row() else {
            component_kit::error!("notification: unreadable reminder row {raw:?}");
            continue;
        };
        match reconcile::plan(&row, now) {
            Work::Schedule { job, body } => {
                dapr.schedule_job(&job.name(), &body).await?;
                scheduled.push((row.reminder_id, job.remind_at));
            }
            Work::Missed { delete_job } => {
                if let Some(name) = delete_job {
                    dapr.delete_job(&name).await?;
                }
                missed.push(row.reminder_id);
            }
            Work::Clear { delete_job } => {
                if let Some(name) = delete_job {
                    dapr.delete_job(&name).await?;
                    cleared.push(row.reminder_id.clone());
                }
            }
        }
    }
    // The cancellations this statement committed, with their outbox rows: published now; a
    // failure is left to the outbox's repair jobs (never lost with a redelivery that no longer
    // sees the reminder as newly cancelled).
    let cancellations = rows.first().map(|r| r.events.0.clone()).unwrap_or_default();
    if !cancellations.is_empty() {
        outbox::publish(dapr, &cancellations).await;
    }
    if scheduled.is_empty() && cleared.is_empty() && missed.is_empty() {
        return Ok(());
    }
    let rows = query(
        dapr,
        &store::reminders::record_jobs(&scheduled, &cleared, &missed),
    )
    .await?;
    // A reminder cancelled while its job was being scheduled: delete that job again.
    let orphans = rows.first().map(|r| r.orphans.as_str()).unwrap_or_default();
    for id in orphans.split(',').filter_map(ReminderId::parse) {
        dapr.delete_job(&job_name(&id)).await?;
    }
    Ok(())
}
