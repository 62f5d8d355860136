//! The one place where failures become HTTP answers: RFC 7807 `application/problem+json` with
//! a stable `type`, a human `title`, a `detail` and, for invalid input, field-level `errors`.

use component_kit::dapr::DaprError;
use component_kit::problem::Problem;
use domain::{FieldError, ValidationErrors};
use spin_sdk::http::Response;

/// The detail of a 503 caused by the service's own configuration.
pub const MISCONFIGURED: &str = "the service is not configured correctly; its log names the cause";

/// Everything a handler can fail with.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request cannot be read (bad JSON, bad query parameter).
    BadRequest(String),
    /// 400: a series operation needs `confirm=true`.
    ConfirmationRequired,
    /// 401: no valid token.
    Unauthorized(auth::AuthError),
    /// 404: no such resource for this user.
    NotFound,
    /// 404: no route for this method and path.
    NoRoute(String),
    /// 405: the path exists, the method does not.
    MethodNotAllowed {
        /// The methods the path serves.
        allow: String,
    },
    /// 409: the Idempotency-Key was used with another body.
    IdempotencyMismatch,
    /// 409: the task the Idempotency-Key created has been deleted since.
    IdempotencyTaskDeleted,
    /// 412: `If-Match` does not match the current version.
    PreconditionFailed {
        /// The current version.
        current: i64,
    },
    /// 413: the body is larger than the service reads.
    PayloadTooLarge {
        /// The body's size in bytes.
        size: usize,
        /// The largest accepted size in bytes.
        limit: usize,
    },
    /// 422: invalid fields.
    Validation(ValidationErrors),
    /// 429: the user's write limit for the current minute is reached.
    TooManyRequests {
        /// Seconds until the window ends (`Retry-After`).
        retry_after: i64,
        /// The limit per minute that was reached.
        limit: u32,
    },
    /// 503: the service is overloaded (the write waited longer than its queue budget); nothing
    /// was written.
    Overloaded {
        /// Seconds to wait (`Retry-After`).
        retry_after: i64,
    },
    /// 503: the sidecar or the database failed (the detail names the kind only; the error is
    /// logged).
    Upstream(DaprError),
    /// 503: the notification service could not tell whether a task's reminder jobs are
    /// scheduled (unreachable, or its scheduler failed); the cause is logged.
    JobsUnavailable(String),
    /// 503: the service's configuration cannot be used, e.g. a JWT secret that is too short
    /// (logged; the detail says no more).
    Misconfigured(String),
}

impl From<DaprError> for ApiError {
    fn from(e: DaprError) -> Self {
        Self::Upstream(e)
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        Self::Validation(e)
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Self::Validation(ValidationErrors(vec![e]))
    }
}

impl ApiError {
    fn parts(&self) -> (u16, &'static str, &'static str, String) {
        match self {
            Self::BadRequest(d) => (400, "bad-request", "The request is malformed", d.clone()),
            Self::ConfirmationRequired => (
                400,
                "confirmation-required",
                "Deleting a series needs confirmation",
                "repeat the request with confirm=true to delete several instances of the series"
                    .into(),
            ),
            Self::Unauthorized(e) => (
                401,
                "unauthorized",
                "Authentication required",
                e.to_string(),
            ),
            Self::NotFound => (404, "not-found", "Not found", "no such resource".into()),
            Self::NoRoute(route) => (
                404,
                "not-found",
                "Not found",
                format!("no route for {route}"),
            ),
            Self::MethodNotAllowed { allow } => (
                405,
                "method-not-allowed",
                "Method not allowed",
                format!("this resource serves {allow}"),
            ),
            Self::IdempotencyMismatch => (
                409,
                "idempotency-key-reused",
                "Idempotency-Key already used",
                "this Idempotency-Key was used with a different request body".into(),
            ),
            Self::IdempotencyTaskDeleted => (
                409,
                "idempotency-key-reused",
                "Idempotency-Key already used",
                "the task created with this Idempotency-Key has been deleted since; use a new key to create another"
                    .into(),
            ),
            Self::PreconditionFailed { current } => (
                412,
                "precondition-failed",
                "The task was changed meanwhile",
                format!("If-Match does not match the current version \"{current}\""),
            ),
            Self::PayloadTooLarge { size, limit } => (
                413,
                "payload-too-large",
                "The request body is too large",
                format!("the body has {size} bytes; at most {limit} are accepted"),
            ),
            Self::Validation(e) => (
                422,
                "validation-error",
                "The request has invalid fields",
                e.0.first().map(|f| f.message.clone()).unwrap_or_default(),
            ),
            Self::TooManyRequests { retry_after, limit } => (
                429,
                "rate-limited",
                "Too many requests",
                format!(
                    "the write limit of {limit} per minute is reached; retry after {retry_after} s"
                ),
            ),
            Self::Overloaded { retry_after } => (
                503,
                "overloaded",
                "The service is overloaded",
                format!("nothing was written; retry after {retry_after} s"),
            ),
            Self::Upstream(e) => (
                503,
                "upstream-unavailable",
                "A backing service failed",
                e.public_detail().into(),
            ),
            Self::JobsUnavailable(_) => (
                503,
                "reminder-jobs-unavailable",
                "The reminder jobs cannot be read",
                "the reminder dispatcher could not be asked whether the reminders' jobs are scheduled; retry later"
                    .into(),
            ),
            Self::Misconfigured(_) => (
                503,
                "upstream-unavailable",
                "A backing service failed",
                MISCONFIGURED.into(),
            ),
        }
    }

