//! The sidecar's app API token: every route that only Dapr may call (job triggers, subscription
//! deliveries, `/dapr/...`, and `/internal/...`, reached from another app by service invocation)
//! needs the `dapr-api-token` header that daprd adds to each request it
//! sends to the app when it runs with `APP_API_TOKEN` (Kubernetes: the `dapr.io/app-token-secret`
//! annotation). The expected value is the `app-api-token` secret of the component's secret store,
//! read through the Dapr secrets API; the comparison takes the same time whatever the bytes.
//!
//! Without this check anyone who reaches the app port (or an ingress path over it) could trigger
//! outbox repairs or forge task events into another user's change log.

use spin_sdk::http::{Request, Response};
use subtle::ConstantTimeEq;

use crate::bearer::SECRET_STORE;
use crate::dapr::Dapr;
use crate::problem;

/// The secret holding the token daprd sends to its app.
pub const APP_API_TOKEN_SECRET: &str = "app-api-token";

/// The header daprd puts the token in.
pub const TOKEN_HEADER: &str = "dapr-api-token";

/// A token shorter than this is refused as misconfiguration (it could be guessed).
pub const MIN_TOKEN_LEN: usize = 32;

/// True for the paths only the sidecar calls: `/job/...`, `/events/...`, `/dapr/...` and
/// `/internal/...` (service invocation from another app; after the component's route base was
/// removed).
pub fn is_sidecar_route(path: &str) -> bool {
    ["/job", "/events", "/dapr", "/internal"]
        .iter()
        .any(|base| path == *base || path.starts_with(&format!("{base}/")))
}

/// Why a request to a sidecar route was not let through.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No token, or a different one (401).
    BadToken,
    /// The expected token could not be read, or is missing or too short in the store (503).
    NotConfigured(String),
}

/// Compares the presented token with the expected one in constant time.
pub fn token_matches(presented: Option<&[u8]>, expected: &[u8]) -> bool {
    match presented {
        Some(p) => p.ct_eq(expected).into(),
        None => false,
    }
}

/// Checks the request's `dapr-api-token` against the `app-api-token` secret.
pub async fn verify(req: &Request, dapr: &Dapr) -> Result<(), Refusal> {
    let expected = match dapr.secret(SECRET_STORE, APP_API_TOKEN_SECRET).await {
        Ok(Some(token)) if token.len() >= MIN_TOKEN_LEN => token,
        Ok(Some(_)) => {
            return Err(Refusal::NotConfigured(format!(
                "secret {APP_API_TOKEN_SECRET} is shorter than {MIN_TOKEN_LEN} bytes"
            )))
        }
        Ok(None) => {
            return Err(Refusal::NotConfigured(format!(
                "secret {APP_API_TOKEN_SECRET} is missing from store {SECRET_STORE}"
            )))
        }
        Err(e) => return Err(Refusal::NotConfigured(e.to_string())),
    };
    let presented = req.header(TOKEN_HEADER).map(|h| h.as_bytes());
    if token_matches(presented, expected.as_bytes()) {
        Ok(())
    } else {
        Err(Refusal::BadToken)
    }
}

/// The problem+json answer for a refusal; the cause of a 503 is logged, not sent. A subscription
/// delivery (`/events/...`) whose token cannot be checked yet is answered `{"status":"RETRY"}`,
/// so Dapr delivers it again under its resiliency policy.
pub fn refusal_response(refusal: &Refusal, path: &str) -> Response {
    match refusal {
        Refusal::NotConfigured(cause) if path.starts_with("/events/") => {
            crate::warn!("delivery to {path} held back: app API token unavailable: {cause}");
            crate::json::response(503, &serde_json::json!({"status": "RETRY"}))
        }
        Refusal::BadToken => problem::response(
            401,
            "Unauthorized",
            "this route is for the Dapr sidecar only and needs its app API token",
        ),
        Refusal::NotConfigured(cause) => {
            crate::warn!("sidecar route {path} refused: app API token unavailable: {cause}");
            problem::response(
                503,
                "Service Unavailable",
                "the app API token is not configured; see docs/security.md",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{is_sidecar_route, token_matches};

    #[test]
    fn sidecar_routes_are_recognised_and_look_alikes_are_not() {
        for p in [
            "/job/outbox-repair",
            "/events/task-operations",
            "/dapr/subscribe",
            "/dapr/config",
            "/job",
            "/internal/reminder-jobs",
        ] {
            assert!(is_sidecar_route(p), "{p}");
        }
        for p in [
            "/jobs",
            "/api/tasks",
            "/eventsx/a",
            "/",
            "/healthz",
            "/api/job/1",
            "/internals",
        ] {
            assert!(!is_sidecar_route(p), "{p}");
        }
    }

    #[test]
    fn only_the_exact_token_matches() {
        let t = b"0123456789abcdef0123456789abcdef"; // pragma: allowlist secret
        assert!(token_matches(Some(t), t));
        assert!(!token_matches(None, t));
        assert!(!token_matches(Some(b"0123456789abcdef0123456789abcdeX"), t));
        assert!(!token_matches(Some(b"0123456789abcdef"), t));
        assert!(!token_matches(Some(b""), t));
    }
}
