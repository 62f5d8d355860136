//! `GET /api/preview?recurrence=&tzid=&due_date=&end_date=&mode=`: what a recurrence would do,
//! resolved exactly as the Task API resolves it on create (`domain::preview`). It reads no user
//! data, but it expands rules with the caller's CPU time, so it needs a valid token like every
//! other API route; the work of one request is bounded by the density check of
//! `domain::schedule` and the recurrence library's lazy, capped expansion.
//!
//! `GET /api/preview/completions?q=`: the words that may come next in a phrase being typed
//! (`recurrence::phrase::complete`), for the rule field's suggestions; authenticated the same way.

use chrono::Utc;
use component_kit::bearer::authenticate;
use component_kit::dapr::Dapr;
use component_kit::json;
use domain::input::parse_time;
use domain::preview::preview;
use domain::{FieldError, Mode};
use spin_sdk::http::{Request, Response};

use crate::error::DashError;

/// Longest recurrence text accepted.
pub const MAX_RECURRENCE_CHARS: usize = 300;

pub use component_kit::query::value as param;

fn time_param(query: &str, name: &str) -> Result<Option<chrono::DateTime<Utc>>, DashError> {
    param(query, name)
        .map(|t| parse_time(&t).map_err(|m| DashError::Invalid(FieldError::new(name, m))))
        .transpose()
}

/// Answers the preview for an authenticated caller, or a problem naming the field that is wrong.
pub async fn handle(req: &Request) -> Result<Response, DashError> {
    authenticate(req, &Dapr::from_env()).await?;
    let q = req.query();
    let recurrence = param(q, "recurrence")
        .ok_or_else(|| DashError::BadRequest("query parameter recurrence is required".into()))?;
    if recurrence.chars().count() > MAX_RECURRENCE_CHARS {
        return Err(DashError::BadRequest(format!(
            "recurrence must be at most {MAX_RECURRENCE_CHARS} characters"
        )));
    }
    let tzid = param(q, "tzid").unwrap_or_else(|| "UTC".to_string());
    let due = time_param(q, "due_date")?;
    let end = time_param(q, "end_date")?;
    let mode = match param(q, "mode") {
        Some(m) => Mode::parse(&m).map_err(|e| DashError::Invalid(FieldError::new("mode", e)))?,
        None => Mode::Fixed,
    };
    let p = preview(&recurrence, &tzid, due, end, mode, Utc::now()).map_err(DashError::Invalid)?;
    let body = serde_json::to_value(&p).map_err(|e| DashError::Upstream(e.to_string()))?;
    Ok(json::response(200, &body))
}

/// Most completions answered for one keystroke.
pub const MAX_COMPLETIONS: usize = 8;

/// Answers the completions of the typed phrase `q` for an authenticated caller:
/// `{"completions": [{"text", "complete"}]}` (empty when nothing the grammar reads follows).
pub async fn completions(req: &Request) -> Result<Response, DashError> {
    authenticate(req, &Dapr::from_env()).await?;
    let typed = param(req.query(), "q").unwrap_or_default();
    if typed.chars().count() > MAX_RECURRENCE_CHARS {
        return Err(DashError::BadRequest(format!(
            "q must be at most {MAX_RECURRENCE_CHARS} characters"
        )));
    }
    let list = recurrence::phrase::complete(&typed, MAX_COMPLETIONS);
    Ok(json::response(
        200,
        &serde_json::json!({ "completions": list }),
    ))
}
