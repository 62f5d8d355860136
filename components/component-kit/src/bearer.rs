//! Authentication of bearer JWTs with the secrets read from Dapr for each request (a fresh
//! instance serves every request, so a rotated secret applies at once; the previous secret is
//! accepted during a rotation, and read only for a token the current secret does not sign, so a
//! request costs one secret read), for the issuer and audience of [`crate::config::jwt_expected`].
//! A secret shorter than [`auth::MIN_SECRET_BYTES`] is refused at its first use with a clear
//! error in the log, and the request answers 503.

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
    /// The configured secrets cannot be used, e.g. too short (503; the reason is logged).
    Misconfigured(auth::AuthError),
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
    // One secret read for a token signed with the current secret (every token but those issued
    // before a rotation); the previous secret is read only when the current one does not match.
    let current = dapr
        .secret(SECRET_STORE, JWT_SECRET)
        .await
        .map_err(AuthFailure::Upstream)?
        .unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    let expected = crate::config::jwt_expected();
    let verified = match auth::verify_identity(token, &[current.as_bytes()], &expected, now) {
        Err(auth::AuthError::Signature) => {
            let previous = dapr
                .secret(SECRET_STORE, JWT_SECRET_PREVIOUS)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            if previous.is_empty() {
                Err(auth::AuthError::Signature)
            } else {
                auth::verify_identity(token, &[previous.as_bytes()], &expected, now)
            }
        }
        other => other,
    };
    verified.map_err(|e| {
        if e.is_configuration() {
            crate::warn!(
                "{}: JWT secrets in {SECRET_STORE} unusable: {e}",
                crate::config::app_id()
            );
            AuthFailure::Misconfigured(e)
        } else {
            AuthFailure::Unauthorized(e)
        }
    })
}
