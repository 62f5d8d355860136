//! Runs the domain's SQL statements through the `tasks-db` PostgreSQL binding and publishes
//! outbox events: right after the commit, and again from the repair jobs.

use chrono::{DateTime, Utc};
use component_kit::dapr::{Dapr, DaprError};
use domain::sql::Statement;
use serde_json::{json, Value};

/// The Dapr PostgreSQL binding.
pub const DB: &str = "tasks-db";
/// One-shot job scheduled when a publish fails.
pub const REPAIR_JOB: &str = "outbox-repair";
/// Recurring safety net over the index of unpublished rows (covers a crash between commit and
/// publish, when no one-shot job could be scheduled).
pub const SWEEP_JOB: &str = "outbox-sweep";
/// How often the safety net runs.
pub const SWEEP_EVERY: &str = "@every 15s";
/// Most rows one repair run publishes.
pub const REPAIR_BATCH: u32 = 200;

/// Runs a query statement.
pub async fn query(dapr: &Dapr, s: &Statement) -> Result<Vec<Vec<Value>>, DaprError> {
    dapr.query(DB, &s.sql, &s.params_json()).await
}

/// Runs a statement without rows.
pub async fn exec(dapr: &Dapr, s: &Statement) -> Result<(), DaprError> {
    dapr.exec(DB, &s.sql, &s.params_json()).await
}

/// Column `i` of a row as text (null and missing as `None`).
pub fn text(row: &[Value], i: usize) -> Option<&str> {
    row.get(i).and_then(Value::as_str)
}

/// Column `i` of a row parsed as a JSON text column.
pub fn json_col(row: &[Value], i: usize) -> Option<Value> {
    text(row, i).and_then(|t| serde_json::from_str(t).ok())
}

/// Parses an RFC 3339 column.
pub fn time_col(row: &[Value], i: usize) -> Option<DateTime<Utc>> {
    text(row, i)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

pub use component_kit::outbox::{events_of, OutboxEvent, Published};

/// Publishes a write's events in order and marks them published; failures are counted on their
/// rows and a one-shot repair job is scheduled. Never fails the caller: the events are committed.
pub async fn publish(dapr: &Dapr, events: &[OutboxEvent]) -> Published {
    let result = component_kit::outbox::publish(dapr, DB, events).await;
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
                &domain::sql::record_job(REPAIR_JOB, "outbox", &job, false),
            )
            .await;
        }
        Err(err) => eprintln!(
            "task-api: scheduling {REPAIR_JOB} failed (the {SWEEP_JOB} job remains): {err}"
        ),
    }
}

/// Makes sure the recurring safety-net job exists (idempotent: an existing job is kept).
pub async fn ensure_sweep(dapr: &Dapr) -> Result<(), DaprError> {
    let job = json!({"schedule": SWEEP_EVERY, "data": {"reason": "safety net"}});
    if dapr.schedule_job(SWEEP_JOB, &job).await? {
        let _ = exec(
            dapr,
            &domain::sql::record_job(SWEEP_JOB, "outbox", &job, false),
        )
        .await;
    }
    Ok(())
}

/// One repair run: publishes the due outbox rows in their written order (a failed row waits
/// with backoff and is parked when it keeps failing; `domain::sql::mark_failed`). Answers how
/// many were published, are still pending and were parked.
pub async fn repair(dapr: &Dapr, job: &str) -> Result<Published, DaprError> {
    let total = component_kit::outbox::republish_due(dapr, DB, REPAIR_BATCH).await?;
    let _ = exec(
        dapr,
        &domain::sql::record_job(
            job,
            "outbox",
            &json!({"published": total.ok, "failed": total.failed, "parked": total.parked}),
            true,
        ),
    )
    .await;
    Ok(total)
}
