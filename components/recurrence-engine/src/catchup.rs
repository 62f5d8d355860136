//! Catch-up of missed occurrences, driven by the Jobs API (no polling loop): the recurring job
//! `recurrence-catchup` (every `CATCHUP_EVERY`, default 10 min, shorter than the 15-minute
//! pre-creation lead) is (re)scheduled each time the engine's sidecar starts, due 5 s later.
//! Its trigger pages (100 series per query) through active fixed-grid series whose chain is
//! stuck: the occurrence after their latest instance is due for pre-creation (or past) and has
//! no instance, because its job was lost (the engine was down when it fired and the failure
//! policy gave up, or the event that schedules it was dead-lettered).
//!
//! For each, the recurrence library's default catch-up policy applies
//! (`CatchUpPolicy::SkipWithCount`): occurrences whose due time passed are skipped and counted
//! in `series.missed_occurrences` (never silently lost). The first occurrence after now is
//! generated in the page's batch (one statement for up to 100 instances, one bulk publish per
//! topic, overlapped with the next page) when its pre-creation time has come, else its job is
//! scheduled. Batches are paced by `GENERATION_RATE` (generations per second); after 50 pages
//! or 8 s the sweep continues in a one-shot `recurrence-catchup-more-<last series id>` job due
//! at once, so one trigger stays short. This is also how a
//! thundering herd whose jobs could not all run in their window is generated.

use chrono::{DateTime, TimeDelta, Utc};
use component_kit::dapr::{Dapr, DaprError};
use domain::{Mode, SeriesId};
use engine::{precreate_lead_secs, Chain, PRECREATE_CONSUMER};
use serde_json::{json, Value};
use spin_sdk::http::Response;
use store::engine::BatchItem;

use component_kit::db::query;
use store::outbox::Events;

use crate::outcome::publish_bulk;

/// Name (and name prefix) of the catch-up jobs.
pub const JOB: &str = "recurrence-catchup";
/// Name prefix of the continuation jobs of a sweep with more stuck series than one trigger
/// handles (`recurrence-catchup-more-<last series id>`: one one-shot job per continuation).
const MORE: &str = "recurrence-catchup-more";
/// Series per query.
const PAGE: u32 = 100;
/// Pages per trigger before the rest continues in [`MORE`].
const PAGES_PER_TRIGGER: usize = 50;
/// Time per trigger before the rest continues in [`MORE`] (a trigger stays well inside the
/// sidecar's patience).
const TRIGGER_BUDGET: std::time::Duration = std::time::Duration::from_secs(8);
/// Default rate limit of the generation sweep (generations per second).
pub const DEFAULT_GENERATION_RATE: u32 = 500;
/// The lowest series id (keyset start).
const FIRST: &str = "00000000-0000-0000-0000-000000000000";

/// How often the catch-up job runs (`CATCHUP_EVERY`, a Go duration; default 10m).
fn every() -> String {
    std::env::var("CATCHUP_EVERY")
        .ok()
        .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "10m".to_string())
}

/// Schedules the recurring catch-up job, first due 5 s from now (overwrite: one job).
pub async fn on_start() {
    let job = json!({
        "schedule": format!("@every {}", every()),
        "dueTime": "5s",
        "overwrite": true,
        "data": {},
    });
    match Dapr::from_env().schedule_job(JOB, &job).await {
        Ok(_) => component_kit::info!(
            "recurrence-engine: catch-up job scheduled (@every {})",
            every()
        ),
        Err(e) => {
            component_kit::warn!("recurrence-engine: scheduling the catch-up job failed: {e}")
        }
    }
}

/// The engine's chain of a `store::engine::series_chains` / `stuck_chains` row; `None` if its
/// series id is not a UUID.
pub fn chain(row: &store::engine::Chain) -> Option<Chain> {
    let series_id = SeriesId::parse(&row.series_id)?;
    let mode = Mode::parse(&row.mode).unwrap_or_default();
    Some(Chain {
        series_id,
        series: domain::schedule::stored_series(
            &row.rule,
            &row.dtstart_local,
            &row.tzid,
            row.end_date,
            mode,
        ),
        active: row.is_active,
        frontier: row.frontier,
        frontier_upcoming: row.frontier_upcoming,
        counted_through: row.caught_up_through,
        lead_secs: precreate_lead_secs(row.largest_offset_secs),
    })
}

/// `POST /job/recurrence-catchup[-more]`: 503 lets the job's failure policy (or the next run)
/// retry; the work done before a failure is kept (each series is handled on its own).
pub async fn trigger(name: &str, body: &[u8]) -> Response {
    let after = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("after").and_then(Value::as_str).map(str::to_string))
        .filter(|a| SeriesId::parse(a).is_some())
        .unwrap_or_else(|| FIRST.to_string());
    match run(&Dapr::from_env(), &after, Utc::now()).await {
        Ok(v) => {
            component_kit::info!("recurrence-engine: job {name}: {v}");
            let ran = store::jobs::record_job(name, "catchup", &v, true);
            let dapr = Dapr::from_env();
            if let Err(e) = component_kit::db::exec(&dapr, &ran).await {
                component_kit::warn!("recurrence-engine: recording run of job {name} failed: {e}");
            }
            component_kit::json::response(200, &v)
        }
        Err(e) => {
            component_kit::warn!("recurrence-engine: job {name} failed: {e}");
            component_kit::json::response(503, &json!({"status": "retry", "reason": e.to_string()}))
        }
    }
}

/// Generations per second the sweep allows itself (`GENERATION_RATE`, 1..=100000; default
/// [`DEFAULT_GENERATION_RATE`]).
fn generation_rate() -> u32 {
    std::env::var("GENERATION_RATE")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|r| (1..=100_000).contains(r))
        .unwrap_or(DEFAULT_GENERATION_RATE)
}

