//! `/api/series/{id}`: a series and its upcoming occurrences.

use chrono::{DateTime, Utc};
use component_kit::dapr::Dapr;
use component_kit::db;
use component_kit::json;
use domain::schedule;
use domain::{Mode, SeriesId};
use serde_json::{json, Value};
use spin_sdk::http::{Params, Request};

use super::Answer;
use crate::error::ApiError;
use crate::request::{authenticate, param, query_params};

/// The series id of the path (`{id}`); 404 when it is not a UUID.
fn series_id(params: &Params) -> Result<SeriesId, ApiError> {
    params
        .get("id")
        .and_then(SeriesId::parse)
        .ok_or(ApiError::NotFound)
}

/// A series of the user: its JSON, its stored recurrence, and the effective series (deleted
/// instances excluded, moved ones at their new time), the one the calendar export writes.
struct Loaded {
    body: Value,
    stored: recurrence::Series,
    effective: recurrence::Series,
}

async fn load_series(dapr: &Dapr, user: &str, id: &SeriesId) -> Result<Loaded, ApiError> {
    let rows = db::query(dapr, &store::calendar::get_series(user, id)).await?;
    let row = rows.into_iter().next().ok_or(ApiError::NotFound)?;
    let mode = Mode::parse(&row.mode).unwrap_or_default();
    let stored =
        schedule::stored_series(&row.rule, &row.dtstart_local, &row.tzid, row.end_date, mode)
            .ok_or(ApiError::NotFound)?;
    let title = row.series["title"].as_str().unwrap_or_default().to_string();
    let exceptions: Vec<schedule::Exception> = row
        .exceptions
        .iter()
        .map(store::calendar::EditedInstance::exception)
        .collect();
    let effective = schedule::effective_series(stored.clone(), &title, &row.exdates, &exceptions);
    Ok(Loaded {
        body: row.series,
        stored,
        effective,
    })
}

/// `GET /api/series/{id}`
pub async fn get_series(req: Request, p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let id = series_id(&p)?;
    let Loaded {
        mut body, stored, ..
    } = load_series(&dapr, &user, &id).await?;
    if let Some(rule) = &stored.rule {
        body["describe"] = json!(recurrence::describe(rule));
    }
    Ok(json::response(200, &body))
}

/// Most occurrences one preview answers.
const MAX_PREVIEW: usize = 500;

/// `GET /api/series/{id}/occurrences?from=&to=`: the series' instances as the user has them
/// (deleted ones left out, moved ones at their new time, in start order), the same instances
/// the calendar export describes.
pub async fn occurrences(req: Request, p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let id = series_id(&p)?;
    let q = query_params(&req);
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, ApiError> {
        param(&q, name)
            .map(|v| {
                domain::input::parse_time(v)
                    .map_err(|e| ApiError::BadRequest(format!("query parameter {name}: {e}")))
            })
            .transpose()
    };
    let series = load_series(&dapr, &user, &id).await?.effective;
    let from = time("from")?.unwrap_or_else(Utc::now);
    let to = time("to")?.unwrap_or(from + chrono::Duration::days(31));
    if to < from || to - from > chrono::Duration::days(366 * 2) {
        return Err(ApiError::BadRequest(
            "to must be after from and at most two years later".into(),
        ));
    }
    let rfc3339 = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let instances = series.first_instances_between(from, to, MAX_PREVIEW);
    let starts: Vec<String> = instances.iter().map(|i| rfc3339(i.start)).collect();
    let details: Vec<Value> = instances
        .iter()
        .map(|i| {
            json!({
                "start": rfc3339(i.start),
                "recurrence_id": rfc3339(recurrence::tz::to_instant(i.recurrence_id, series.tz)),
                "moved": i.local != i.recurrence_id,
                "title": i.title,
            })
        })
        .collect();
    Ok(json::response(
        200,
        &json!({"series_id": id.as_str(), "from": rfc3339(from), "to": rfc3339(to), "occurrences": starts, "instances": details}),
    ))
}
