//! Configuration from the WASI environment, with local defaults.

/// Default address of the Dapr sidecar's HTTP API.
pub const DEFAULT_DAPR_URL: &str = "http://127.0.0.1:3500";

/// Base URL of the Dapr sidecar (`DAPR_URL`, or `DAPR_HTTP_PORT` on loopback), without a trailing slash.
pub fn dapr_url() -> String {
    if let Ok(url) = std::env::var("DAPR_URL") {
        if !url.is_empty() {
            return url.trim_end_matches('/').to_string();
        }
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
