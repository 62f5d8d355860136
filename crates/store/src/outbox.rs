//! The transactional outbox: the rows due for publishing, their bookkeeping after an attempt,
//! and the gauges `/metrics` exposes.

use serde::Deserialize;

use crate::fragments::event_json;
use crate::statement::*;

/// Marks outbox rows published: `ids` are event ids.
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

/// The unpublished, unparked outbox rows that are due, in the order they were written
/// (through the partial index): `[event_id, event]`. A row held back after a failure holds back
/// the later rows of its user (per-user order) and no one else's.
pub fn unpublished(limit: u32) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "select o.event_id::text, {}::text from outbox o where o.published_at is null and o.parked_at is null \
         and (o.next_attempt_at is null or o.next_attempt_at <= now()) \
         and not exists (select 1 from outbox q where q.user_id = o.user_id and q.published_at is null \
         and q.parked_at is null and q.seq < o.seq and q.next_attempt_at > now()) order by o.seq limit {}",
        event_json("o"),
        b.bind(limit)
    );
    b.finish(sql)
}

/// The outbox figures the Task API's `/metrics` exposes, one row of integers as text:
/// `[parked, pending, oldest_pending_age_seconds]`. Parked rows are the ones
/// `scripts/dlq.sh list outbox` lists (they wait for an operator); pending rows are unpublished
/// and not parked. Each count reads its partial index only (migration 0010).
pub fn outbox_gauges() -> Statement {
    Statement {
        sql: "select (select count(*) from outbox where parked_at is not null and published_at is null)::text, \
              (select count(*) from outbox where published_at is null and parked_at is null)::text, \
              coalesce((select floor(extract(epoch from now() - created_at))::bigint from outbox \
              where published_at is null and parked_at is null order by seq limit 1), 0)::text"
            .into(),
        params: Vec::new(),
    }
}
