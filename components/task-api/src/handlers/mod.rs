//! Route handlers, one module per resource: parse the request, call the domain crate, run SQL
//! (`store`) through Dapr, publish the outbox events, answer. Errors go to `error::ApiError`.

mod calendar;
mod reminders;
mod series;
mod service;
mod settings;
mod tasks;

use domain::TaskId;
use serde_json::Value;
use spin_sdk::http::{Params, Response};

use crate::error::ApiError;

pub use calendar::calendar;
pub use reminders::reminders;
pub use series::{get_series, occurrences};
pub use service::{fallback, healthz, job, metrics, openapi, readyz};
pub use settings::{get_settings, issue_push_credentials, put_settings};
pub use tasks::{complete, create, delete, get, list, patch};

pub(crate) type Answer = Result<Response, ApiError>;

/// A task answer with its ETag (= version).
pub(crate) fn task_response(status: u16, task: &Value) -> Response {
    let version = task.get("version").and_then(Value::as_i64).unwrap_or(0);
    let id = task
        .get("task_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("etag", format!("\"{version}\""))
        .header("location", format!("/api/tasks/{id}"))
        .body(task.to_string())
        .build()
}

pub(crate) fn path_id(params: &Params, name: &str) -> Result<TaskId, ApiError> {
    params
        .get(name)
        .and_then(TaskId::parse)
        .ok_or(ApiError::NotFound)
}
