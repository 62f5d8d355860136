//! The page's task calls (`/api/tasks…`, `/api/series…`), forwarded unchanged to the Task API
//! through this app's Dapr sidecar (service invocation) with the caller's own token: the Task
//! API authenticates and scopes every call, so the dashboard holds no task data of its own.

use component_kit::config;
use spin_sdk::http::{Request, Response};

use crate::error::DashError;

/// Request headers passed on to the Task API.
const FORWARDED_REQUEST: [&str; 5] = [
    "authorization",
    "content-type",
    "accept",
    "if-match",
    "idempotency-key",
];
/// Answer headers passed back to the page.
const FORWARDED_ANSWER: [&str; 4] = ["content-type", "etag", "location", "idempotent-replayed"];

/// The Task API's Dapr app id.
pub fn task_api_app_id() -> String {
    std::env::var("TASK_API_APP_ID").unwrap_or_else(|_| "task-api".to_string())
}

/// Whether a path is one of the Task API routes the page uses: `/api/tasks`,
/// `/api/tasks/{id}`, `/api/tasks/{id}/complete`, `/api/series/{id}`,
/// `/api/series/{id}/occurrences`, with ids of letters, digits and dashes, and the caller's
/// settings `/api/users/me/settings`.
pub fn allowed(path: &str) -> bool {
    let id = |s: &str| {
        !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["api", "tasks"] => true,
        ["api", "tasks", t] => id(t),
        ["api", "tasks", t, "complete"] => id(t),
        ["api", "series", s] => id(s),
        ["api", "series", s, "occurrences"] => id(s),
        ["api", "users", "me", "settings"] => true,
        _ => false,
    }
}

/// Forwards the request; the Task API's answer (any status, problem+json included) is relayed.
pub async fn forward(req: Request) -> Result<Response, DashError> {
    let path = req.path();
    if !allowed(path) {
        return Err(DashError::NotFound(format!(
            "no route for {} {path}",
            req.method()
        )));
    }
    let query = req.query();
    let target = format!(
        "{}/v1.0/invoke/{}/method{path}{}{query}",
        config::dapr_url(),
        task_api_app_id(),
        if query.is_empty() { "" } else { "?" }
    );
    let mut builder = Request::builder();
    builder.method(req.method().clone()).uri(target);
    for name in FORWARDED_REQUEST {
        if let Some(v) = req.header(name).and_then(|h| h.as_str()) {
            builder.header(name, v);
        }
    }
    let outbound = builder.body(req.body().to_vec()).build();
    // Bounded like every sidecar call: a Task API that hangs fails the request after the timeout.
    let answer: Response = component_kit::dapr::send_bounded(outbound)
        .await
        .map_err(|e| DashError::Upstream(format!("Dapr sidecar unreachable: {e}")))?;
    let status = *answer.status();
    let mut relay = Response::builder();
    relay.status(status).header("cache-control", "no-store");
    for name in FORWARDED_ANSWER {
        if let Some(v) = answer.header(name).and_then(|h| h.as_str()) {
            relay.header(name, v);
        }
    }
    let body = answer.into_body();
    // daprd's own failures (the Task API not reachable) carry an errorCode, not a problem.
    if status >= 500
        && serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("errorCode").cloned())
            .is_some()
    {
        return Err(DashError::Upstream(format!(
            "the Task API is unavailable: {}",
            String::from_utf8_lossy(&body)
        )));
    }
    Ok(relay.body(body).build())
}
