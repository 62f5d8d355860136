//! Live updates. The consumer side records each task event (declarative subscriptions to
//! `task-operations` and `task-modifications`) once in the user's change log through the
//! PostgreSQL binding; the page's long poll `GET /api/changes?after=<seq>` re-reads the user's
//! cursor row every [`POLL_INTERVAL`] for up to [`MAX_WAIT`] and answers as soon as it moved.
//! A Wasm instance lives for one request, so it cannot be woken by another request: the
//! re-read is the only signal it can wait on (docs/adr/0006-dashboard-live-updates.md).

use std::time::{Duration, Instant};

use component_kit::bearer::authenticate;
use component_kit::dapr::Dapr;
use component_kit::db::query;
use component_kit::json;
use serde_json::{json, Value};
use spin_sdk::http::{Request, Response};
use store::changes::{self, Poison};

use crate::error::DashError;
use crate::preview::param;

/// How often a waiting poll re-reads the cursor row.
pub const POLL_INTERVAL: Duration = Duration::from_millis(75);
/// Longest a poll waits for a change (`wait` may ask for less).
pub const MAX_WAIT: Duration = Duration::from_secs(20);

/// Handles one delivery: `SUCCESS` when recorded (or already recorded), `DROP` for poison
/// (dead-letter topic), 503 `RETRY` when the database could not be reached.
pub async fn record(body: &[u8]) -> Response {
    let change = match changes::parse(body) {
        Ok(c) => c,
        Err(p @ (Poison::Envelope(_) | Poison::NoUser(_))) => {
            eprintln!("dashboard: dead-lettering: {p}");
            return json::response(200, &json!({"status": "DROP"}));
        }
    };
    match query(&Dapr::from_env(), &changes::record(&change)).await {
        Ok(_) => json::response(200, &json!({"status": "SUCCESS"})),
        Err(e) => {
            eprintln!("dashboard: will retry event {}: {e}", change.event_id);
            json::response(503, &json!({"status": "RETRY"}))
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
        if started.elapsed() + POLL_INTERVAL > wait {
            return Ok(answer(cursor, Vec::new(), false));
        }
        // wasi:clocks monotonic sleep: the instance blocks, the host thread does not.
        std::thread::sleep(POLL_INTERVAL);
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
