//! What a subscriber receives from its Dapr sidecar and what it answers: one CloudEvent per
//! request, or, for a subscription with `bulkSubscribe` enabled, Dapr's bulk envelope
//! `{"entries": [{"entryId", "event", "contentType", "metadata"}, ...], "topic", ...}` answered
//! with one status per entry, `{"statuses": [{"entryId", "status"}, ...]}`.
//!
//! Entries come in the order of their partition, which holds many users' events (the partition
//! key is the user). A consumer handles each user's entries in that order and, once one must be
//! retried, answers `RETRY` for that user's later entries without handling them, so a user's
//! later event never overtakes an earlier one that failed; different users' entries
//! ([`user_groups`]) may be handled side by side.

use serde::Deserialize;
use serde_json::{json, Value};

/// What a consumer tells Dapr about one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Handled (or nothing to do): acknowledged.
    Success,
    /// Can never succeed: to the subscription's dead-letter topic.
    Drop,
    /// A dependency failed: delivered again.
    Retry,
}

impl Status {
    /// Dapr's name of the status.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "SUCCESS",
            Status::Drop => "DROP",
            Status::Retry => "RETRY",
        }
    }
}

/// One event of a bulk delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Dapr's id of the entry, echoed in its status.
    pub entry_id: String,
    /// The CloudEvent as JSON bytes (empty when the entry held none: poison).
    pub event: Vec<u8>,
}

/// A request body from the sidecar's subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// One CloudEvent: the body itself.
    Single,
    /// A bulk delivery, its entries in order.
    Bulk(Vec<Entry>),
}

/// Tells a bulk envelope from a single CloudEvent. A body that is not a JSON object with an
/// `entries` array (and no `specversion`) is a single event, judged by the consumer.
#[must_use]
pub fn read(body: &[u8]) -> Delivery {
    let Ok(Value::Object(mut envelope)) = serde_json::from_slice::<Value>(body) else {
        return Delivery::Single;
    };
    if envelope.contains_key("specversion") {
        return Delivery::Single;
    }
    let Some(Value::Array(entries)) = envelope.remove("entries") else {
        return Delivery::Single;
    };
    Delivery::Bulk(entries.into_iter().filter_map(entry).collect())
}

/// One entry; `None` without an `entryId` (no status could name it: daprd retries it).
fn entry(raw: Value) -> Option<Entry> {
    let Value::Object(mut raw) = raw else {
        return None;
    };
    let entry_id = match raw.remove("entryId") {
        Some(Value::String(id)) if !id.is_empty() => id,
        _ => return None,
    };
    let event = match raw.remove("event") {
        Some(v @ Value::Object(_)) => serde_json::to_vec(&v).unwrap_or_default(),
        // A CloudEvent carried as text (a raw payload the publisher already serialized).
        Some(Value::String(s)) => s.into_bytes(),
        _ => Vec::new(),
    };
    Some(Entry { entry_id, event })
}

/// The entries of a bulk grouped by the user their event belongs to (`data.user_id`), as lists
/// of indices in delivery order, the groups in the order of their first entry. An entry whose
/// user cannot be read (poison) is a group of its own.
#[must_use]
pub fn user_groups(entries: &[Entry]) -> Vec<Vec<usize>> {
    #[derive(Deserialize)]
    struct Probe {
        data: Option<ProbeData>,
    }
    #[derive(Deserialize)]
    struct ProbeData {
        user_id: Option<String>,
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_user: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let user = serde_json::from_slice::<Probe>(&entry.event)
            .ok()
            .and_then(|p| p.data?.user_id)
            .filter(|u| !u.is_empty());
        match user {
            Some(u) => match by_user.get(&u) {
                Some(&g) => groups[g].push(i),
                None => {
                    by_user.insert(u, groups.len());
                    groups.push(vec![i]);
                }
            },
            None => groups.push(vec![i]),
        }
    }
    groups
}

/// The answer to a bulk delivery: each entry's status, in order.
#[must_use]
pub fn bulk_answer(statuses: &[(String, Status)]) -> Value {
    let statuses: Vec<Value> = statuses
        .iter()
        .map(|(id, s)| json!({"entryId": id, "status": s.as_str()}))
        .collect();
    json!({ "statuses": statuses })
}

