//! The publisher of the transactional outbox (shared by every service that writes outbox rows):
//! a write statement answers its new rows as an `events` JSON column; they are published in
//! their written order right after the commit and marked published. A row that fails is counted
//! (`store::outbox::mark_failed`: backoff, then parked when it keeps failing while the broker
//! works) and left to the Task API's repair jobs, which publish whatever is due with the source
//! the row was written with.

use crate::dapr::{Dapr, DaprError};
use crate::db::exec;

/// The Dapr pub/sub component.
pub const PUBSUB: &str = "pubsub";

pub use store::outbox::{Events, OutboxEvent};

/// What a publish round achieved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Events Kafka accepted (through Dapr).
    pub ok: usize,
    /// Events that stay unpublished for the repair job (failed, or behind a failed event of
    /// the same user).
    pub failed: usize,
    /// Rows parked because they are not valid events.
    pub parked: usize,
}

/// Publishes `events` in order through the sidecar on `db`'s outbox: marks the published ones,
/// counts the failures on their rows, and leaves a user's later events unpublished once one of
/// theirs failed (per-user order). Never fails: the rows are committed.
pub async fn publish(dapr: &Dapr, events: &[OutboxEvent]) -> Published {
    let mut done: Vec<&str> = Vec::new();
    let mut failed: Vec<(&str, String)> = Vec::new();
    let mut held_users: Vec<&str> = Vec::new();
    let mut result = Published::default();
    for e in events {
        if held_users.contains(&e.user_id.as_str()) {
            result.failed += 1;
            continue;
        }
        let Some(ce) = e.cloud_event() else {
            let reason = format!("not a valid CloudEvent: {:?}", e.event_type);
            let _ = exec(dapr, &store::outbox::park(&e.event_id, &reason)).await;
            result.parked += 1;
            continue;
        };
        match dapr
            .publish_cloudevent(PUBSUB, &e.topic, &ce, &e.user_id)
            .await
        {
            Ok(()) => done.push(&e.event_id),
            Err(err) => {
                crate::warn!(
                    "{}: publish of {} failed: {err}",
                    crate::config::app_id(),
                    e.event_id
                );
                failed.push((&e.event_id, err.to_string()));
                held_users.push(&e.user_id);
                result.failed += 1;
            }
        }
    }
    result.ok = done.len();
    mark_published(dapr, &done).await;
    // One statement per distinct error (a broker outage fails every row the same way).
    let mut by_error: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (id, error) in &failed {
        by_error.entry(error.as_str()).or_default().push(id);
    }
    for (error, ids) in by_error {
        let _ = exec(dapr, &store::outbox::mark_failed(&ids, error)).await;
    }
    result
}

/// Reads the due outbox rows (`store::outbox::unpublished`) and publishes them like [`publish`];
/// a row that is not even an event object is parked with the reason.
pub async fn republish_due(dapr: &Dapr, batch: u32) -> Result<Published, DaprError> {
    let (events, parked) = due_events(dapr, &store::outbox::unpublished(batch)).await?;
    let mut result = publish(dapr, &events).await;
    result.parked += parked;
    Ok(result)
}

/// Reads the due outbox rows written with the `CloudEvent` source `source`
/// (`store::outbox::unpublished_from`) and publishes them like [`publish_bulk`]: the outbox
/// relay's round.
pub async fn relay_due(dapr: &Dapr, source: &str, batch: u32) -> Result<Published, DaprError> {
    let (events, parked) =
        due_events(dapr, &store::outbox::unpublished_from(source, batch)).await?;
    let mut result = publish_bulk(dapr, &events).await;
    result.parked += parked;
    Ok(result)
}

