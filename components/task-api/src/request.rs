//! Reading requests: authentication, query strings, JSON bodies, preconditions.

use component_kit::admission;
use component_kit::bearer::{self, AuthFailure};
use component_kit::dapr::Dapr;
use spin_sdk::http::Request;

use crate::error::ApiError;

/// Verifies the bearer token against the secrets read from Dapr for this request (a fresh
/// instance serves every request, so a rotated secret applies at once).
pub async fn authenticate(req: &Request, dapr: &Dapr) -> Result<String, ApiError> {
    bearer::authenticate(req, dapr).await.map_err(auth_error)
}

/// The API error of an authentication failure.
fn auth_error(e: AuthFailure) -> ApiError {
    match e {
        AuthFailure::Unauthorized(e) => ApiError::Unauthorized(e),
        AuthFailure::Upstream(e) => ApiError::Upstream(e),
        AuthFailure::Misconfigured(e) => ApiError::Misconfigured(e.to_string()),
    }
}

/// The caller of a request: the user id and the token's `email` claim when it is one valid
/// address (an unusable claim is treated as absent).
pub struct Caller {
    /// The user id (`sub`).
    pub user: String,
    /// The validated `email` claim.
    pub email: Option<domain::EmailAddress>,
}

/// [`authenticate`], also reading the token's `email` claim (for the writes that record it).
pub async fn authenticate_caller(req: &Request, dapr: &Dapr) -> Result<Caller, ApiError> {
    let identity = bearer::authenticate_identity(req, dapr)
        .await
        .map_err(auth_error)?;
    Ok(Caller {
        user: identity.user.as_str().to_string(),
        email: identity
            .email
            .and_then(|e| domain::EmailAddress::parse(&e).ok()),
    })
}

/// How a write that reached the handler at `received` is admitted: the per-user limit and the
/// service's load shedding. A write whose budget is already spent (authentication waited for a
/// congested sidecar) is refused here, before its statement costs anything more.
pub fn admission(received: chrono::DateTime<chrono::Utc>) -> Result<store::Admission, ApiError> {
    let max_queue_ms = admission::max_queue_ms();
    if admission::overdue(received, max_queue_ms) {
        return Err(ApiError::Overloaded {
            retry_after: admission::RETRY_AFTER_SECS,
        });
    }
    Ok(store::Admission {
        per_user_per_minute: rate_limit_per_minute(),
        received,
        max_queue_ms,
    })
}

/// Default of [`rate_limit_per_minute`]: high enough for the benchmarks and tests.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 60_000;

/// Writes (create, edit, complete, delete) one user may make per minute: `RATE_LIMIT_PER_MINUTE`
/// from the WASI environment, else [`DEFAULT_RATE_LIMIT_PER_MINUTE`]; 0 turns the limit off.
pub fn rate_limit_per_minute() -> u32 {
    std::env::var("RATE_LIMIT_PER_MINUTE")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_RATE_LIMIT_PER_MINUTE)
}

/// `Err(429)` when a write statement's `retry_after` column is set.
pub fn check_rate(shed: bool, retry_after: Option<i64>) -> Result<(), ApiError> {
    if shed {
        return Err(ApiError::Overloaded {
            retry_after: admission::RETRY_AFTER_SECS,
        });
    }
    match retry_after {
        Some(retry_after) => Err(ApiError::TooManyRequests {
            retry_after,
            limit: rate_limit_per_minute(),
        }),
        None => Ok(()),
    }
}

/// The decoded query parameters, in order.
pub fn query_params(req: &Request) -> Vec<(String, String)> {
    component_kit::query::pairs(req.query())
}

pub use component_kit::query::first as param;

/// Largest accepted request body, in bytes: a task's longest fields (a 200-character title, a
/// 4000-character description, ten reminders) fit many times over.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The JSON body: 413 past [`MAX_BODY_BYTES`], 400 if it is not JSON (including nesting
/// deeper than serde_json's recursion limit of 128).
pub fn json_body(req: &Request) -> Result<serde_json::Value, ApiError> {
    let body = req.body();
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            size: body.len(),
            limit: MAX_BODY_BYTES,
        });
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))
}

/// The version an `If-Match` header asks for (`"3"`, `W/"3"` or `3`); `None` without header.
pub fn if_match(req: &Request) -> Result<Option<i64>, ApiError> {
    let Some(v) = req.header("if-match").and_then(|h| h.as_str()) else {
        return Ok(None);
    };
    let v = v.trim();
    if v == "*" {
        return Ok(None);
    }
    v.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| {
            ApiError::BadRequest(format!("If-Match must be an ETag such as \"3\", got {v}"))
        })
}
