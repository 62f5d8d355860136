//! Liveness and readiness routes every component serves.

use spin_sdk::http::{IntoResponse, Params, Request, Router};

use crate::dapr::{Dapr, DaprError};
use crate::json::response as json;
use crate::{config, problem};

/// Adds `GET /healthz`, `GET /readyz` and a problem+json 404 fallback to a router.
pub fn add_routes(router: &mut Router) {
    router.get("/healthz", healthz);
    router.get_async("/readyz", readyz);
}

/// Adds the problem+json fallback for unknown routes; call after every other route.
pub fn add_fallback(router: &mut Router) {
    router.any("/*", not_found);
}

/// Liveness: the component instantiated and answers.
fn healthz(_req: Request, _params: Params) -> anyhow::Result<impl IntoResponse> {
    Ok(json(
        200,
        &serde_json::json!({"status": "ok", "app_id": config::app_id()}),
    ))
}

/// Readiness: the Dapr sidecar answers its own health endpoint over outbound HTTP (a bounded
/// call of the Dapr client, so a hanging sidecar makes the component unready, not stuck). The
/// answer names no address and no raw error (probes may be public); the log has both.
async fn readyz(_req: Request, _params: Params) -> anyhow::Result<impl IntoResponse> {
    let dapr = Dapr::from_env();
    Ok(match dapr.healthy().await {
        Ok(()) => json(200, &serde_json::json!({"status": "ready", "dapr": "ok"})),
        Err(e) => {
            crate::warn!(
                "{}: not ready: {}/v1.0/healthz: {e}",
                config::app_id(),
                dapr.base()
            );
            let title = match e {
                DaprError::Status { .. } => "Dapr sidecar not ready",
                _ => "Dapr sidecar unreachable",
            };
            problem::response(503, title, e.public_detail())
        }
    })
}

fn not_found(req: Request, _params: Params) -> anyhow::Result<impl IntoResponse> {
    Ok(problem::response(
        404,
        "Not Found",
        &format!("no route for {} {}", req.method(), req.path()),
    ))
}
