//! The dashboard's per-user change log: which task event to record (parsed from the `CloudEvent`
//! Dapr delivers), and the statements that record it idempotently and read it back.
//!
//! Recording takes the user's cursor row lock (`insert … on conflict do update`), so a user's
//! sequence numbers are given in commit order: a reader that has seen `seq = n` never later
//! finds a change numbered `n` or lower appear.

use serde_json::{json, Value};

use serde::Deserialize;

use crate::statement::{ts_ms, Query, Statement};

/// Most changes answered by one read.
pub const MAX_CHANGES: i64 = 200;

/// A task event as the change log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `CloudEvent` `id` (the idempotency key).
    pub event_id: String,
    /// The owning user.
    pub user_id: String,
    /// `CloudEvent` `type`, e.g. `v1.task.created`.
    pub event_type: String,
    /// The task the event is about, if any.
    pub task_id: Option<String>,
    /// Its series, if any.
    pub series_id: Option<String>,
    /// `CloudEvent` `time`.
    pub time: Option<String>,
}

/// Why a delivery cannot be recorded (dead-lettered, never retried).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Poison {
    /// Not a valid `CloudEvent`.
    #[error("not a task event: {0}")]
    Envelope(String),
    /// No owning user in `data.user_id` nor `partitionkey`.
    #[error("event {0} names no user")]
    NoUser(String),
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Reads the change out of a delivered `CloudEvent`.
pub fn parse(body: &[u8]) -> Result<Change, Poison> {
    let event = events::CloudEvent::from_json(body).map_err(|e| Poison::Envelope(e.to_string()))?;
    let data = &event.data;
    let user_id = text(data, "user_id")
        .or_else(|| event.partitionkey.clone().filter(|k| !k.trim().is_empty()))
        .ok_or_else(|| Poison::NoUser(event.id.clone()))?;
    let task = data.get("task").cloned().unwrap_or(Value::Null);
    Ok(Change {
        task_id: text(data, "task_id").or_else(|| text(&task, "task_id")),
        series_id: text(data, "series_id").or_else(|| text(&task, "series_id")),
        event_id: event.id,
        user_id,
        event_type: event.event_type,
        time: Some(event.time),
    })
}

/// A user's sequence number: the one [`record`] gave, or the latest ([`cursor`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seq {
    /// The number.
    pub seq: i64,
}

/// A recorded change as [`after`] reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeRow {
    /// Its number in the user's log.
    pub seq: i64,
    /// `CloudEvent` `type`.
    pub event_type: String,
    /// The task, if any.
    pub task_id: Option<String>,
    /// The series, if any.
    pub series_id: Option<String>,
    /// `CloudEvent` `id`.
    pub event_id: String,
    /// `CloudEvent` `time` (RFC 3339, milliseconds).
    pub event_time: Option<String>,
}

impl ChangeRow {
    /// The change as the dashboard's JSON.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "seq": self.seq,
            "type": self.event_type,
            "task_id": self.task_id,
            "series_id": self.series_id,
            "event_id": self.event_id,
            "time": self.event_time,
        })
    }
}

/// Records a change once: bumps the user's cursor and stores the change under the new number
/// in one statement; a change already recorded (same event id) changes nothing. Answers the
/// change's number either way (a redelivery republishes it to live sync); no row only while a
/// concurrent delivery of the same event is recording it.
#[must_use]
pub fn record(change: &Change) -> Query<Seq> {
    let sql = "with fresh as ( \
                 select 1 where not exists (select 1 from dashboard_changes where event_id = $1)), \
               bump as ( \
                 insert into dashboard_cursors (user_id, seq) select $2, 1 from fresh \
                 on conflict (user_id) do update set seq = dashboard_cursors.seq + 1, updated_at = now() \
                 returning seq), \
               ins as (insert into dashboard_changes (event_id, user_id, seq, event_type, task_id, series_id, event_time) \
               select $1, $2, bump.seq, $3, $4, $5, $6::timestamptz from bump \
               on conflict (event_id) do nothing \
               returning seq), \
               recorded as (select seq from dashboard_changes where event_id = $1) \
               select seq from ins union all select seq from recorded";
    Query::new(Statement {
        sql: sql.to_string(),
        params: vec![
            json!(change.event_id),
            json!(change.user_id),
            json!(change.event_type),
            json!(change.task_id),
            json!(change.series_id),
            json!(change.time),
        ],
    })
}