/// The events of the due rows `due` reads; a row that is not even an event object is parked
/// with the reason (counted in the second value).
async fn due_events(
    dapr: &Dapr,
    due: &store::Query<store::outbox::DueEvent>,
) -> Result<(Vec<OutboxEvent>, usize), DaprError> {
    let rows = crate::db::query(dapr, due).await?;
    let mut events = Vec::with_capacity(rows.len());
    let mut parked = 0;
    for row in rows {
        match serde_json::from_value::<OutboxEvent>(row.event) {
            Ok(e) => events.push(e),
            Err(why) => {
                let reason = format!("not a valid outbox event: {why}");
                let _ = exec(dapr, &store::outbox::park(&row.event_id, &reason)).await;
                parked += 1;
            }
        }
    }
    Ok((events, parked))
}

/// Publishes `events` with one bulk call per topic (all topics at once) and marks the
/// published ones. The events of a topic whose call fails count a failed attempt on their rows
/// (`store::outbox::mark_failed`) and stay for the Task API's repair jobs, like rows that are
/// not valid events (which those jobs park). For batches, where per-user order within one call
/// is kept by the bulk call itself.
pub async fn publish_bulk(dapr: &Dapr, events: &[OutboxEvent]) -> Published {
    let mut by_topic: std::collections::BTreeMap<&str, Vec<(&str, String, String)>> =
        std::collections::BTreeMap::new();
    for e in events {
        if let Some(ce) = e.cloud_event() {
            by_topic.entry(e.topic.as_str()).or_default().push((
                e.event_id.as_str(),
                ce,
                e.user_id.clone(),
            ));
        }
    }
    let calls = by_topic.into_iter().map(|(topic, batch)| async move {
        let pairs: Vec<(String, String)> = batch
            .iter()
            .map(|(_, ce, key)| (ce.clone(), key.clone()))
            .collect();
        let ids: Vec<&str> = batch.iter().map(|(id, _, _)| *id).collect();
        match dapr.publish_bulk_cloudevents(PUBSUB, topic, &pairs).await {
            Ok(()) => (ids, Vec::new()),
            Err(err) => {
                crate::warn!(
                    "{}: bulk publish of {} events to {topic} failed (the outbox repair retries): {err}",
                    crate::config::app_id(),
                    pairs.len()
                );
                // The row's reason names its topic, as a single publish's error does.
                let reason = format!("publishing to topic {topic} (bulk call): {err}");
                let _ = exec(dapr, &store::outbox::mark_failed(&ids, &reason)).await;
                (Vec::new(), ids)
            }
        }
    });
    let mut done: Vec<&str> = Vec::new();
    let mut result = Published::default();
    for (ok, failed) in futures::future::join_all(calls).await {
        done.extend(ok);
        result.failed += failed.len();
    }
    result.ok = done.len();
    mark_published(dapr, &done).await;
    result
}

/// Marks published outbox rows. A failure is logged only: published but not marked, the rows
/// are published again by a repair run (consumers are idempotent by event id).
async fn mark_published(dapr: &Dapr, ids: &[&str]) {
    if ids.is_empty() {
        return;
    }
    if let Err(err) = exec(dapr, &store::outbox::mark_published(ids)).await {
        crate::warn!("marking {} events published failed: {err}", ids.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn event(source: Option<&str>) -> OutboxEvent {
        OutboxEvent {
            event_id: "0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a".into(),
            event_type: "v1.task.created".into(),
            topic: "task-operations".into(),
            user_id: "alice".into(),
            source: source.map(str::to_string),
            time: "2026-11-26T08:00:00.000Z".into(),
            data: serde_json::json!({"task_id": "t"}),
        }
    }

    #[test]
    fn the_cloud_event_keeps_the_source_the_row_was_written_with() {
        let ce = event(Some("/recurrence-engine"))
            .cloud_event()
            .expect("valid event");
        let v: Value = serde_json::from_str(&ce).expect("json");
        assert_eq!(v["source"], "/recurrence-engine");
        assert_eq!(v["id"], "0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a");
    }

    #[test]
    fn a_row_without_source_or_time_is_not_an_event() {
        assert!(event(None).cloud_event().is_none());
        let mut e = event(Some("/task-api"));
        e.time = "yesterday".into();
        assert!(e.cloud_event().is_none());
    }
}
