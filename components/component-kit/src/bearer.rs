//! Authentication of bearer JWTs with the secrets read from Dapr for each request (a fresh
//! instance serves every request, so a rotated secret applies at once; the previous secret is
//! accepted during a rotation).

use spin_sdk::http::Request;

use crate::dapr::{Dapr, DaprError};

/// The secret store holding the JWT secrets.
pub const SECRET_STORE: &str = "local-secrets";
/// The current signing secret.
pub const JWT_SECRET: &str = "jwt-secret";
/// The previous signing secret, accepted during a rotation.
pub const JWT_SECRET_PREVIOUS: &str = "jwt-secret-previous";

/// Why a request is not authenticated.
#[derive(Debug)]
pub enum AuthFailure {
    /// The token is missing or invalid (401).
    Unauthorized(auth::AuthError),
    /// The secrets could not be read (503).
    Upstream(DaprError),
}

/// The user id (`sub`) of the request's valid bearer token.
pub async fn authenticate(req: &Request, dapr: &Dapr) -> Result<String, AuthFailure> {
    authenticate_identity(req, dapr)
        .await
        .map(|i| i.user.as_str().to_string())
}

/// The verified identity (`sub` and usable `email` claim) of the request's bearer token.
pub async fn authenticate_identity(
    req: &Request,
    dapr: &Dapr,
) -> Result<auth::Identity, AuthFailure> {
    let header = req.header("authorization").and_then(|h| h.as_str());
    let token = auth::bearer(header).map_err(AuthFailure::Unauthorized)?;
    let (current, previous) = futures::future::join(
        dapr.secret(SECRET_STORE, JWT_SECRET),
        dapr.secret(SECRET_STORE, JWT_SECRET_PREVIOUS),
    )
    .await;
    let current = current.map_err(AuthFailure::Upstream)?.unwrap_or_default();
    let previous = previous.ok().flatten().unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    auth::verify_identity(token, &[current.as_bytes(), previous.as_bytes()], now)
        .map_err(AuthFailure::Unauthorized)
}
