//! The `task-operations` consumer: on `v1.task.completed` of a recurring instance, the next
//! instance exists afterwards; on `v1.task.created` of a recurring instance, the occurrence
//! after it gets its pre-creation job (`crate::precreate`); on `v1.task.deleted` with scope
//! `following` or `all` that job is cancelled. The Task API already creates the next instance with the completion; this
//! consumer is the idempotent safety net that agrees with it (same occurrence, unique
//! `(series_id, recurrence_id)`, event id recorded in the same statement).
//!
//! Answers to Dapr: `{"status":"SUCCESS"}` when done or ignored, `{"status":"DROP"}` for poison
//! (dead-letter topic), and 503 `{"status":"RETRY"}` when a dependency failed (redelivered).

use chrono::{DateTime, Utc};
use component_kit::dapr::{Dapr, DaprError};
use component_kit::outbox::{self, OutboxEvent, PUBSUB};
use domain::engine::{self, Operation, Poison, StoredInstance, COMPLETION_CONSUMER};
use domain::sql::{self, Statement};
use domain::Mode;
use serde_json::{json, Value};
use spin_sdk::http::Response;

/// The Dapr PostgreSQL binding.
pub(crate) const DB: &str = "tasks-db";

/// What to tell Dapr about a delivery.
pub(crate) enum Verdict {
    Success,
    Drop(Poison),
    Retry(DaprError),
}

fn answer(status: u16, body: Value) -> Response {
    component_kit::health::json(status, &body)
}

/// Handles one delivery of `task-operations`.
pub async fn handle(body: &[u8]) -> Response {
    verdict(process(&Dapr::from_env(), body).await)
}

/// The Dapr answer of a verdict (logged unless it is a success).
pub(crate) fn verdict(v: Verdict) -> Response {
    match v {
        Verdict::Success => answer(200, json!({"status": "SUCCESS"})),
        Verdict::Drop(p) => {
            eprintln!("recurrence-engine: dead-lettering: {p}");
            answer(200, json!({"status": "DROP"}))
        }
        Verdict::Retry(e) => {
            eprintln!("recurrence-engine: will retry: {e}");
            answer(503, json!({"status": "RETRY"}))
        }
    }
}

pub(crate) async fn query(dapr: &Dapr, s: &Statement) -> Result<Vec<Vec<Value>>, DaprError> {
    dapr.query(DB, &s.sql, &s.params_json()).await
}

pub(crate) fn text(row: &[Value], i: usize) -> Option<&str> {
    row.get(i).and_then(Value::as_str)
}

