//! Configuration from the WASI environment, with local defaults.

/// Default address of the Dapr sidecar's HTTP API.
pub const DEFAULT_DAPR_URL: &str = "http://127.0.0.1:3500";

/// Base URL of the Dapr sidecar, without a trailing slash: the `dapr_url` configuration variable
/// (`wasi:config/store`; under Spin the component variable the manifest binds to the application
/// variable `dapr_url`, which also sets the component's only allowed outbound host), else
/// `DAPR_URL` or `DAPR_HTTP_PORT` (loopback) from the environment, else [`DEFAULT_DAPR_URL`].
pub fn dapr_url() -> String {
    let configured = spin_sdk::wit::wasi::config::store::get("dapr_url")
        .ok()
        .flatten()
        .or_else(|| std::env::var("DAPR_URL").ok());
    if let Some(url) = configured.filter(|u| !u.trim().is_empty()) {
        return url.trim().trim_end_matches('/').to_string();
    }
    match std::env::var("DAPR_HTTP_PORT") {
        Ok(port) if port.parse::<u16>().is_ok() => format!("http://127.0.0.1:{port}"),
        _ => DEFAULT_DAPR_URL.to_string(),
    }
}

/// The Dapr app id this component serves (`APP_ID`), for logs and health answers.
pub fn app_id() -> String {
    std::env::var("APP_ID").unwrap_or_else(|_| "unknown".to_string())
}

/// Connect timeout of every sidecar call.
pub const DAPR_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Default first-byte / between-bytes timeout of a sidecar call.
pub const DEFAULT_DAPR_TIMEOUT_SECS: u64 = 30;

/// First-byte and between-bytes timeout of every sidecar call (`DAPR_TIMEOUT_SECS`, 1..=600,
/// default [`DEFAULT_DAPR_TIMEOUT_SECS`]).
pub fn dapr_timeout() -> std::time::Duration {
    let secs = std::env::var("DAPR_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| (1..=600).contains(s))
        .unwrap_or(DEFAULT_DAPR_TIMEOUT_SECS);
    std::time::Duration::from_secs(secs)
}

/// The issuer and audience bearer tokens must carry: `JWT_ISSUER` and `JWT_AUDIENCE` from the
/// WASI environment, by default [`auth::DEFAULT_ISSUER`] (`todo-platform`) and
/// [`auth::DEFAULT_AUDIENCE`] (`todo-api`).
pub fn jwt_expected() -> auth::Expected {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let defaults = auth::Expected::default();
    auth::Expected {
        issuer: var("JWT_ISSUER").unwrap_or(defaults.issuer),
        audience: var("JWT_AUDIENCE").unwrap_or(defaults.audience),
    }
}
