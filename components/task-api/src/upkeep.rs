//! The Task API's upkeep: publishing outbox events right after the commit and again from the
//! repair jobs, and the retention job.

use component_kit::dapr::{Dapr, DaprError};
use serde_json::json;

use component_kit::db::{exec, query};
/// One-shot job scheduled when a publish fails.
pub const REPAIR_JOB: &str = "outbox-repair";
/// Recurring safety net over the index of unpublished rows (covers a crash between commit and
/// publish, when no one-shot job could be scheduled).
pub const SWEEP_JOB: &str = "outbox-sweep";
/// How often the safety net runs.
pub const SWEEP_EVERY: &str = "@every 15s";
/// Recurring job deleting bookkeeping rows past their retention (`store::retention`).
pub const RETENTION_JOB: &str = "retention";
/// How often it runs.
pub const RETENTION_EVERY: &str = "@every 10m";
/// Most batches of one table a retention run deletes (the next run takes the rest).
pub const RETENTION_MAX_BATCHES: u32 = 20;
/// Most rows one repair run publishes.
pub const REPAIR_BATCH: u32 = 200;

pub use component_kit::outbox::{OutboxEvent, Published};

/// Publishes a write's events in order and marks them published; failures are counted on their
/// rows and a one-shot repair job is scheduled. Never fails the caller: the events are committed.
pub async fn publish(dapr: &Dapr, events: &[OutboxEvent]) -> Published {
    let result = component_kit::outbox::publish(dapr, events).await;
    if result.failed > 0 {
        schedule_repair(dapr).await;
    }
    result
}

/// Schedules (or moves) the one-shot repair job a few seconds ahead.
pub async fn schedule_repair(dapr: &Dapr) {
    let job = json!({
        "dueTime": "3s",
        "data": {"reason": "publish failed"},
        "overwrite": true,
        "failure_policy": {"constant": {"interval": "5s", "max_retries": 20}},
    });
    match dapr.schedule_job(REPAIR_JOB, &job).await {
        Ok(_) => {
            let _ = exec(
                dapr,
                &store::jobs::record_job(REPAIR_JOB, "outbox", &job, false),
            )
            .await;
        }
        Err(err) => component_kit::warn!(
            "task-api: scheduling {REPAIR_JOB} failed (the {SWEEP_JOB} job remains): {err}"
        ),
    }
}

/// Makes sure the recurring jobs exist, the outbox safety net and retention (idempotent: an
/// existing job is kept).
pub async fn ensure_sweep(dapr: &Dapr) -> Result<(), DaprError> {
    for (name, kind, every, reason) in [
        (SWEEP_JOB, "outbox", SWEEP_EVERY, "safety net"),
        (RETENTION_JOB, "retention", RETENTION_EVERY, "retention"),
    ] {
        let job = json!({"schedule": every, "data": {"reason": reason}});
        if dapr.schedule_job(name, &job).await? {
            let _ = exec(dapr, &store::jobs::record_job(name, kind, &job, false)).await;
        }
    }
    Ok(())
}

/// One retention run: each table's purge statement, batch after batch while batches come back
/// full (at most [`RETENTION_MAX_BATCHES`]). Answers the rows deleted per table.
pub async fn purge(dapr: &Dapr) -> Result<Vec<(String, u64)>, DaprError> {
    let retention = store::retention::Retention::from_lookup(|k| std::env::var(k).ok());
    let mut deleted = Vec::new();
    for statement in retention.purges() {
        let mut total = 0u64;
        let mut table = String::new();
        for _ in 0..RETENTION_MAX_BATCHES {
            let rows = query(dapr, &statement).await?;
            let Some(row) = rows.first() else { break };
            table.clone_from(&row.table_name);
            let n = u64::try_from(row.deleted).unwrap_or(0);
            total += n;
            if n < u64::from(store::retention::BATCH) {
                break;
            }
        }
        deleted.push((table, total));
    }
    let _ = exec(
        dapr,
        &store::jobs::record_job(
            RETENTION_JOB,
            "retention",
            &json!({"deleted": deleted}),
            true,
        ),
    )
    .await;
    Ok(deleted)
}

/// One repair run: publishes the due outbox rows in their written order (a failed row waits
/// with backoff and is parked when it keeps failing; `store::outbox::mark_failed`). Answers how
/// many were published, are still pending and were parked.
pub async fn repair(dapr: &Dapr, job: &str) -> Result<Published, DaprError> {
    let total = component_kit::outbox::republish_due(dapr, REPAIR_BATCH).await?;
    let _ = exec(
        dapr,
        &store::jobs::record_job(
            job,
            "outbox",
            &json!({"published": total.ok, "failed": total.failed, "parked": total.parked}),
            true,
        ),
    )
    .await;
    Ok(total)
}
