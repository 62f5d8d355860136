//! Dapr answers, the database binding and the pub/sub component, shared by the handlers.

use chrono::{DateTime, Utc};
use component_kit::dapr::{Dapr, DaprError};
use notify::sql::Statement;
use serde_json::{json, Value};
use spin_sdk::http::Response;

/// The Dapr PostgreSQL binding.
pub const DB: &str = "tasks-db";
/// The Dapr pub/sub component.
pub const PUBSUB: &str = "pubsub";
/// The topic of reminder events.
pub const ALERTS: &str = notify::alert::ALERTS_TOPIC;

/// What to tell Dapr about a delivery.
pub enum Verdict {
    /// Done (or nothing to do): acknowledged.
    Success,
    /// Can never succeed: to the dead-letter topic.
    Drop(String),
    /// Try again (Resiliency: 5 s × 3, then the dead-letter topic).
    Retry(String),
}

impl Verdict {
    /// The answer to daprd; `who` prefixes the log line.
    pub fn answer(self, who: &str) -> Response {
        match self {
            Verdict::Success => json_response(200, json!({"status": "SUCCESS"})),
            Verdict::Drop(why) => {
                eprintln!("notification: {who}: dead-lettering: {why}");
                json_response(200, json!({"status": "DROP"}))
            }
            Verdict::Retry(why) => {
                eprintln!("notification: {who}: will retry: {why}");
                json_response(503, json!({"status": "RETRY"}))
            }
        }
    }
}

/// A JSON response.
pub fn json_response(status: u16, body: Value) -> Response {
    component_kit::health::json(status, &body)
}

/// Runs a statement that answers rows.
pub async fn query(dapr: &Dapr, s: &Statement) -> Result<Vec<Vec<Value>>, DaprError> {
    dapr.query(DB, &s.sql, &s.params_json()).await
}

/// Column `i` as text.
pub fn text(row: &[Value], i: usize) -> Option<&str> {
    row.get(i).and_then(Value::as_str)
}

/// Column `i` as an RFC 3339 time.
pub fn time(row: &[Value], i: usize) -> Option<DateTime<Utc>> {
    text(row, i)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Column `i` as a boolean (false when null).
pub fn flag(row: &[Value], i: usize) -> bool {
    row.get(i).and_then(Value::as_bool) == Some(true)
}

/// Column `i` as an integer.
pub fn int(row: &[Value], i: usize) -> Option<i64> {
    row.get(i).and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    })
}

/// Publishes a CloudEvent on `alerts`, keyed by its user.
pub async fn publish_alert(
    dapr: &Dapr,
    event: &events::CloudEvent,
    user_id: &str,
) -> Result<(), DaprError> {
    dapr.publish_cloudevent(PUBSUB, ALERTS, &event.to_json(), user_id)
        .await
}