/// One page of the sweep: what it found and generated, and its events to publish.
#[derive(Default)]
struct Page {
    /// Rows the scan answered (a short page ends the sweep).
    rows: usize,
    /// The last series id of the page (the keyset cursor).
    last: Option<String>,
    series: u64,
    skipped: u64,
    created: u64,
    /// The outbox events of the page's batch statement.
    events: Events,
    scan_ms: u128,
    plan_ms: u128,
    insert_ms: u128,
}

/// Reads one page of stuck chains after `cursor`, puts each chain in order (stale jobs
/// cancelled, later occurrences scheduled, missed ones counted) and generates the occurrences
/// whose pre-creation time has come in one batch statement.
async fn page(dapr: &Dapr, cursor: &str, now: DateTime<Utc>) -> Result<Page, DaprError> {
    let mut p = Page::default();
    let t = std::time::Instant::now();
    let rows = query(dapr, &store::engine::stuck_chains(cursor, now, PAGE)).await?;
    p.rows = rows.len();
    p.scan_ms = t.elapsed().as_millis();
    let t = std::time::Instant::now();
    let mut batch = Vec::new();
    for c in rows.iter().filter_map(chain) {
        p.last = Some(c.series_id.as_str().to_string());
        p.series += 1;
        let mut r = engine::resume(&c, now);
        // Occurrences whose pre-creation time has come are generated in this page's batch;
        // later ones get their job.
        let horizon = now + TimeDelta::seconds(c.lead_secs);
        if let Some(o) = r.schedule.take_if(|o| o.occurrence <= horizon) {
            let upcoming = c.series.as_ref().and_then(|s| s.next_after(o.occurrence));
            batch.push(BatchItem {
                key: o.job_name(),
                series: o.series_id.clone(),
                occurrence: o.occurrence,
                upcoming,
            });
        }
        crate::precreate::apply(dapr, &r, c.lead_secs).await?;
        if r.skipped > 0 {
            let rec =
                store::engine::record_catch_up(&c.series_id, r.skipped, now, c.counted_through);
            component_kit::db::exec(dapr, &rec).await?;
            component_kit::warn!(
                "recurrence-engine: catch-up of series {}: {} missed occurrence(s) skipped and counted",
                c.series_id.as_str(),
                r.skipped
            );
            p.skipped += u64::from(r.skipped);
        }
    }
    p.plan_ms = t.elapsed().as_millis();
    if !batch.is_empty() {
        let t = std::time::Instant::now();
        let out = query(
            dapr,
            &store::engine::precreate_batch(PRECREATE_CONSUMER, &batch),
        )
        .await?;
        p.insert_ms = t.elapsed().as_millis();
        if let Some(row) = out.first() {
            p.created = u64::try_from(row.created).unwrap_or(0);
            p.events = row.events.clone();
        }
    }
    Ok(p)
}

async fn run(dapr: &Dapr, after: &str, now: DateTime<Utc>) -> Result<Value, DaprError> {
    let rate = f64::from(generation_rate());
    let started = std::time::Instant::now();
    let mut cursor = after.to_string();
    let (mut series, mut skipped, mut created) = (0u64, 0u64, 0u64);
    let mut finished = false;
    // Time spent per phase (ms), reported in the run's summary: the publish of a batch's
    // events runs while the next page is read, planned and inserted (`overlapped`), the last
    // one alone (`publish`).
    let (mut scan_ms, mut plan_ms, mut insert_ms, mut overlap_ms, mut publish_ms) =
        (0u128, 0u128, 0u128, 0u128, 0u128);
    let mut pending = Events::default();
    for _ in 0..PAGES_PER_TRIGGER {
        let t = std::time::Instant::now();
        let (p, ()) = futures::join!(page(dapr, &cursor, now), publish_bulk(dapr, &pending));
        overlap_ms += t.elapsed().as_millis();
        let p = p?;
        if let Some(last) = p.last {
            cursor = last;
        }
        series += p.series;
        skipped += p.skipped;
        created += p.created;
        pending = p.events;
        (scan_ms, plan_ms, insert_ms) = (
            scan_ms + p.scan_ms,
            plan_ms + p.plan_ms,
            insert_ms + p.insert_ms,
        );
        if p.created > 0 {
            // Rate limit: never ahead of `rate` generations per second.
            let due = std::time::Duration::from_secs_f64(created as f64 / rate);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        if p.rows < PAGE as usize {
            finished = true;
            break;
        }
        if started.elapsed() > TRIGGER_BUDGET {
            break;
        }
    }
    let t = std::time::Instant::now();
    publish_bulk(dapr, &pending).await;
    publish_ms += t.elapsed().as_millis();
    let summary = json!({"series": series, "skipped": skipped, "created": created,
                         "seconds": started.elapsed().as_secs_f64(), "rate_limit": rate,
                         "ms": {"scan": scan_ms, "plan": plan_ms, "insert": insert_ms,
                                "pages_with_overlapped_publish": overlap_ms, "publish": publish_ms}});
    if finished {
        return Ok(json!({"status": "done", "summary": summary}));
    }
    // Continue at once (the trigger stays short; the next one starts without waiting).
    let more = json!({"dueTime": "0s", "overwrite": true, "data": {"after": cursor},
                      "failure_policy": {"constant": {"interval": "5s", "max_retries": 3}}});
    dapr.schedule_job(&format!("{MORE}-{cursor}"), &more)
        .await?;
    Ok(json!({"status": "continues", "after": cursor, "summary": summary}))
}