/// The HTTP status and body answering a single delivery: 200 for `SUCCESS` and `DROP`, 503 for
/// `RETRY` (daprd redelivers either way; the code keeps the failure visible in its metrics).
#[must_use]
pub fn single_answer(status: Status) -> (u16, Value) {
    let code = if status == Status::Retry { 503 } else { 200 };
    (code, json!({ "status": status.as_str() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(entries: Value) -> Vec<u8> {
        json!({"id": "b1", "topic": "task-operations", "pubsubname": "pubsub",
               "type": "com.dapr.event.sent.bulk", "metadata": {}, "entries": entries})
        .to_string()
        .into_bytes()
    }

    fn entries_of(body: &[u8]) -> Vec<Entry> {
        match read(body) {
            Delivery::Bulk(entries) => entries,
            Delivery::Single => Vec::new(),
        }
    }

    #[test]
    fn a_cloudevent_is_a_single_delivery() {
        let ce = json!({"specversion": "1.0", "id": "e1", "entries": [], "data": {}});
        assert_eq!(read(ce.to_string().as_bytes()), Delivery::Single);
        assert_eq!(read(b"not json"), Delivery::Single);
        assert_eq!(read(b"[1,2]"), Delivery::Single);
        assert_eq!(read(br#"{"entries": {}}"#), Delivery::Single);
    }

    #[test]
    fn a_bulk_envelope_gives_its_events_in_order() {
        let body = bulk(json!([
            {"entryId": "a", "event": {"specversion": "1.0", "id": "e1"}, "contentType": "application/cloudevents+json"},
            {"entryId": "b", "event": "{\"id\":\"e2\"}"},
            {"entryId": "c"},
        ]));
        let entries = entries_of(&body);
        let ids: Vec<&str> = entries.iter().map(|e| e.entry_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let first: Value = serde_json::from_slice(&entries[0].event).unwrap_or_default();
        assert_eq!(first["id"], "e1");
        assert_eq!(entries[1].event, br#"{"id":"e2"}"#.to_vec());
        assert!(entries[2].event.is_empty());
    }

    #[test]
    fn entries_without_an_id_are_left_out() {
        let body = bulk(
            json!([{"event": {}}, {"entryId": "", "event": {}}, 7, {"entryId": "k", "event": {}}]),
        );
        let entries = entries_of(&body);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].entry_id, "k");
    }

    #[test]
    fn entries_group_by_user_in_delivery_order() {
        let ev = |user: Value| {
            json!({"specversion": "1.0", "id": "e", "data": {"user_id": user, "task_id": "t"}})
                .to_string()
                .into_bytes()
        };
        let entries: Vec<Entry> = [
            ev(json!("u1")),
            ev(json!("u2")),
            b"not json".to_vec(),
            ev(json!("u1")),
            ev(json!("")),
            ev(json!(7)),
            ev(json!("u2")),
            ev(json!("u1")),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, event)| Entry {
            entry_id: i.to_string(),
            event,
        })
        .collect();
        assert_eq!(
            user_groups(&entries),
            vec![vec![0, 3, 7], vec![1, 6], vec![2], vec![4], vec![5]]
        );
        assert!(user_groups(&[]).is_empty());
    }

    #[test]
    fn answers_name_each_entry_and_status() {
        let a = bulk_answer(&[
            ("a".into(), Status::Success),
            ("b".into(), Status::Drop),
            ("c".into(), Status::Retry),
        ]);
        assert_eq!(
            a,
            json!({"statuses": [
                {"entryId": "a", "status": "SUCCESS"},
                {"entryId": "b", "status": "DROP"},
                {"entryId": "c", "status": "RETRY"},
            ]})
        );
        assert_eq!(
            single_answer(Status::Success),
            (200, json!({"status": "SUCCESS"}))
        );
        assert_eq!(
            single_answer(Status::Drop),
            (200, json!({"status": "DROP"}))
        );
        assert_eq!(
            single_answer(Status::Retry),
            (503, json!({"status": "RETRY"}))
        );
    }
}
