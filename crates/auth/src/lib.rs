//! HS256 JSON Web Tokens as issued by the platform's auth service (a shared secret).
//!
//! [`verify`] accepts a token signed with the current or the previous secret (rotation), and
//! refuses every other algorithm (including `none`), a `crit` header, a bad signature, an
//! expired token, a token not yet valid, a lifetime over [`MAX_LIFETIME_SECS`], an `iss` or
//! `aud` other than the [`Expected`] ones and a missing `sub`. Secrets shorter than
//! [`MIN_SECRET_BYTES`] are a configuration error, never used. Signatures are compared in
//! constant time. No clock is read here: callers pass `now`.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The longest accepted lifetime (`exp - iat`), in seconds.
pub const MAX_LIFETIME_SECS: i64 = 3600;

/// Tolerated clock skew for `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: i64 = 30;

/// Shortest accepted signing secret, in bytes: HS256 needs a key at least as long as its hash
/// output (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;

/// The issuer (`iss`) tokens must name unless configured otherwise.
pub const DEFAULT_ISSUER: &str = "todo-platform";

/// The audience (`aud`) tokens must name unless configured otherwise.
pub const DEFAULT_AUDIENCE: &str = "todo-api";

/// Who must have issued a token (`iss`) and for whom (`aud`, a string or an array holding it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The required `iss`.
    pub issuer: String,
    /// The required member of `aud`.
    pub audience: String,
}

impl Default for Expected {
    fn default() -> Self {
        Self {
            issuer: DEFAULT_ISSUER.to_string(),
            audience: DEFAULT_AUDIENCE.to_string(),
        }
    }
}

/// Why a token was refused. The messages are safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No usable `Authorization: Bearer` header.
    #[error("missing bearer token")]
    Missing,
    /// Not three base64url parts of JSON.
    #[error("malformed token")]
    Malformed,
    /// `alg` is not `HS256` (this includes `none`).
    #[error("unsupported token algorithm `{0}`")]
    Algorithm(String),
    /// The signature matches neither secret.
    #[error("invalid token signature")]
    Signature,
    /// `exp` is missing or in the past.
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is missing or `exp - iat` exceeds the allowed lifetime.
    #[error("token lifetime exceeds {MAX_LIFETIME_SECS} seconds")]
    Lifetime,
    /// `sub` is missing, empty, longer than 255 bytes or has control characters.
    #[error("token has no usable subject")]
    Subject,
    /// `iss` is missing or not the expected issuer.
    #[error("token issuer is not accepted")]
    Issuer,
    /// `aud` is missing or does not name the expected audience.
    #[error("token audience is not accepted")]
    Audience,
    /// The header has `crit`: extensions this verifier does not implement (RFC 7515 §4.1.11).
    #[error("token has critical header parameters")]
    Critical,
    /// No secret was configured.
    #[error("no signing secret configured")]
    NoSecret,
    /// A configured secret is too short to use (a configuration error, not the caller's).
    #[error("a signing secret has {0} bytes; at least {MIN_SECRET_BYTES} are required")]
    WeakSecret(usize),
}

impl AuthError {
    /// True for errors of the server's configuration rather than of the token.
    pub fn is_configuration(&self) -> bool {
        matches!(self, Self::NoSecret | Self::WeakSecret(_))
    }
}

/// Checks a signing secret before use: at least [`MIN_SECRET_BYTES`] bytes.
pub fn check_secret(secret: &[u8]) -> Result<(), AuthError> {
    match secret.len() {
        0 => Err(AuthError::NoSecret),
        n if n < MIN_SECRET_BYTES => Err(AuthError::WeakSecret(n)),
        _ => Ok(()),
    }
}

/// The claims the platform reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id every query is scoped to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Issued at (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Expires at (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Not before (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience: one string or an array of strings (RFC 7519 §4.1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
    /// The user's email address as the identity provider asserts it (optional; any JSON type
    /// other than a string is ignored, see [`Identity::email`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<serde_json::Value>,
}

/// Longest `email` claim kept, in bytes (longer ones are ignored, not refused).
pub const MAX_EMAIL_CLAIM_BYTES: usize = 254;

/// A verified caller with the optional claims the platform uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user id (`sub`).
    pub user: UserId,
    /// The `email` claim when it is a string of 1 to [`MAX_EMAIL_CLAIM_BYTES`] bytes without
    /// control characters; its shape as an address is the caller's to check. A malformed claim
    /// does not refuse the token: the user simply has no address from it.
    pub email: Option<String>,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserId(String);

impl UserId {
    /// The user id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    crit: Option<serde_json::Value>,
}

/// Extracts the token from an `Authorization` header value (`Bearer <token>`).
pub fn bearer(header: Option<&str>) -> Result<&str, AuthError> {
    let value = header.ok_or(AuthError::Missing)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token.trim())
}

/// Verifies an HS256 token against the current secret and, if given, the previous one (an
/// empty secret is one not configured), for the expected issuer and audience.
pub fn verify(
    token: &str,
    secrets: &[&[u8]],
    expected: &Expected,
    now: i64,
) -> Result<UserId, AuthError> {
    verify_identity(token, secrets, expected, now).map(|i| i.user)
}