pub(crate) fn time(row: &[Value], i: usize) -> Option<DateTime<Utc>> {
    text(row, i)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

async fn process(dapr: &Dapr, body: &[u8]) -> Verdict {
    let c = match engine::operation(body) {
        Ok(Some(Operation::Completed(c))) => c,
        Ok(Some(Operation::Created(p, lead))) => {
            return match crate::precreate::schedule(dapr, &p, lead).await {
                Ok(()) => Verdict::Success,
                Err(e) => Verdict::Retry(e),
            }
        }
        Ok(Some(Operation::Cancel(p))) => {
            return match crate::precreate::cancel(dapr, &p).await {
                Ok(()) => {
                    eprintln!("recurrence-engine: cancelled job {}", p.job_name());
                    Verdict::Success
                }
                Err(e) => Verdict::Retry(e),
            }
        }
        Ok(None) => return Verdict::Success,
        Err(p) => return Verdict::Drop(p),
    };
    let rows = match query(dapr, &sql::completed_instance(&c.user_id, &c.task_id)).await {
        Ok(rows) => rows,
        Err(e) => return Verdict::Retry(e),
    };
    let Some(instance) = rows.first().and_then(|r| stored(r)) else {
        return Verdict::Drop(Poison::Unknown {
            event_id: c.event_id.clone(),
            task_id: c.task_id.as_str().to_string(),
        });
    };
    let next = match engine::next_instance(&c, &instance) {
        Ok(n) => n,
        Err(p) => return Verdict::Drop(p),
    };
    let stmt = sql::ensure_next_instance(COMPLETION_CONSUMER, &c.event_id, &c.task_id, next);
    match query(dapr, &stmt).await {
        Ok(rows) => {
            if let Some(row) = rows.first() {
                let created = row.get(1).and_then(Value::as_i64).unwrap_or(0);
                if created > 0 {
                    eprintln!(
                        "recurrence-engine: event {} created the missing next instance of series {}",
                        c.event_id,
                        c.series_id.as_str()
                    );
                }
                publish(dapr, text(row, 2)).await;
            }
            Verdict::Success
        }
        Err(e) => Verdict::Retry(e),
    }
}

/// A completed instance row; `None` if it is not completed (or its columns are not readable).
fn stored(row: &[Value]) -> Option<StoredInstance> {
    Some(StoredInstance {
        recurrence_id: time(row, 1)?,
        rule: text(row, 2)?.to_string(),
        dtstart_local: text(row, 3)?.to_string(),
        tzid: text(row, 4)?.to_string(),
        end_date: time(row, 5),
        mode: text(row, 6)
            .and_then(|m| Mode::parse(m).ok())
            .unwrap_or_default(),
        completed_at: time(row, 7)?,
    })
}

/// An outbox row of a write statement, ready to publish.
struct ReadyEvent {
    /// The outbox event id (the CloudEvent id).
    id: String,
    /// The Kafka topic.
    topic: String,
    /// The partition key (user id).
    key: String,
    /// The structured CloudEvent.
    json: String,
}

/// The outbox rows of a write statement's `events` column.
fn outbox_rows(events: Option<&str>) -> Vec<OutboxEvent> {
    outbox::events_of(events.and_then(|e| serde_json::from_str(e).ok()))
}

/// Reads the `events` column of a write statement; rows that are not valid events are skipped
/// (they stay unpublished for the outbox sweep, which parks them).
fn outbox_events(events: Option<&str>) -> Vec<ReadyEvent> {
    outbox_rows(events)
        .into_iter()
        .filter_map(|e| {
            Some(ReadyEvent {
                json: e.cloud_event()?,
                id: e.event_id,
                topic: e.topic,
                key: e.user_id,
            })
        })
        .collect()
}

/// Marks the published outbox rows (a failure leaves them to the outbox sweep, which publishes
/// them again: consumers deduplicate on the event id).
async fn mark_published(dapr: &Dapr, done: &[String]) {
    if done.is_empty() {
        return;
    }
    let ids: Vec<&str> = done.iter().map(String::as_str).collect();
    let s = sql::mark_published(&ids);
    if let Err(err) = dapr.exec(DB, &s.sql, &s.params_json()).await {
        eprintln!("recurrence-engine: marking events published failed: {err}");
    }
}

/// Publishes the outbox events of a batch statement with one bulk call per topic and marks
/// them published; a topic whose call fails is left to the outbox sweep job.
pub(crate) async fn publish_bulk(dapr: &Dapr, events: Option<&str>) {
    let mut by_topic: std::collections::BTreeMap<String, Vec<ReadyEvent>> =
        std::collections::BTreeMap::new();
    for e in outbox_events(events) {
        by_topic.entry(e.topic.clone()).or_default().push(e);
    }
    // One bulk call per topic, all at once.
    let calls = by_topic.into_iter().map(|(topic, batch)| async move {
        let pairs: Vec<(String, String)> = batch
            .iter()
            .map(|e| (e.json.clone(), e.key.clone()))
            .collect();
        match dapr.publish_bulk_cloudevents(PUBSUB, &topic, &pairs).await {
            Ok(()) => batch.into_iter().map(|e| e.id).collect(),
            Err(err) => {
                eprintln!(
                    "recurrence-engine: bulk publish of {} events to {topic} failed (the outbox sweep retries): {err}",
                    pairs.len()
                );
                Vec::new()
            }
        }
    });
    let done: Vec<String> = futures::future::join_all(calls)
        .await
        .into_iter()
        .flatten()
        .collect();
    mark_published(dapr, &done).await;
}

/// Publishes the outbox events of the statement in order and marks them published. A failure
/// leaves them unpublished for the Task API's outbox sweep job (the outbox is shared).
pub(crate) async fn publish(dapr: &Dapr, events: Option<&str>) {
    outbox::publish(dapr, DB, &outbox_rows(events)).await;
}
