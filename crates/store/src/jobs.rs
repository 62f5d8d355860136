//! Bookkeeping shared by the services: scheduled Dapr jobs and processed events.

use serde_json::Value;

use crate::statement::{Binder, Statement};

/// Records that `consumer` handled `event_id` (for consumers whose effect is not a database
/// write, e.g. scheduling a job under a deterministic name).
#[must_use]
pub fn record_processed(consumer: &str, event_id: &str) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "insert into processed_events (consumer, event_id) values ({}, {}) on conflict do nothing",
        b.bind(consumer),
        b.bind(event_id)
    );
    b.finish(sql)
}

/// Records that a Dapr job was scheduled (or ran, with `ran`).
#[must_use]
pub fn record_job(name: &str, kind: &str, data: &Value, ran: bool) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "insert into jobs (name, kind, data, scheduled_at, last_run_at, runs) values ({n}, {k}, {d}::jsonb, now(), \
         case when {r}::boolean then now() end, case when {r}::boolean then 1 else 0 end) \
         on conflict (name) do update set data = excluded.data, \
         scheduled_at = case when {r}::boolean then jobs.scheduled_at else now() end, \
         last_run_at = coalesce(excluded.last_run_at, jobs.last_run_at), runs = jobs.runs + excluded.runs",
        n = b.bind(name),
        k = b.bind(kind),
        d = b.bind(data.to_string()),
        r = b.bind(ran),
    );
    b.finish(sql)
}
