//! The service's own routes: Dapr job triggers, probes, metrics, the OpenAPI document and the
//! problem+json fallback.

use component_kit::dapr::Dapr;
use component_kit::db;
use component_kit::json;
use serde_json::{json, Value};
use spin_sdk::http::{Params, Request, Response};

use super::Answer;
use crate::error::ApiError;
use crate::upkeep;

/// `POST /job/{name}`: Dapr's trigger of the outbox relay, the outbox repair jobs and the
/// retention job. A non-2xx answer makes the job's failure policy retry.
pub async fn job(_req: Request, p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let name = p.get("name").unwrap_or_default();
    if name == upkeep::RETENTION_JOB {
        let deleted = upkeep::purge(&dapr).await?;
        component_kit::info!("task-api: job {name}: deleted {deleted:?}");
        let deleted: serde_json::Map<String, Value> =
            deleted.into_iter().map(|(t, n)| (t, json!(n))).collect();
        return Ok(json::response(200, &json!({"deleted": deleted})));
    }
    if name
        .strip_prefix(upkeep::RELAY_JOB)
        .is_some_and(|rest| rest.starts_with('-'))
    {
        // Another run is publishing: 503, and the job's failure policy retries after it.
        let Some(result) = upkeep::relay_run(&dapr).await? else {
            return Ok(json::response(503, &json!({"busy": true})));
        };
        let answer =
            json!({"published": result.ok, "failed": result.failed, "parked": result.parked});
        return Ok(json::response(200, &answer));
    }
    if name != upkeep::REPAIR_JOB && name != upkeep::SWEEP_JOB {
        return Err(ApiError::NotFound);
    }
    let result = upkeep::repair(&dapr, name).await?;
    component_kit::warn!(
        "task-api: job {name}: published {} failed {} parked {}",
        result.ok,
        result.failed,
        result.parked
    );
    if result.ok + result.failed + result.parked >= upkeep::REPAIR_BATCH as usize {
        upkeep::schedule_repair(&dapr).await;
    }
    let answer = json!({"published": result.ok, "failed": result.failed, "parked": result.parked});
    Ok(json::response(
        if result.failed > 0 { 503 } else { 200 },
        &answer,
    ))
}

/// Fallback: 405 with `Allow` for a known path, else 404.
pub async fn fallback(req: Request, _p: Params) -> Answer {
    let path = req.path().trim_end_matches('/');
    match crate::allowed_methods(path) {
        Some(allow) => Err(ApiError::MethodNotAllowed { allow }),
        None => Err(ApiError::NoRoute(format!(
            "{} {}",
            req.method(),
            req.path()
        ))),
    }
}

/// `GET /healthz`
pub async fn healthz(_req: Request, _p: Params) -> Answer {
    Ok(json::response(
        200,
        &json!({"status": "ok", "app_id": component_kit::config::app_id()}),
    ))
}

/// `GET /readyz`: daprd answers, the database answers through it, the safety-net job exists.
pub async fn readyz(_req: Request, _p: Params) -> Answer {
    let dapr = Dapr::from_env();
    dapr.healthy().await?;
    db::query(&dapr, &store::health::ping()).await?;
    upkeep::ensure_sweep(&dapr).await?;
    Ok(json::response(
        200,
        &json!({"status": "ready", "database": "ok", "jobs": [upkeep::SWEEP_JOB, upkeep::RETENTION_JOB]}),
    ))
}

/// `GET /metrics`: the outbox gauges in Prometheus' text format, read from the database at each
/// scrape (the PodMonitor `todo-platform-task-api` in k8s/observability/monitors.yaml, and
/// `scripts/observe-local.sh` locally). `todo_outbox_parked_rows` drives the
/// `OutboxRowsParked` alert. Not forwarded by the ingress. A figure the database did not give
/// answers 503 (a missing scrape), never a made-up 0.
pub async fn metrics(_req: Request, _p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let rows = db::query(&dapr, &store::outbox::outbox_gauges()).await?;
    let gauges = rows.first().ok_or_else(|| {
        ApiError::from(component_kit::dapr::DaprError::Decode(
            "outbox gauges: no row".into(),
        ))
    })?;
    let figure = |v: i64| -> Result<u64, ApiError> {
        u64::try_from(v).map_err(|_| {
            ApiError::from(component_kit::dapr::DaprError::Decode(format!(
                "outbox gauges: {v} is not a count"
            )))
        })
    };
    let body = prometheus_gauges(&[
        (
            "todo_outbox_parked_rows",
            "Outbox rows parked after their bounded publish attempts (scripts/dlq.sh list outbox).",
            figure(gauges.parked)?,
        ),
        (
            "todo_outbox_pending_rows",
            "Outbox rows not yet published and not parked.",
            figure(gauges.pending)?,
        ),
        (
            "todo_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox row (0 when none).",
            figure(gauges.oldest_pending_age_seconds)?,
        ),
    ]);
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain; version=0.0.4")
        .header("cache-control", "no-store")
        .body(body)
        .build())
}

/// Gauges `(name, help, value)` in Prometheus' text exposition format.
fn prometheus_gauges(gauges: &[(&str, &str, u64)]) -> String {
    gauges
        .iter()
        .map(|(name, help, value)| {
            format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n")
        })
        .collect()
}

/// The OpenAPI document (docs/api/openapi.yaml, converted to JSON at build time).
const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// `GET /api/openapi.json`
pub async fn openapi(_req: Request, _p: Params) -> Answer {
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(OPENAPI_JSON)
        .build())
}