    /// The problem+json answer.
    pub fn problem(&self) -> Problem {
        let (status, kind, title, detail) = self.parts();
        let mut p = Problem::typed(status, kind, title, detail);
        if let Self::Validation(e) = self {
            p = p.with_errors(serde_json::to_value(&e.0).unwrap_or_default());
        }
        if let Self::MethodNotAllowed { allow } = self {
            p = p.with_header("allow", allow.as_str());
        }
        if let Self::TooManyRequests { retry_after, .. } | Self::Overloaded { retry_after } = self {
            p = p.with_header("retry-after", retry_after.to_string());
        }
        if let Self::JobsUnavailable(_) = self {
            p = p.with_header("retry-after", "5");
        }
        p
    }

    /// The problem+json response (a 503's cause is logged).
    pub fn response(&self) -> Response {
        match self {
            Self::Upstream(e) => component_kit::error!("task-api upstream failure: {e}"),
            Self::Misconfigured(e) => component_kit::error!("task-api misconfigured: {e}"),
            Self::JobsUnavailable(e) => component_kit::error!("task-api reminder jobs: {e}"),
            _ => {}
        }
        self.problem().response()
    }
}

/// Turns a handler's result into the response.
pub fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(|e| e.response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(e: ApiError) -> (u16, serde_json::Value) {
        let r = e.response();
        let body = serde_json::from_slice(r.body()).unwrap_or_default();
        (*r.status(), body)
    }

    #[test]
    fn a_503_names_the_kind_of_failure_only() {
        let (status, body) = detail(ApiError::Upstream(DaprError::Status {
            status: 500,
            body: r#"{"errorCode":"ERR_INVOKE_OUTPUT_BINDING","message":"ERROR: permission denied for table tasks (SQLSTATE 42501)"}"#.into(),
        }));
        assert_eq!(status, 503);
        assert_eq!(body["detail"], "a backing service answered with an error");
        let (_, body) = detail(ApiError::Upstream(DaprError::Unreachable(
            "http://10.1.2.3:3500: ErrorCode::ConnectionRefused".into(),
        )));
        assert_eq!(body["detail"], "the Dapr sidecar could not be reached");
        let r = ApiError::JobsUnavailable(
            "notification answered 503: http://10.1.2.3:3500 scheduler down".into(),
        )
        .response();
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap_or_default();
        assert_eq!(*r.status(), 503);
        assert_eq!(
            body["type"],
            "https://todo.example/problems/reminder-jobs-unavailable"
        );
        assert!(!body.to_string().contains("10.1.2.3"), "{body}");
        assert_eq!(r.header("retry-after").and_then(|h| h.as_str()), Some("5"));
        let (status, body) = detail(ApiError::Misconfigured(
            "a signing secret has 16 bytes; at least 32 are required".into(),
        ));
        assert_eq!(
            (status, body["detail"].as_str()),
            (503, Some(MISCONFIGURED))
        );
    }
}
