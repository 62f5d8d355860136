//! The CloudEvents 1.0 envelope in structured JSON mode.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The CloudEvents version this crate writes and accepts.
pub const SPEC_VERSION: &str = "1.0";

/// Why an envelope was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    /// A required attribute is missing or empty.
    #[error("CloudEvent attribute `{0}` is required")]
    Missing(&'static str),
    /// The envelope declares another spec version.
    #[error("unsupported CloudEvents specversion `{0}` (expected 1.0)")]
    SpecVersion(String),
    /// The event type does not follow `v<N>.<entity>.<action>`.
    #[error("event type `{0}` must look like v1.task.created")]
    Type(String),
    /// The body is not a CloudEvent in JSON.
    #[error("not a CloudEvent: {0}")]
    Json(String),
}

/// A CloudEvent as published on the platform's topics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudEvent {
    /// Unique event id; consumers use it for idempotency.
    pub id: String,
    /// Always `1.0`.
    pub specversion: String,
    /// Producer, e.g. `/task-api`.
    pub source: String,
    /// Versioned type, e.g. `v1.task.created`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened (RFC 3339, UTC).
    pub time: String,
    /// Always `application/json` here.
    pub datacontenttype: String,
    /// Partition key: the owning user (extension attribute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitionkey: Option<String>,
    /// The payload.
    pub data: serde_json::Value,
}

impl CloudEvent {
    /// Builds a validated event.
    pub fn new(
        id: impl Into<String>,
        source: impl Into<String>,
        event_type: impl Into<String>,
        time: DateTime<Utc>,
        partition_key: Option<String>,
        data: serde_json::Value,
    ) -> Result<Self, EnvelopeError> {
        let event = CloudEvent {
            id: id.into(),
            specversion: SPEC_VERSION.to_string(),
            source: source.into(),
            event_type: event_type.into(),
            time: time.to_rfc3339_opts(SecondsFormat::Millis, true),
            datacontenttype: "application/json".to_string(),
            partitionkey: partition_key,
            data,
        };
        event.validate()?;
        Ok(event)
    }

    /// Parses and validates an envelope received from Dapr.
    pub fn from_json(body: &[u8]) -> Result<Self, EnvelopeError> {
        let event: CloudEvent =
            serde_json::from_slice(body).map_err(|e| EnvelopeError::Json(e.to_string()))?;
        event.validate()?;
        Ok(event)
    }

    /// Serialises the envelope (structured mode).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn validate(&self) -> Result<(), EnvelopeError> {
        for (name, value) in [
            ("id", &self.id),
            ("source", &self.source),
            ("type", &self.event_type),
        ] {
            if value.trim().is_empty() {
                return Err(EnvelopeError::Missing(name));
            }
        }
        if self.specversion != SPEC_VERSION {
            return Err(EnvelopeError::SpecVersion(self.specversion.clone()));
        }
        if !is_versioned_type(&self.event_type) {
            return Err(EnvelopeError::Type(self.event_type.clone()));
        }
        Ok(())
    }
}

/// `v<digits>.<word>.<word>[...]`, lower-case words with `_`.
fn is_versioned_type(t: &str) -> bool {
    let mut parts = t.split('.');
    let version_ok = parts
        .next()
        .and_then(|v| v.strip_prefix('v'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let rest: Vec<&str> = parts.collect();
    version_ok
        && rest.len() >= 2
        && rest
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> CloudEvent {
        let t = Utc
            .with_ymd_and_hms(2026, 11, 26, 9, 0, 0)
            .single()
            .expect("valid time");
        CloudEvent::new(
            "e-1",
            "/task-api",
            "v1.task.created",
            t,
            Some("u-1".into()),
            serde_json::json!({"task_id": "t-1"}),
        )
        .expect("valid event")
    }

    #[test]
    fn round_trips_through_json() {
        let e = sample();
        let back = CloudEvent::from_json(e.to_json().as_bytes()).expect("parses");
        assert_eq!(back, e);
        assert_eq!(back.time, "2026-11-26T09:00:00.000Z");
    }

    #[test]
    fn rejects_unversioned_types_and_other_specs() {
        let mut e = sample();
        e.event_type = "task.created".into();
        assert_eq!(
            CloudEvent::from_json(e.to_json().as_bytes()),
            Err(EnvelopeError::Type("task.created".into()))
        );
        let mut e = sample();
        e.specversion = "0.3".into();
        assert!(matches!(
            CloudEvent::from_json(e.to_json().as_bytes()),
            Err(EnvelopeError::SpecVersion(_))
        ));
        assert!(matches!(
            CloudEvent::from_json(b"{}"),
            Err(EnvelopeError::Json(_))
        ));
        let mut e = sample();
        e.id = " ".into();
        assert_eq!(
            CloudEvent::from_json(e.to_json().as_bytes()),
            Err(EnvelopeError::Missing("id"))
        );
    }

    #[test]
    fn topics_name_their_dead_letters() {
        let names: Vec<_> = Topic::ALL
            .iter()
            .map(|t| (t.name(), t.dead_letter()))
            .collect();
        assert_eq!(
            names,
            [
                ("task-operations", "task-events-dlq"),
                ("task-modifications", "updates-dlq"),
                ("alerts", "alerts-dlq")
            ]
        );
    }
    use crate::Topic;
}
