//! The transactional outbox: the rows due for publishing, their bookkeeping after an attempt,
//! and the gauges `/metrics` exposes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::fragments::event_json;
use crate::statement::{Binder, Query, Statement};

/// An outbox row as the statements answer it (the `events` column of a write, the `event` of
/// [`unpublished`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OutboxEvent {
    /// Event id = `CloudEvent` `id`.
    pub event_id: String,
    /// `v1.task.created` …
    #[serde(rename = "type")]
    pub event_type: String,
    /// Kafka topic.
    pub topic: String,
    /// Owner; the partition key.
    pub user_id: String,
    /// `CloudEvent` `source` of the service that wrote the row.
    #[serde(default)]
    pub source: Option<String>,
    /// Commit time (RFC 3339, ms).
    pub time: String,
    /// The payload.
    pub data: Value,
}

impl OutboxEvent {
    /// The `CloudEvent` 1.0 JSON of the event; `None` if the row is not a valid event.
    #[must_use]
    pub fn cloud_event(&self) -> Option<String> {
        let time = DateTime::parse_from_rfc3339(&self.time)
            .ok()?
            .with_timezone(&Utc);
        events::CloudEvent::new(
            &self.event_id,
            self.source.as_deref()?,
            &self.event_type,
            time,
            Some(self.user_id.clone()),
            self.data.clone(),
        )
        .ok()
        .map(|e| e.to_json())
    }
}

/// The `events` column of a write: the outbox rows it inserted, to publish right after the
/// commit. An array that does not decode reads as no events: the rows are committed, and the
/// repair job publishes or parks them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Events(pub Vec<OutboxEvent>);

impl<'de> Deserialize<'de> for Events {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(Events(serde_json::from_value(v).unwrap_or_default()))
    }
}

/// A due outbox row ([`unpublished`]); `event` is decoded by the publisher, which parks a row
/// that is not an event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DueEvent {
    /// The row's event id.
    pub event_id: String,
    /// The event, as [`OutboxEvent`] JSON.
    pub event: Value,
}

/// The outbox figures of `/metrics` ([`outbox_gauges`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxGauges {
    /// Rows parked for an operator.
    pub parked: i64,
    /// Rows unpublished and not parked.
    pub pending: i64,
    /// Age of the oldest pending row (0 when none).
    pub oldest_pending_age_seconds: i64,
}

/// Marks outbox rows published: `ids` are event ids.
#[must_use]
pub fn mark_published(ids: &[&str]) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "update outbox set published_at = now() where event_id = any(string_to_array({}, ',')::uuid[]) and published_at is null",
        b.bind(ids.join(","))
    );
    b.finish(sql)
}

/// Failed publish attempts a row may have before it can be parked.
pub const OUTBOX_MAX_ATTEMPTS: u32 = 10;

/// Counts a failed publish attempt for outbox rows: records `error`, holds each row back for
/// `2^attempts` seconds (at most 5 minutes), and parks a row that has failed
/// [`OUTBOX_MAX_ATTEMPTS`] times while other events were published in the last minute (the
/// broker works, so the failure is the row's own; during an outage nothing is parked).
#[must_use]
pub fn mark_failed(ids: &[&str], error: &str) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "update outbox o set retry_count = o.retry_count + 1, last_error = left({e}, 2000), \
         next_attempt_at = now() + least(300, power(2, least(o.retry_count + 1, 9))) * interval '1 second', \
         parked_at = case when o.retry_count + 1 >= {max} and exists (select 1 from outbox p \
         where p.published_at > now() - interval '1 minute') then now() end \
         where o.event_id = any(string_to_array({ids}, ',')::uuid[]) and o.published_at is null",
        e = b.bind(error),
        max = b.bind(OUTBOX_MAX_ATTEMPTS),
        ids = b.bind(ids.join(",")),
    );
    b.finish(sql)
}

/// Parks an outbox row at once: it is not a valid event and no attempt can publish it.
#[must_use]
pub fn park(id: &str, reason: &str) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "update outbox set parked_at = now(), last_error = left({r}, 2000) \
         where event_id = {id}::uuid and published_at is null",
        r = b.bind(reason),
        id = b.bind(id),
    );
    b.finish(sql)
}

/// The unpublished, unparked outbox rows that are due for the repair jobs, in the order they
/// were written (through the partial index): rows that failed before, and rows older than
/// [`crate::fragments::RELAY_STALE_SECS`] (younger ones are the outbox relay's or their
/// writer's to publish, so the 15 s sweep does not send them a second time). A row held back
/// after a failure holds back the later rows of its user (per-user order) and no one else's.
#[must_use]
pub fn unpublished(limit: u32) -> Query<DueEvent> {
    let mut b = Binder::default();
    let sql = format!(
        "select o.event_id::text as event_id, {} as event from outbox o where o.published_at is null and o.parked_at is null \
         and (o.next_attempt_at is null or o.next_attempt_at <= now()) \
         and (o.retry_count > 0 or o.created_at < now() - interval '{} seconds') \
         and not exists (select 1 from outbox q where q.user_id = o.user_id and q.published_at is null \
         and q.parked_at is null and q.seq < o.seq and q.next_attempt_at > now()) order by o.seq limit {}",
        event_json("o"),
        crate::fragments::RELAY_STALE_SECS,
        b.bind(limit)
    );
    b.finish_query(sql)
}

