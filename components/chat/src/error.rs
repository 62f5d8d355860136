//! Failures as RFC 7807 problem+json answers with stable types.

use component_kit::bearer::AuthFailure;
use component_kit::dapr::DaprError;
use spin_sdk::http::Response;

/// Base of the stable problem type URIs (shared with the Task API).
pub const PROBLEM_BASE: &str = "https://todo.example/problems/";

/// Everything a chat request can fail with.
#[derive(Debug)]
pub enum ChatError {
    /// 400: the body cannot be read or a field is invalid.
    BadRequest(String),
    /// 401: no valid token.
    Unauthorized(String),
    /// 404: no such conversation for this user.
    NotFound,
    /// 409: the conversation kept changing under concurrent writes.
    Conflict,
    /// 503: the sidecar, the state store or the Task API failed.
    Upstream(String),
}

impl From<DaprError> for ChatError {
    fn from(e: DaprError) -> Self {
        Self::Upstream(e.to_string())
    }
}

impl From<AuthFailure> for ChatError {
    fn from(e: AuthFailure) -> Self {
        match e {
            AuthFailure::Unauthorized(e) => Self::Unauthorized(e.to_string()),
            AuthFailure::Upstream(e) => Self::Upstream(e.to_string()),
        }
    }
}

impl ChatError {
    fn parts(&self) -> (u16, &'static str, &'static str, String) {
        match self {
            Self::BadRequest(d) => (400, "bad-request", "The request is malformed", d.clone()),
            Self::Unauthorized(d) => (401, "unauthorized", "Authentication required", d.clone()),
            Self::NotFound => (404, "not-found", "Not found", "no such conversation".into()),
            Self::Conflict => (
                409,
                "conversation-conflict",
                "The conversation changed concurrently",
                "another message was saved at the same time; send yours again".into(),
            ),
            Self::Upstream(d) => (
                503,
                "upstream-unavailable",
                "A dependency is unavailable",
                d.clone(),
            ),
        }
    }
}

/// Turns a handler result into the HTTP answer.
pub fn respond(result: Result<Response, ChatError>) -> Response {
    match result {
        Ok(r) => r,
        Err(e) => {
            let (status, kind, title, detail) = e.parts();
            let body = serde_json::json!({
                "type": format!("{PROBLEM_BASE}{kind}"),
                "title": title,
                "status": status,
                "detail": detail,
            });
            let mut builder = Response::builder();
            builder
                .status(status)
                .header("content-type", "application/problem+json");
            if status == 401 {
                builder.header("www-authenticate", "Bearer");
            }
            builder.body(body.to_string()).build()
        }
    }
}
