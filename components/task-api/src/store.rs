//! Runs the domain's SQL statements through the `tasks-db` PostgreSQL binding and publishes
//! outbox events: right after the commit, and again from the repair jobs.

use chrono::{DateTime, Utc};
use component_kit::dapr::{Dapr, DaprError};
use domain::sql::Statement;
use serde_json::{json, Value};

/// The Dapr PostgreSQL binding.
pub const DB: &str = "tasks-db";
/// The Dapr pub/sub component.
pub const PUBSUB: &str = "pubsub";
/// CloudEvent `source` of every event this service publishes.
pub const SOURCE: &str = "/task-api";
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

/// An outbox event as written by the SQL statements.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct OutboxEvent {
    /// Event id = CloudEvent `id`.
    pub event_id: String,
    /// `v1.task.created` …
    #[serde(rename = "type")]
    pub event_type: String,
    /// Kafka topic.
    pub topic: String,
    /// Owner; the partition key.
    pub user_id: String,
    /// Commit time (RFC 3339, ms).
    pub time: String,
    /// The payload.
    pub data: Value,
}

impl OutboxEvent {
    /// The CloudEvent 1.0 JSON of the event.
    pub fn cloud_event(&self) -> Option<String> {
        let time = DateTime::parse_from_rfc3339(&self.time)
            .ok()?
            .with_timezone(&Utc);
        events::CloudEvent::new(
            &self.event_id,
            SOURCE,
            &self.event_type,
            time,
            Some(self.user_id.clone()),
            self.data.clone(),
        )
        .ok()
        .map(|e| e.to_json())
    }
}

/// Parses the `events` JSON array column of a write.
pub fn events_of(col: Option<Value>) -> Vec<OutboxEvent> {
    col.and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// What a publish round achieved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Events Kafka accepted (through Dapr).
    pub ok: usize,
    /// Events that stay unpublished for the repair job.
    pub failed: usize,
}

/// Publishes events and marks them published; failures are counted on their rows and a
/// one-shot repair job is scheduled. Never fails the caller: the events are committed.
pub async fn publish(dapr: &Dapr, events: &[OutboxEvent]) -> Published {
    let mut done: Vec<&str> = Vec::new();
    let mut failed: Vec<&str> = Vec::new();
    for e in events {
        let result = match e.cloud_event() {
            Some(ce) => {
                dapr.publish_cloudevent(PUBSUB, &e.topic, &ce, &e.user_id)
                    .await
            }
            None => Err(DaprError::Decode(format!(
                "event {} is not a valid CloudEvent",
                e.event_id
            ))),
        };
        match result {
            Ok(()) => done.push(&e.event_id),
            Err(err) => {
                eprintln!("task-api: publish of {} failed: {err}", e.event_id);
                failed.push(&e.event_id);
            }
        }
    }
    if !done.is_empty() {
        if let Err(err) = exec(dapr, &domain::sql::mark_published(&done)).await {
            // Published but not marked: the repair job will publish it again (consumers are
            // idempotent by event id).
            eprintln!(
                "task-api: marking {} events published failed: {err}",
                done.len()
            );
        }
    }
    if !failed.is_empty() {
        let _ = exec(dapr, &domain::sql::mark_failed(&failed)).await;
        schedule_repair(dapr).await;
    }
    Published {
        ok: done.len(),
        failed: failed.len(),
    }
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

/// One repair run: publishes the oldest unpublished rows. Answers how many were published
/// and how many are still pending.
pub async fn repair(dapr: &Dapr, job: &str) -> Result<Published, DaprError> {
    let rows = query(dapr, &domain::sql::unpublished(REPAIR_BATCH)).await?;
    let events: Vec<OutboxEvent> = rows
        .iter()
        .filter_map(|r| json_col(r, 0))
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect();
    let mut total = Published::default();
    for e in &events {
        let result = match e.cloud_event() {
            Some(ce) => {
                dapr.publish_cloudevent(PUBSUB, &e.topic, &ce, &e.user_id)
                    .await
            }
            None => Err(DaprError::Decode("invalid event".into())),
        };
        match result {
            Ok(()) => {
                exec(dapr, &domain::sql::mark_published(&[e.event_id.as_str()])).await?;
                total.ok += 1;
            }
            Err(err) => {
                eprintln!("task-api: repair publish of {} failed: {err}", e.event_id);
                let _ = exec(dapr, &domain::sql::mark_failed(&[e.event_id.as_str()])).await;
                total.failed += 1;
            }
        }
    }
    let _ = exec(
        dapr,
        &domain::sql::record_job(
            job,
            "outbox",
            &json!({"published": total.ok, "failed": total.failed}),
            true,
        ),
    )
    .await;
    Ok(total)
}
