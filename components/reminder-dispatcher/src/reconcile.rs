//! The task events consumer: brings tasks' reminders in line with the stored tasks. Pending
//! reminders get a Dapr job at their time (same name, `overwrite`: a moved due date
//! reschedules), reminders of a completed or deleted task are cancelled (job deleted,
//! `v1.reminder.cancelled` written to the outbox with the cancellation and published from it),
//! reminders too far in the past are recorded as missed, and reminders beyond the horizon
//! (`notify::job::HORIZON_SECS`) wait without a job for the horizon job (`horizon`).
//! Everything is derived from the stored rows, so redelivery and reordering are harmless, and a
//! bulk delivery is handled as one set: one statement for all its tasks, their job calls side by
//! side, one statement recording them.

use chrono::Utc;
use component_kit::dapr::{Dapr, DaprError};
use component_kit::delivery::{Entry, Status};
use component_kit::outbox;
use domain::{ReminderId, TaskId};
use futures::stream::{self, StreamExt};
use notify::input;
use notify::job::job_name;
use notify::reconcile::{self, Work};
use serde_json::Value;

use crate::db::{query, Verdict};

/// Job calls (schedule or delete) a delivery has under way at once.
const JOB_CALLS_IN_FLIGHT: usize = 64;

/// Handles one delivery of `task-operations` or `task-modifications`.
pub async fn handle(body: &[u8]) -> Status {
    let verdict = match input::task_change(body) {
        Ok(None) => Verdict::Success,
        Err(p) => Verdict::Drop(p.to_string()),
        Ok(Some(change)) => {
            match reconcile(&Dapr::from_env(), vec![change.task_id.clone()]).await {
                Ok(()) => Verdict::Success,
                Err(e) => Verdict::Retry(format!("event {}: {e}", change.event_id)),
            }
        }
    };
    verdict.answer("task events")
}

/// Handles a bulk delivery: poison is `DROP`, events that cannot touch reminders `SUCCESS`, and
/// the tasks the others name are reconciled together; if that fails, each of them is `RETRY`
/// (reconciling again is harmless, so the ones that were done cost only the repeat).
pub async fn handle_bulk(entries: Vec<Entry>) -> Vec<(String, Status)> {
    let mut statuses = Vec::with_capacity(entries.len());
    let mut changes = Vec::new();
    // Beside each change, the index of its entry's status.
    let mut at = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let verdict = match input::task_change(&entry.event) {
            Ok(Some(change)) => {
                changes.push(change);
                at.push(i);
                Verdict::Success
            }
            Ok(None) => Verdict::Success,
            Err(p) => Verdict::Drop(p.to_string()),
        };
        statuses.push((entry.entry_id, verdict.answer("task events")));
    }
    if changes.is_empty() {
        return statuses;
    }
    let tasks = changes.iter().map(|c| c.task_id.clone()).collect();
    if let Err(e) = reconcile(&Dapr::from_env(), tasks).await {
        for (&i, change) in at.iter().zip(&changes) {
            let why = format!("event {} (bulk of {}): {e}", change.event_id, changes.len());
            statuses[i].1 = Verdict::Retry(why).answer("task events");
        }
    }
    statuses
}

/// One job call of a reconciliation.
enum JobCall {
    Schedule(String, Value),
    Delete(String),
}

async fn call(dapr: &Dapr, job: JobCall) -> Result<(), DaprError> {
    match job {
        JobCall::Schedule(name, body) => dapr.schedule_job(&name, &body).await.map(|_| ()),
        JobCall::Delete(name) => dapr.delete_job(&name).await,
    }
}

/// Makes every job call, [`JOB_CALLS_IN_FLIGHT`] at a time; the first error if any failed.
async fn call_all(dapr: &Dapr, jobs: Vec<JobCall>) -> Result<(), DaprError> {
    let results: Vec<Result<(), DaprError>> = stream::iter(jobs)
        .map(|job| call(dapr, job))
        .buffer_unordered(JOB_CALLS_IN_FLIGHT)
        .collect()
        .await;
    results.into_iter().collect()
}

/// Reconciles the reminders of `tasks` (each task once), for the task events and the horizon
/// job.
pub async fn reconcile(dapr: &Dapr, mut tasks: Vec<TaskId>) -> Result<(), DaprError> {
    tasks.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    tasks.dedup();
    let rows = query(dapr, &store::reminders::reconcile_tasks(&tasks)).await?;
    let now = Utc::now();
    let (mut scheduled, mut cleared, mut missed) = (Vec::new(), Vec::new(), Vec::new());
    let mut jobs = Vec::new();
    for raw in &rows {
        let Some(row) = raw.plan_row() else {
            component_kit::error!("notification: unreadable reminder row {raw:?}");
            continue;
        };
        match reconcile::plan(&row, now) {
            Work::Schedule { job, body } => {
                jobs.push(JobCall::Schedule(job.name(), body));
                scheduled.push((row.reminder_id, job.remind_at));
            }
            Work::Missed { delete_job } => {
                jobs.extend(delete_job.map(JobCall::Delete));
                missed.push(row.reminder_id);
            }
            Work::Later => {}
            Work::Clear { delete_job } => {
                if let Some(name) = delete_job {
                    jobs.push(JobCall::Delete(name));
                    cleared.push(row.reminder_id.clone());
                }
            }
        }
    }
    // The cancellations the statement committed, with their outbox rows, are published beside the
    // job calls (committed either way), one bulk call for the lot; a failure is left to the
    // outbox's repair jobs (never lost with a redelivery that no longer sees the reminder as
    // newly cancelled).
    let cancellations = rows
        .first()
        .map(|r| r.events.0.as_slice())
        .unwrap_or_default();
    let publish = async {
        if !cancellations.is_empty() {
            outbox::publish_bulk(dapr, cancellations).await;
        }
    };
    let (calls, ()) = futures::join!(call_all(dapr, jobs), publish);
    calls?;
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
    let again = orphans
        .split(',')
        .filter_map(ReminderId::parse)
        .map(|id| JobCall::Delete(job_name(&id)))
        .collect();
    call_all(dapr, again).await
}