/// Seconds a relay run holds the rows it read ([`unpublished_from`]) before another run or the
/// repair jobs may take them (a run that died with them, or is stuck on a broker that does
/// not answer).
pub const RELAY_LEASE_SECS: u32 = 30;

/// The outbox relay's batch, claimed: the rows written with the `CloudEvent` source `source`
/// (the other services publish their own rows) that no attempt has failed yet and no other run
/// holds, young ones included, in written order. Each is held for [`RELAY_LEASE_SECS`]
/// (`next_attempt_at`), so runs that overlap (a run stuck on a broker that is down while writes
/// arm new ones) never send the same rows. The update finds them by primary key (`seq` has
/// only the pending rows' partial index, so a join on it read the whole outbox). Like a write's own publish before the relay, it does
/// not wait behind a user's failed rows: those are the repair jobs' (with their backoff), so an
/// outage's failed rows cannot hold back the events written after it.
#[must_use]
pub fn unpublished_from(source: &str, limit: u32) -> Query<DueEvent> {
    let mut b = Binder::default();
    let sql = format!(
        "with c as (select o.event_id from outbox o where o.published_at is null and o.parked_at is null \
         and o.retry_count = 0 and o.source = {src} and (o.next_attempt_at is null or o.next_attempt_at <= now()) \
         order by o.seq limit {lim} for update skip locked), \
         u as (update outbox o set next_attempt_at = now() + interval '{lease} seconds' from c where o.event_id = c.event_id \
         returning o.seq, o.event_id::text as event_id, {event} as event) \
         select u.event_id, u.event from u order by u.seq",
        src = b.bind(source),
        lim = b.bind(limit),
        lease = RELAY_LEASE_SECS,
        event = event_json("o"),
    );
    b.finish_query(sql)
}

/// The relay row as [`arm_relay`] answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayState {
    /// Whether the relay is armed after the statement.
    pub armed: bool,
}

/// Arms the outbox relay unless it is armed already (a stale arm counts as idle,
/// [`crate::fragments::RELAY_STALE_SECS`]). Answers one row when this call armed it: the
/// caller then schedules the relay's job, or runs the relay itself if it cannot. Runs after the
/// caller's write committed; the function (migration 0015) takes the table's EXCLUSIVE lock
/// first, so it waits for the writes in flight instead of competing with their share locks.
#[must_use]
pub fn arm_relay() -> Query<RelayState> {
    let mut b = Binder::default();
    let sql = format!(
        "select armed from outbox_relay_arm({}::integer)",
        b.bind(crate::fragments::RELAY_STALE_SECS)
    );
    b.finish_query(sql)
}

/// Seconds a relay run holds the relay ([`start_relay`]) before another run may start (a run
/// that died, or is stuck on a broker that does not answer).
pub const RELAY_RUN_LEASE_SECS: u32 = 30;

/// A relay start as [`start_relay`] answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayRun {
    /// The new run's id, or `None` when another run holds the relay.
    pub run: Option<String>,
}

/// Starts a relay run (migration 0016): one row with the run's id, or with none when another
/// run is publishing (the caller answers 503 and its job retries). A run clears the relay's arm
/// as a statement of its own, before it reads its batch: its EXCLUSIVE table lock waits for
/// every write in flight (each holds the table's ROW SHARE lock from its `relay_idle` column to
/// its commit), so the read that follows sees their rows, and a later write finds the relay idle
/// and arms it again. One run at a time keeps each user's events in order across runs.
#[must_use]
pub fn start_relay() -> Query<RelayRun> {
    let mut b = Binder::default();
    let sql = format!(
        "select run from outbox_relay_start({}::integer)",
        b.bind(RELAY_RUN_LEASE_SECS)
    );
    b.finish_query(sql)
}

/// Ends the relay run `run` ([`start_relay`]); a run whose lease expired ends nothing.
#[must_use]
pub fn finish_relay(run: &str) -> Statement {
    let mut b = Binder::default();
    let sql = format!("select finished from outbox_relay_finish({})", b.bind(run));
    b.finish(sql)
}

/// The outbox figures the Task API's `/metrics` exposes. Parked rows are the ones
/// `scripts/dlq.sh list outbox` lists (they wait for an operator); pending rows are unpublished
/// and not parked. Each count reads its partial index only (migration 0010).
#[must_use]
pub fn outbox_gauges() -> Query<OutboxGauges> {
    Query::new(Statement {
        sql: "select (select count(*) from outbox where parked_at is not null and published_at is null) as parked, \
              (select count(*) from outbox where published_at is null and parked_at is null) as pending, \
              coalesce((select floor(extract(epoch from now() - created_at))::bigint from outbox \
              where published_at is null and parked_at is null order by seq limit 1), 0) as oldest_pending_age_seconds"
            .into(),
        params: Vec::new(),
    })
}
