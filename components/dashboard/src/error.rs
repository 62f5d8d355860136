//! Failures as RFC 7807 problem+json answers with the platform's stable types.

use component_kit::bearer::AuthFailure;
use component_kit::dapr::DaprError;
use domain::FieldError;
use spin_sdk::http::Response;

/// Base of the stable problem type URIs (shared with the Task API).
pub const PROBLEM_BASE: &str = "https://todo.example/problems/";

/// Everything a dashboard API request can fail with.
#[derive(Debug)]
pub enum DashError {
    /// 400: a query parameter cannot be read.
    BadRequest(String),
    /// 422: a field is invalid (e.g. a recurrence that does not parse).
    Invalid(FieldError),
    /// 401: no valid token.
    Unauthorized(String),
    /// 404: no such route of the proxied API.
    NotFound(String),
    /// 503: the sidecar, the database or the Task API failed.
    Upstream(String),
}

impl From<DaprError> for DashError {
    fn from(e: DaprError) -> Self {
        Self::Upstream(e.to_string())
    }
}

impl From<AuthFailure> for DashError {
    fn from(e: AuthFailure) -> Self {
        match e {
            AuthFailure::Unauthorized(e) => Self::Unauthorized(e.to_string()),
            AuthFailure::Upstream(e) => Self::Upstream(e.to_string()),
        }
    }
}

/// Turns a handler result into the HTTP answer.
pub fn respond(result: Result<Response, DashError>) -> Response {
    let e = match result {
        Ok(r) => return r,
        Err(e) => e,
    };
    let (status, kind, title, detail) = match &e {
        DashError::BadRequest(d) => (400, "bad-request", "The request is malformed", d.clone()),
        DashError::Invalid(f) => (
            422,
            "validation-error",
            "The request has invalid fields",
            f.message.clone(),
        ),
        DashError::Unauthorized(d) => (401, "unauthorized", "Authentication required", d.clone()),
        DashError::NotFound(d) => (404, "not-found", "Not found", d.clone()),
        DashError::Upstream(d) => (
            503,
            "upstream-unavailable",
            "A dependency is unavailable",
            d.clone(),
        ),
    };
    let mut body = serde_json::json!({
        "type": format!("{PROBLEM_BASE}{kind}"),
        "title": title,
        "status": status,
        "detail": detail,
    });
    if let DashError::Invalid(f) = &e {
        body["errors"] = serde_json::json!([{"field": f.field, "message": f.message}]);
    }
    let mut builder = Response::builder();
    builder
        .status(status)
        .header("content-type", "application/problem+json");
    if status == 401 {
        builder.header("www-authenticate", "Bearer");
    }
    builder.body(body.to_string()).build()
}
