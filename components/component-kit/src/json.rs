//! JSON answers.

use spin_sdk::http::Response;

/// A JSON response with the given status.
pub fn response(status: u16, value: &serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(value.to_string())
        .build()
}