/// [`verify`], also answering the token's usable `email` claim.
pub fn verify_identity(
    token: &str,
    secrets: &[&[u8]],
    expected: &Expected,
    now: i64,
) -> Result<Identity, AuthError> {
    let claims = signed_claims(token, secrets)?;
    check_lifetime(&claims, now)?;
    check_issuer_and_audience(&claims, expected)?;
    identity(claims)
}

/// The claims of a well-formed HS256 token signed with one of `secrets`.
fn signed_claims(token: &str, secrets: &[&[u8]]) -> Result<Claims, AuthError> {
    let secrets: Vec<&[u8]> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    if secrets.is_empty() {
        return Err(AuthError::NoSecret);
    }
    for secret in &secrets {
        check_secret(secret)?;
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    let header: Header = decode_json(h)?;
    match header.alg.as_deref() {
        Some("HS256") => {}
        other => return Err(AuthError::Algorithm(other.unwrap_or("missing").to_string())),
    }
    if header.crit.is_some() {
        return Err(AuthError::Critical);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| AuthError::Malformed)?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    // `verify_slice` compares in constant time.
    let valid = secrets.iter().any(|secret| {
        HmacSha256::new_from_slice(secret)
            .map(|mut mac| {
                mac.update(signing_input.as_bytes());
                mac.verify_slice(&signature).is_ok()
            })
            .unwrap_or(false)
    });
    if !valid {
        return Err(AuthError::Signature);
    }
    decode_json(p)
}

/// `exp`, `nbf` and `iat` allow the token now, and its lifetime is at most one hour.
fn check_lifetime(claims: &Claims, now: i64) -> Result<(), AuthError> {
    // Saturating arithmetic: extreme claims (e.g. `iat` = i64::MIN) must not wrap around
    // into a short lifetime.
    let exp = claims.exp.ok_or(AuthError::Expired)?;
    if exp.saturating_add(LEEWAY_SECS) <= now {
        return Err(AuthError::Expired);
    }
    let latest_start = now.saturating_add(LEEWAY_SECS);
    if claims.nbf.is_some_and(|nbf| nbf > latest_start) {
        return Err(AuthError::NotYetValid);
    }
    let iat = claims.iat.ok_or(AuthError::Lifetime)?;
    if iat > latest_start {
        return Err(AuthError::NotYetValid);
    }
    if exp.saturating_sub(iat) > MAX_LIFETIME_SECS {
        return Err(AuthError::Lifetime);
    }
    Ok(())
}

/// The token was issued for this service (`iss`, `aud`).
fn check_issuer_and_audience(claims: &Claims, expected: &Expected) -> Result<(), AuthError> {
    if claims.iss.as_deref() != Some(expected.issuer.as_str()) {
        return Err(AuthError::Issuer);
    }
    let names_audience = match &claims.aud {
        Some(serde_json::Value::String(a)) => *a == expected.audience,
        Some(serde_json::Value::Array(all)) => all
            .iter()
            .any(|a| a.as_str() == Some(expected.audience.as_str())),
        _ => false,
    };
    if !names_audience {
        return Err(AuthError::Audience);
    }
    Ok(())
}

/// The user (`sub`) and usable `email` claim of verified claims.
fn identity(claims: Claims) -> Result<Identity, AuthError> {
    // The subject keys every row of the user: no control characters (PostgreSQL text cannot
    // hold NUL), at most 255 bytes.
    let email = match claims.email {
        Some(serde_json::Value::String(e))
            if !e.trim().is_empty()
                && e.len() <= MAX_EMAIL_CLAIM_BYTES
                && !e.chars().any(char::is_control) =>
        {
            Some(e)
        }
        _ => None,
    };
    match claims.sub {
        Some(sub)
            if !sub.trim().is_empty() && sub.len() <= 255 && !sub.chars().any(char::is_control) =>
        {
            Ok(Identity {
                user: UserId(sub),
                email,
            })
        }
        _ => Err(AuthError::Subject),
    }
}

/// Mints an HS256 token for `sub` with the default issuer and audience, valid from `now` for
/// `lifetime_secs`.
pub fn mint(sub: &str, secret: &[u8], now: i64, lifetime_secs: i64) -> String {
    mint_for(sub, &Expected::default(), secret, now, lifetime_secs)
}

/// Mints an HS256 token for `sub`, issued by and for `to`, valid from `now` for `lifetime_secs`.
pub fn mint_for(sub: &str, to: &Expected, secret: &[u8], now: i64, lifetime_secs: i64) -> String {
    let claims = Claims {
        sub: Some(sub.to_string()),
        iat: Some(now),
        exp: Some(now.saturating_add(lifetime_secs)),
        nbf: None,
        iss: Some(to.issuer.clone()),
        aud: Some(serde_json::Value::String(to.audience.clone())),
        email: None,
    };
    sign(
        &serde_json::json!({"alg": "HS256", "typ": "JWT"}),
        &serde_json::to_value(claims).unwrap_or_default(),
        secret,
    )
}

/// Signs arbitrary header and claims with HMAC-SHA256 (for tests and tools).
pub fn sign(header: &serde_json::Value, claims: &serde_json::Value, secret: &[u8]) -> String {
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let p = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{h}.{p}");
    let sig = match HmacSha256::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(input.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    format!("{input}.{sig}")
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Result<T, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)
}

#[cfg(test)]
mod tests;
