//! Live updates. The consumer side records each task event (declarative subscriptions to
//! `task-operations` and `task-modifications`) once in the user's change log through the
//! PostgreSQL binding and publishes it to the user's live-sync channel ([`crate::live`]). The log
//! is also read directly: a page catching up after a reconnect, and pages where live sync is
//! off, which long-poll it: the page's long poll `GET /api/changes?after=<seq>` re-reads the user's
//! cursor row every [`POLL_INTERVAL`] for up to [`MAX_WAIT`] and answers as soon as it moved.
//! A Wasm instance lives for one request, so it cannot be woken by another request: the
//! re-read is the only signal it can wait on (docs/adr/0006-dashboard-live-updates.md).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use component_kit::bearer::authenticate;
use component_kit::dapr::Dapr;
use component_kit::db::query;
use component_kit::delivery::{self, Delivery, Entry, Status};
use component_kit::json;
use serde_json::{json, Value};
use spin_sdk::http::{Request, Response};
use store::changes::{self, Poison};

use crate::error::DashError;
use crate::live;
use crate::preview::param;

/// How often a waiting poll re-reads the cursor row (the first [`FAST_SLOTS`] polls; later
/// ones re-read less often, see [`interval`]).
pub const POLL_INTERVAL: Duration = Duration::from_millis(75);
/// Longest a poll waits for a change (`wait` may ask for less).
pub const MAX_WAIT: Duration = Duration::from_secs(20);
/// Waiting polls admitted at once when `MAX_LIVE_POLLS` is not set. With the instances the
/// host gives a component (1000, docs/reliability.md), this leaves most of them to Dapr's
/// deliveries and to short requests, whatever the number of open pages.
pub const DEFAULT_MAX_LIVE_POLLS: i64 = 150;
/// Polls in slots up to this number re-read every [`POLL_INTERVAL`].
pub const FAST_SLOTS: i32 = 50;
/// Seconds a page refused for lack of a slot waits (plus up to as many again, spread).
pub const RETRY_AFTER_SECS: u64 = 5;

/// Waiting polls admitted at once: `MAX_LIVE_POLLS` from the WASI environment, else
/// [`DEFAULT_MAX_LIVE_POLLS`].
fn max_live_polls() -> i64 {
    std::env::var("MAX_LIVE_POLLS")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_LIVE_POLLS)
}

/// The re-read interval of the poll in `slot`: 75 ms for the first 50, 150 ms up to 100,
/// 300 ms beyond, so the database reads of all waiting pages stay bounded (~1,300/s at 150).
fn interval(slot: i32) -> Duration {
    match slot {
        s if s <= FAST_SLOTS => POLL_INTERVAL,
        s if s <= 2 * FAST_SLOTS => POLL_INTERVAL * 2,
        _ => POLL_INTERVAL * 4,
    }
}

/// A per-request name for the slot holder, and the spread of `Retry-After`.
fn holder() -> (String, u64) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (
        format!("poll-{nanos:x}"),
        u64::try_from(nanos % 1000).unwrap_or(0),
    )
}

/// Handles a delivery from the sidecar: one event ([`record`]) or a bulk of them
/// ([`record_bulk`]).
pub async fn deliver(body: &[u8]) -> Response {
    match delivery::read(body) {
        Delivery::Single => delivery::single_response(record(body).await),
        Delivery::Bulk(entries) => delivery::bulk_response(&record_bulk(entries).await),
    }
}

/// Handles the events of a bulk delivery with one statement and one publish call: poison is
/// `DROP`, every change is `RETRY` when the database could not be reached, and a change whose
/// publication failed is `RETRY` (recorded once; a redelivery publishes it again).
async fn record_bulk(entries: Vec<Entry>) -> Vec<(String, Status)> {
    let mut statuses = Vec::with_capacity(entries.len());
    // The parsed changes, and beside each the index of its entry's status.
    let mut parsed = Vec::with_capacity(entries.len());
    let mut at = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        match changes::parse(&entry.event) {
            Ok(change) => {
                parsed.push(change);
                at.push(i);
                statuses.push((entry.entry_id, Status::Success));
            }
            Err(p) => {
                component_kit::error!("dashboard: dead-lettering: {p}");
                statuses.push((entry.entry_id, Status::Drop));
            }
        }
    }
    if parsed.is_empty() {
        return statuses;
    }
    let dapr = Dapr::from_env();
    let recorded = match query(&dapr, &changes::record_many(&parsed)).await {
        Ok(rows) => rows,
        Err(e) => {
            for (&i, change) in at.iter().zip(&parsed) {
                component_kit::warn!("dashboard: will retry event {}: {e}", change.event_id);
                statuses[i].1 = Status::Retry;
            }
            return statuses;
        }
    };
    if !live::enabled() {
        return statuses;
    }
    let seqs: HashMap<&str, i64> = recorded
        .iter()
        .map(|r| (r.event_id.as_str(), r.seq))
        .collect();
    // Changes without a number are being recorded (and published) by a concurrent delivery.
    let (numbered_at, numbered): (Vec<usize>, Vec<(&changes::Change, i64)>) = at
        .iter()
        .zip(&parsed)
        .filter_map(|(&i, c)| seqs.get(c.event_id.as_str()).map(|&s| (i, (c, s))))
        .unzip();
    let outcomes = live::publish_many(&dapr, &numbered).await;
    for ((i, (change, _)), outcome) in numbered_at.into_iter().zip(&numbered).zip(outcomes) {
        if let Err(e) = outcome {
            statuses[i].1 = live::unpublished(change, &e);
        }
    }
    statuses
}

