//! `GET /api/preview?recurrence=&tzid=&due_date=&end_date=&mode=`: what a recurrence would do,
//! resolved exactly as the Task API resolves it on create (`domain::preview`). It reads no user
//! data, but it expands rules with the caller's CPU time, so it needs a valid token like every
//! other API route; the work of one request is bounded by the density check of
//! `domain::schedule` and the recurrence library's lazy, capped expansion.

use chrono::Utc;
use component_kit::bearer::authenticate;
use component_kit::dapr::Dapr;
use component_kit::health::json;
use domain::input::parse_time;
use domain::preview::preview;
use domain::{FieldError, Mode};
use spin_sdk::http::{Request, Response};

use crate::error::DashError;

/// Longest recurrence text accepted.
pub const MAX_RECURRENCE_CHARS: usize = 300;

/// Decodes one `application/x-www-form-urlencoded` query value (invalid escapes stay as they are).
pub fn decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded value of query parameter `name`, if present and not empty.
pub fn param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(k, _)| decode(k) == name)
        .map(|(_, v)| decode(v))
        .filter(|v| !v.trim().is_empty())
}

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
    Ok(json(200, &body))
}
