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

/// Reads a series of the user with its rebuilt recurrence.
async fn load_series(
    dapr: &Dapr,
    user: &str,
    id: &SeriesId,
) -> Result<(Value, recurrence::Series), ApiError> {
    let rows = db::query(dapr, &store::calendar::get_series(user, id)).await?;
    let row = rows.into_iter().next().ok_or(ApiError::NotFound)?;
    let mode = Mode::parse(&row.mode).unwrap_or_default();
    let series =
        schedule::stored_series(&row.rule, &row.dtstart_local, &row.tzid, row.end_date, mode)
            .ok_or(ApiError::NotFound)?;
    Ok((row.series, series))
}

/// `GET /api/series/{id}`
pub async fn get_series(req: Request, p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let id = series_id(&p)?;
    let (mut body, series) = load_series(&dapr, &user, &id).await?;
    if let Some(rule) = &series.rule {
        body["describe"] = json!(recurrence::describe(rule));
    }
    Ok(json::response(200, &body))
}

/// Most occurrences one preview answers.
const MAX_PREVIEW: usize = 500;

/// `GET /api/series/{id}/occurrences?from=&to=`
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
    let (_, series) = load_series(&dapr, &user, &id).await?;
    let from = time("from")?.unwrap_or_else(Utc::now);
    let to = time("to")?.unwrap_or(from + chrono::Duration::days(31));
    if to < from || to - from > chrono::Duration::days(366 * 2) {
        return Err(ApiError::BadRequest(
            "to must be after from and at most two years later".into(),
        ));
    }
    let items: Vec<Value> = series
        .first_between(from, to, MAX_PREVIEW)
        .into_iter()
        .map(|t| json!(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        .collect();
    Ok(json::response(
        200,
        &json!({"series_id": id.as_str(), "from": from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "to": to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "occurrences": items}),
    ))
}