/// A change's number as [`record_many`] answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    /// The change's `CloudEvent` `id`.
    pub event_id: String,
    /// Its number in its user's log.
    pub seq: i64,
}

/// [`record`] for the changes of one bulk delivery in one statement: each user's new changes are
/// numbered in the order given, after the user's cursor, which moves once per user (cursor rows
/// locked in user order, so two deliveries never wait on each other in a cycle). Answers the
/// number of every change recorded now or before; a change missing from the answer is being
/// recorded by a concurrent delivery. Every lookup of the change log goes through its primary
/// key, so the statement's cost does not grow with the log (`in (select …)` let the planner,
/// which guesses 100 input rows, scan the whole log for the earlier changes).
#[must_use]
pub fn record_many(changes: &[Change]) -> Query<Recorded> {
    let rows: Vec<Value> = changes
        .iter()
        .enumerate()
        .map(|(ord, c)| {
            json!({
                "ord": ord,
                "event_id": c.event_id,
                "user_id": c.user_id,
                "event_type": c.event_type,
                "task_id": c.task_id,
                "series_id": c.series_id,
                "event_time": c.time,
            })
        })
        .collect();
    let sql = "with input as ( \
                 select * from jsonb_to_recordset($1::jsonb) as x(ord int, event_id text, user_id text, \
                   event_type text, task_id text, series_id text, event_time timestamptz)), \
               fresh as ( \
                 select distinct on (i.event_id) i.* from input i \
                 where not exists (select 1 from dashboard_changes d where d.event_id = i.event_id) \
                 order by i.event_id, i.ord), \
               counts as (select user_id, count(*)::bigint as n from fresh group by user_id), \
               bump as ( \
                 insert into dashboard_cursors (user_id, seq) \
                 select user_id, n from counts order by user_id \
                 on conflict (user_id) do update set seq = dashboard_cursors.seq + excluded.seq, updated_at = now() \
                 returning user_id, seq), \
               numbered as ( \
                 select f.*, b.seq - c.n + row_number() over (partition by f.user_id order by f.ord) as seq \
                 from fresh f join counts c using (user_id) join bump b using (user_id)), \
               ins as ( \
                 insert into dashboard_changes (event_id, user_id, seq, event_type, task_id, series_id, event_time) \
                 select event_id, user_id, seq, event_type, task_id, series_id, event_time from numbered \
                 on conflict (event_id) do nothing \
                 returning event_id, seq), \
               before as ( \
                 select d.event_id, d.seq from dashboard_changes d \
                 where d.event_id = any(array(select event_id from input))) \
               select event_id, seq from ins union select event_id, seq from before";
    Query::new(Statement {
        sql: sql.to_string(),
        params: vec![json!(Value::Array(rows).to_string())],
    })
}

/// The user's latest sequence number (no row: nothing recorded yet, i.e. 0).
#[must_use]
pub fn cursor(user_id: &str) -> Query<Seq> {
    Query::new(Statement {
        sql: "select seq from dashboard_cursors where user_id = $1".to_string(),
        params: vec![json!(user_id)],
    })
}

/// The user's changes numbered above `after`, oldest first, at most [`MAX_CHANGES`].
#[must_use]
pub fn after(user_id: &str, after: i64) -> Query<ChangeRow> {
    Query::new(Statement {
        sql: format!(
            "select seq, event_type, task_id, series_id, event_id, {time} as event_time from dashboard_changes \
             where user_id = $1 and seq > $2 order by seq limit {MAX_CHANGES}",
            time = ts_ms("event_time")
        ),
        params: vec![json!(user_id), json!(after)],
    })
}

/// Most slots a deployment may admit (rows of `live_poll_slots`, migration 0013).
pub const MAX_SLOTS: i64 = 10_000;

/// A live-poll slot taken by [`take_slot`] or given back by [`give_back_slot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    /// Its number, 1 ..= the cap.
    pub slot: i32,
}

