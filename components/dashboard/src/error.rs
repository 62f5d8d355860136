//! Failures as RFC 7807 problem+json answers with the platform's stable types.

use component_kit::bearer::AuthFailure;
use component_kit::dapr::DaprError;
use component_kit::problem::Problem;
use domain::FieldError;
use spin_sdk::http::Response;

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
    /// 503 with `Retry-After`: every live-poll slot is held; the page waits that long.
    Busy {
        /// Seconds until the page should try again.
        retry_after: u64,
    },
    /// 503: the sidecar, the database or the Task API failed, or the service is misconfigured.
    /// The text is logged, never sent: it may hold Dapr's or PostgreSQL's own error and
    /// internal addresses.
    Upstream(String),
}

/// The detail of every 503 answer.
pub const UPSTREAM_DETAIL: &str = "a service the dashboard relies on failed; try again shortly";

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
            AuthFailure::Misconfigured(e) => Self::Upstream(format!("misconfigured: {e}")),
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
        DashError::Busy { .. } => (
            503,
            "overloaded",
            "Too many pages are waiting for updates",
            "the dashboard is serving as many live pages as it admits; retry after the time in Retry-After".to_string(),
        ),
        DashError::Upstream(cause) => {
            component_kit::error!("dashboard upstream failure: {cause}");
            (
                503,
                "upstream-unavailable",
                "A dependency is unavailable",
                UPSTREAM_DETAIL.to_string(),
            )
        }
    };
    let mut problem = Problem::typed(status, kind, title, detail);
    if let DashError::Invalid(f) = &e {
        problem =
            problem.with_errors(serde_json::json!([{"field": f.field, "message": f.message}]));
    }
    if let DashError::Busy { retry_after } = &e {
        problem = problem.with_header("retry-after", retry_after.to_string());
    }
    problem.response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_503_carries_no_raw_dapr_or_database_text() {
        let raw = r#"Dapr answered 500: {"errorCode":"ERR_INVOKE_OUTPUT_BINDING","message":"ERROR: permission denied for table dashboard_cursors (SQLSTATE 42501)"}"#;
        let r = respond(Err(DashError::Upstream(raw.into())));
        assert_eq!(*r.status(), 503);
        let b: serde_json::Value = serde_json::from_slice(r.body()).expect("problem json");
        assert_eq!(b["detail"], UPSTREAM_DETAIL);
        for leak in ["ERR_", "SQLSTATE", "permission", "dashboard_cursors"] {
            assert!(!b.to_string().contains(leak), "{b}");
        }
    }
}
