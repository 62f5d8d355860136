//! RFC 7807 problem+json responses.

use spin_sdk::http::Response;

/// Builds an `application/problem+json` response.
pub fn response(status: u16, title: &str, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    });
    Response::builder()
        .status(status)
        .header("content-type", "application/problem+json")
        .body(body.to_string())
        .build()
}
