//! Pre-creation with the Dapr Jobs API: a one-shot job per occurrence fires its lead
//! (`engine::precreate_lead_secs`: 15 minutes, or the instance's largest reminder offset plus a
//! margin) before its due time; the trigger creates the instance (with its
//! `v1.reminder.planned` event on `alerts`) and schedules the job of the following occurrence. Only
//! the app id that scheduled a job receives its trigger, so this service schedules its own jobs.

use chrono::{TimeDelta, Utc};
use component_kit::dapr::{Dapr, DaprError};
use domain::Mode;
use engine::{
    precreate_lead_secs, Precreate, Resume, DEFAULT_HERD_WINDOW_SECS, PRECREATE_CONSUMER,
};
use serde_json::{json, Value};
use spin_sdk::http::Response;

use component_kit::db::query;

use crate::outcome::publish;

/// Schedules (or re-schedules: same name, `overwrite`) the job of one occurrence. Only the
/// scheduler is involved (no database call), so consuming `v1.task.created` never waits on
/// PostgreSQL; the run is recorded in `jobs` when the job fires.
pub async fn schedule(dapr: &Dapr, p: &Precreate, lead_secs: i64) -> Result<(), DaprError> {
    dapr.schedule_job(
        &p.job_name(),
        &p.job(Utc::now(), lead_secs, herd_window_secs()),
    )
    .await
    .map(|_| ())
}

/// Width of the herd window (`HERD_WINDOW_SECS`, 0..=3600; default
/// [`DEFAULT_HERD_WINDOW_SECS`]; 0 turns the spread off).
pub fn herd_window_secs() -> u32 {
    std::env::var("HERD_WINDOW_SECS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|w| *w <= 3600)
        .unwrap_or(DEFAULT_HERD_WINDOW_SECS)
}

fn answer(status: u16, body: Value) -> Response {
    component_kit::json::response(status, &body)
}

/// Cancels the job of one occurrence (a job that does not exist is not an error).
pub async fn cancel(dapr: &Dapr, p: &Precreate) -> Result<(), DaprError> {
    match dapr.delete_job(&p.job_name()).await {
        Err(DaprError::Status { status, body })
            if status == 404 || body.to_ascii_lowercase().contains("not found") =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Puts a series' chain in order: cancels the stale job, schedules the next one.
pub async fn apply(dapr: &Dapr, r: &Resume, lead_secs: i64) -> Result<(), DaprError> {
    if let Some(c) = &r.cancel {
        cancel(dapr, c).await?;
    }
    if let Some(s) = &r.schedule {
        schedule(dapr, s, lead_secs).await?;
    }
    Ok(())
}

/// `POST /job/{name}` of a pre-creation job: 2xx = done (also for data that can never work,
/// which is logged); 503 makes the job's failure policy retry (5 s × 3).
pub async fn trigger(name: &str, body: &[u8]) -> Response {
    let name = name.to_string();
    let p = match Precreate::from_trigger(&name, body) {
        Ok(p) => p,
        Err(e) => {
            component_kit::warn!("recurrence-engine: ignoring job {name}: {e}");
            return answer(200, json!({"status": "ignored", "reason": e.to_string()}));
        }
    };
    match run(&Dapr::from_env(), &name, &p).await {
        Ok(v) => answer(200, v),
        Err(e) => {
            component_kit::warn!("recurrence-engine: job {name} failed, will retry: {e}");
            answer(503, json!({"status": "retry", "reason": e.to_string()}))
        }
    }
}

async fn run(dapr: &Dapr, name: &str, p: &Precreate) -> Result<Value, DaprError> {
    let rows = query(dapr, &store::engine::engine_series(&p.series_id)).await?;
    let Some(row) = rows.first() else {
        return Ok(json!({"status": "ignored", "reason": "unknown series"}));
    };
    let mode = Mode::parse(&row.mode).unwrap_or_default();
    let series = if row.is_active && mode == Mode::Fixed {
        domain::schedule::stored_series(
            &row.rule,
            &row.dtstart_local,
            &row.tzid,
            row.end_date,
            mode,
        )
    } else {
        None
    };
    let Some(series) = series else {
        return Ok(
            json!({"status": "ignored", "reason": "series inactive, from completion or unreadable"}),
        );
    };
    // A job for an occurrence the series no longer has (rule edited, end date moved) is stale.
    if series.next_after(p.occurrence - TimeDelta::seconds(1)) != Some(p.occurrence) {
        return Ok(json!({"status": "ignored", "reason": "not an occurrence of the series"}));
    }
    let upcoming = series.next_after(p.occurrence);
    let stmt = store::engine::precreate_instance(
        PRECREATE_CONSUMER,
        name,
        &p.series_id,
        p.occurrence,
        upcoming,
    );
    let rows = query(dapr, &stmt).await?;
    let created = rows.first().map_or(0, |r| r.created);
    if let Some(row) = rows.first() {
        publish(dapr, &row.events).await;
    }
    // The next instance copies this one's reminders: its lead follows the largest of them.
    let lead = precreate_lead_secs(rows.first().and_then(|r| r.largest_offset_secs));
    if let Some(next) = upcoming {
        schedule(
            dapr,
            &Precreate {
                series_id: p.series_id.clone(),
                occurrence: next,
            },
            lead,
        )
        .await?;
    }
    let ran = store::jobs::record_job(name, "precreate", &json!({"created": created}), true);
    if let Err(e) = component_kit::db::exec(dapr, &ran).await {
        component_kit::warn!("recurrence-engine: recording run of job {name} failed: {e}");
    }
    Ok(json!({"status": "done", "created": created}))
}
