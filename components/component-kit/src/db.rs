//! Running the platform's SQL statements on the `tasks-db` PostgreSQL binding, and reading the
//! columns of the rows they answer. Every service that touches the database goes through here.

use chrono::{DateTime, Utc};
use store::Statement;
use serde_json::Value;

use crate::dapr::{Dapr, DaprError};

/// The Dapr PostgreSQL binding (`bindings.postgresql`) every service uses.
pub const DB: &str = "tasks-db";

/// Runs a statement that answers rows (guarded: see [`Dapr::query`]).
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

/// Column `i` of a row, a JSON document cast to text, parsed.
pub fn json(row: &[Value], i: usize) -> Option<Value> {
    text(row, i).and_then(|t| serde_json::from_str(t).ok())
}

/// Column `i` of a row as an RFC 3339 time.
pub fn time(row: &[Value], i: usize) -> Option<DateTime<Utc>> {
    text(row, i)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Column `i` of a row as a boolean (false when null).
pub fn flag(row: &[Value], i: usize) -> bool {
    row.get(i).and_then(Value::as_bool) == Some(true)
}

/// Column `i` of a row as an integer (a number, or text holding one).
pub fn int(row: &[Value], i: usize) -> Option<i64> {
    row.get(i).and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_read_by_kind() {
        let row = vec![
            json!("a"),
            json!("{\"k\":1}"),
            json!("2026-03-01T10:00:00Z"),
            json!(true),
            json!("42"),
            Value::Null,
        ];
        assert_eq!(text(&row, 0), Some("a"));
        assert_eq!(json(&row, 1), Some(json!({"k": 1})));
        assert_eq!(
            time(&row, 2).map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-03-01T10:00:00+00:00")
        );
        assert!(flag(&row, 3));
        assert!(!flag(&row, 5));
        assert_eq!(int(&row, 4), Some(42));
        assert_eq!(text(&row, 5), None);
        assert_eq!(text(&row, 9), None);
    }
}