/// Handles one delivered event: `SUCCESS` when recorded (or already recorded), `DROP` for
/// poison (dead-letter topic), `RETRY` when the database could not be reached.
pub async fn record(body: &[u8]) -> Status {
    let change = match changes::parse(body) {
        Ok(c) => c,
        Err(p @ (Poison::Envelope(_) | Poison::NoUser(_))) => {
            component_kit::error!("dashboard: dead-lettering: {p}");
            return Status::Drop;
        }
    };
    let dapr = Dapr::from_env();
    match query(&dapr, &changes::record(&change)).await {
        // Published on every delivery, a redelivery too: the first publish may have failed.
        Ok(rows) => match rows.first() {
            Some(recorded) if live::enabled() => {
                match live::publish(&dapr, &change, recorded.seq).await {
                    Ok(()) => Status::Success,
                    Err(e) => live::unpublished(&change, &e),
                }
            }
            // No row: a concurrent delivery of the same event is recording and publishing it.
            _ => Status::Success,
        },
        Err(e) => {
            component_kit::warn!("dashboard: will retry event {}: {e}", change.event_id);
            Status::Retry
        }
    }
}

fn seq_of(rows: &[changes::Seq]) -> i64 {
    rows.first().map_or(0, |r| r.seq)
}

fn number(query: &str, name: &str) -> Result<Option<i64>, DashError> {
    param(query, name)
        .map(|v| {
            v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                DashError::BadRequest(format!("{name} must be a whole number >= 0, got \"{v}\""))
            })
        })
        .transpose()
}

/// `GET /api/changes[?after=<seq>][&wait=<seconds>]`: without `after`, the current cursor at
/// once; with it, the user's changes numbered above `after` as soon as there are any, or none
/// after the wait. `reset: true` means the log is behind the page's cursor (a new database):
/// reload everything.
pub async fn poll(req: Request) -> Result<Response, DashError> {
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let q = req.query();
    let after = number(q, "after")?;
    let wait = number(q, "wait")?
        .map(|s| Duration::from_secs(s as u64).min(MAX_WAIT))
        .unwrap_or(MAX_WAIT);
    let started = Instant::now();
    let Some(after) = after else {
        let cursor = seq_of(&query(&dapr, &changes::cursor(&user)).await?);
        return Ok(answer(cursor, Vec::new(), false));
    };
    // Admission: a waiting poll holds a slot; none free → 503 with Retry-After, at once.
    let (holder, spread) = holder();
    let hold = i64::try_from(wait.as_secs()).unwrap_or(20) + 10;
    let Some(slot) = query(&dapr, &changes::take_slot(max_live_polls(), &holder, hold))
        .await?
        .first()
        .map(|s| s.slot)
    else {
        return Err(DashError::Busy {
            retry_after: RETRY_AFTER_SECS + spread % (RETRY_AFTER_SECS + 1),
        });
    };
    let result = wait_for_changes(&dapr, &user, after, wait, started, slot).await;
    if let Err(e) = query(&dapr, &changes::give_back_slot(slot, &holder)).await {
        // It frees itself when its hold ends.
        component_kit::warn!("dashboard: slot {slot} not given back: {e}");
    }
    result
}

/// Re-reads the user's cursor until it moved past `after` or the wait is over.
async fn wait_for_changes(
    dapr: &Dapr,
    user: &str,
    after: i64,
    wait: Duration,
    started: Instant,
    slot: i32,
) -> Result<Response, DashError> {
    let dapr = dapr.clone();
    let user = user.to_string();
    let every = interval(slot);
    loop {
        let cursor = seq_of(&query(&dapr, &changes::cursor(&user)).await?);
        if cursor < after {
            return Ok(answer(cursor, Vec::new(), true));
        }
        if cursor > after {
            let rows = query(&dapr, &changes::after(&user, after)).await?;
            let last = rows.last().map_or(cursor, |r| r.seq);
            return Ok(answer(
                last,
                rows.iter().map(changes::ChangeRow::to_json).collect(),
                false,
            ));
        }
        if started.elapsed() + every > wait {
            return Ok(answer(cursor, Vec::new(), false));
        }
        // wasi:clocks monotonic sleep: the instance blocks, the host thread does not.
        std::thread::sleep(every);
    }
}

fn answer(cursor: i64, changes: Vec<Value>, reset: bool) -> Response {
    let mut r = json::response(
        200,
        &json!({"cursor": cursor, "changes": changes, "reset": reset}),
    );
    r.set_header("cache-control", "no-store");
    r
}