/// Takes the lowest free slot numbered at most `cap` for `hold_secs` (no row: all are held).
/// Concurrent takers get different slots (`for update skip locked`).
#[must_use]
pub fn take_slot(cap: i64, holder: &str, hold_secs: i64) -> Query<Slot> {
    Query::new(Statement {
        sql: "update live_poll_slots set held_until = now() + make_interval(secs => $3::int), holder = $2 \
              where slot = (select slot from live_poll_slots where slot <= $1::int and held_until < now() \
                            order by slot limit 1 for update skip locked) \
              returning slot"
            .to_string(),
        params: vec![json!(cap.clamp(0, MAX_SLOTS)), json!(holder), json!(hold_secs)],
    })
}

/// Frees the slot `holder` took (no row: it had expired and was taken by another).
#[must_use]
pub fn give_back_slot(slot: i32, holder: &str) -> Query<Slot> {
    Query::new(Statement {
        sql: "update live_poll_slots set held_until = '-infinity', holder = null \
              where slot = $1::int and holder = $2 returning slot"
            .to_string(),
        params: vec![json!(slot), json!(holder)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: Value, partitionkey: Option<&str>) -> Vec<u8> {
        let mut e = json!({
            "specversion": "1.0", "id": "e-1", "source": "/task-api", "type": "v1.task.completed",
            "time": "2026-11-26T04:36:17.481Z", "datacontenttype": "application/json", "data": data,
        });
        if let Some(k) = partitionkey {
            e["partitionkey"] = json!(k);
        }
        e.to_string().into_bytes()
    }

    #[test]
    fn a_task_event_names_its_user_task_and_series() {
        let c = parse(&event(
            json!({"task_id": "t", "user_id": "alice", "series_id": "s"}),
            Some("alice"),
        ))
        .unwrap();
        assert_eq!(
            c,
            Change {
                event_id: "e-1".into(),
                user_id: "alice".into(),
                event_type: "v1.task.completed".into(),
                task_id: Some("t".into()),
                series_id: Some("s".into()),
                time: Some("2026-11-26T04:36:17.481Z".into()),
            }
        );
    }

    #[test]
    fn the_task_snapshot_and_the_partition_key_fill_in_missing_fields() {
        let c = parse(&event(
            json!({"task": {"task_id": "t2", "series_id": null}}),
            Some("bob"),
        ))
        .unwrap();
        assert_eq!(
            (c.user_id.as_str(), c.task_id.as_deref(), c.series_id),
            ("bob", Some("t2"), None)
        );
    }

    #[test]
    fn events_without_a_user_or_envelope_are_poison() {
        assert_eq!(
            parse(&event(json!({"task_id": "t"}), None)),
            Err(Poison::NoUser("e-1".into()))
        );
        assert!(matches!(parse(b"{\"hello\":1}"), Err(Poison::Envelope(_))));
        assert!(matches!(parse(b"not json"), Err(Poison::Envelope(_))));
    }

    #[test]
    fn a_bulk_is_recorded_with_one_bound_list_in_delivery_order() {
        let a = parse(&event(json!({"task_id": "t", "user_id": "alice"}), None)).unwrap();
        let mut b = a.clone();
        b.event_id = "e-2".into();
        b.user_id = "it's bob".into();
        let s = record_many(&[a, b]);
        let rows: Value = serde_json::from_str(
            serde_json::from_str::<Vec<String>>(&s.params_json())
                .unwrap()
                .first()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(rows[0]["ord"], 0);
        assert_eq!(rows[0]["event_id"], "e-1");
        assert_eq!(rows[1]["ord"], 1);
        assert_eq!(rows[1]["user_id"], "it's bob");
        assert!(
            !s.sql.contains("bob"),
            "values are bound, never interpolated"
        );
        assert!(s.sql.contains("order by user_id"));
    }

    #[test]
    fn recording_binds_every_field_in_order() {
        let c = parse(&event(json!({"task_id": "t", "user_id": "alice"}), None)).unwrap();
        let s = record(&c);
        assert_eq!(
            s.params_json(),
            r#"["e-1","alice","v1.task.completed","t",null,"2026-11-26T04:36:17.481Z"]"#
        );
        assert!(s.sql.contains("on conflict (event_id) do nothing"));
        assert_eq!(after("alice", 7).params_json(), r#"["alice",7]"#);
    }
}
