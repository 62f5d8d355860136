//! The page's task calls (`/api/tasks…`, `/api/series…`), forwarded unchanged to the Task API
//! through this app's Dapr sidecar (service invocation) with the caller's own token: the Task
//! API authenticates and scopes every call, so the dashboard holds no task data of its own.

use component_kit::dapr::Dapr;
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
    let target = if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    };
    let headers: Vec<(&str, &str)> = FORWARDED_REQUEST
        .iter()
        .filter_map(|name| Some((*name, req.header(name).and_then(|h| h.as_str())?)))
        .collect();
    // Dapr service invocation on the one bounded client: a Task API that hangs fails the request
    // after the timeout; daprd's own failures (the Task API not reachable) are errors (503).
    let answer = Dapr::from_env()
        .invoke(
            &task_api_app_id(),
            req.method().clone(),
            &target,
            &headers,
            req.body().to_vec(),
        )
        .await?;
    let mut relay = Response::builder();
    relay
        .status(answer.status)
        .header("cache-control", "no-store");
    for name in FORWARDED_ANSWER {
        if let Some(v) = answer.header(name) {
            relay.header(name, v);
        }
    }
    Ok(relay.body(answer.body).build())
}
