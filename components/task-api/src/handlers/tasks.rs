//! `/api/tasks`: create (idempotent with `Idempotency-Key`), list, read, complete, edit (one
//! task, or a series' instances and rule), delete.

use chrono::{DateTime, Utc};
use component_kit::dapr::Dapr;
use component_kit::db;
use component_kit::json;
use domain::cursor::Cursor;
use domain::schedule::NextInstance;
use domain::{edit, schedule};
use domain::{Mode, Scope, Status, TaskId};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use spin_sdk::http::{Params, Request, Response};
use store::tasks::ListFilter;

use super::{path_id, task_response, Answer};
use crate::error::ApiError;
use crate::request::{
    admission, authenticate, authenticate_caller, check_rate, if_match, json_body, param,
    query_params,
};
use crate::upkeep;

/// `POST /api/tasks`
pub async fn create(req: Request, _p: Params) -> Answer {
    let received = Utc::now();
    let dapr = Dapr::from_env();
    let caller = authenticate_caller(&req, &dapr).await?;
    let user = caller.user;
    let body = json_body(&req)?;
    let task = domain::parse_create(&body, Utc::now())?;
    let key = match req.header("idempotency-key") {
        None => None,
        Some(v) => match v.as_str().map(str::trim) {
            Some(k) if !k.is_empty() && k.chars().count() <= 255 => Some(k),
            _ => {
                return Err(ApiError::BadRequest(
                    "Idempotency-Key must have 1 to 255 characters of UTF-8 text".into(),
                ))
            }
        },
    };
    let hash = format!("{:x}", Sha256::digest(req.body()));
    let stmt = store::tasks::create_task(
        &user,
        &task,
        key.map(|k| (k, hash.as_str())),
        &admission(received)?,
        caller.email.as_ref().map(|e| e.as_str()),
    );
    // A concurrent request with the same key may have committed first: the insert then fails
    // on the key's unique constraint, which the binding reports as an unconfirmed statement.
    let mut failed = None;
    let rows = match db::query(&dapr, &stmt).await {
        Ok(rows) => rows,
        Err(e) if key.is_some() && (e.is_unique_violation() || e.is_incomplete()) => {
            failed = Some(e);
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(row) = rows.first() {
        check_rate(row.shed, row.retry_after)?;
    }
    let created = rows
        .into_iter()
        .next()
        .and_then(|row| row.task.clone().map(|t| (row, t)));
    match (created, key) {
        (Some((row, created)), _) => {
            upkeep::relay(&dapr, &row.events.0, row.relay_idle).await;
            Ok(task_response(201, &created))
        }
        (None, Some(k)) => {
            let rows = db::query(&dapr, &store::tasks::idempotent_replay(&user, k)).await?;
            let row = match (rows.first(), failed) {
                (Some(row), _) => row,
                // No earlier request holds the key: the insert itself failed.
                (None, Some(e)) => return Err(e.into()),
                (None, None) => return Err(ApiError::IdempotencyMismatch),
            };
            if row.request_hash != hash {
                return Err(ApiError::IdempotencyMismatch);
            }
            // Replaying a task deleted since would answer a resource that no longer exists.
            if row.task_deleted {
                return Err(ApiError::IdempotencyTaskDeleted);
            }
            let mut resp = task_response(201, &row.response);
            resp.set_header("idempotent-replayed", "true");
            Ok(resp)
        }
        (None, None) => Err(ApiError::NotFound),
    }
}

/// `GET /api/tasks`
pub async fn list(req: Request, _p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let q = query_params(&req);
    let bad =
        |name: &str, why: String| ApiError::BadRequest(format!("query parameter {name}: {why}"));
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, ApiError> {
        param(&q, name)
            .map(|v| domain::input::parse_time(v).map_err(|e| bad(name, e)))
            .transpose()
    };
    let filter = ListFilter {
        status: param(&q, "status")
            .map(|s| Status::parse(s).map_err(|e| bad("status", e)))
            .transpose()?,
        due_from: time("due_from")?,
        due_to: time("due_to")?,
        series_id: param(&q, "series_id")
            .map(|s| {
                domain::SeriesId::parse(s).ok_or_else(|| bad("series_id", "not a UUID".into()))
            })
            .transpose()?,
        cursor: param(&q, "cursor")
            .map(|c| {
                Cursor::decode(c)
                    .ok_or_else(|| bad("cursor", "not a cursor from a previous page".into()))
            })
            .transpose()?,
        limit: match param(&q, "limit") {
            Some(l) => l
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=store::tasks::PAGE_SIZE).contains(n))
                .ok_or_else(|| bad("limit", format!("must be 1 to {}", store::tasks::PAGE_SIZE)))?,
            None => store::tasks::PAGE_SIZE,
        },
    };
    let rows = db::query(&dapr, &store::tasks::list_tasks(&user, &filter)).await?;
    let more = rows.len() > filter.limit as usize;
    let page = &rows[..rows.len().min(filter.limit as usize)];
    let items: Vec<&Value> = page.iter().map(|r| &r.task).collect();
    let next_cursor = match (more, page.last()) {
        (true, Some(last)) => {
            let micros = last.created_micros.parse().ok();
            let id = TaskId::parse(&last.task_id);
            micros.zip(id).map(|(created_micros, task_id)| {
                Cursor {
                    created_micros,
                    task_id,
                }
                .encode()
            })
        }
        _ => None,
    };
    Ok(json::response(
        200,
        &json!({"items": items, "next_cursor": next_cursor}),
    ))
}

/// `GET /api/tasks/{id}`
pub async fn get(req: Request, p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let id = path_id(&p, "id")?;
    let rows = db::query(&dapr, &store::tasks::get_task(&user, &id)).await?;
    let task = rows.first().ok_or(ApiError::NotFound)?;
    Ok(task_response(200, &task.task))
}

/// The series' next instance after this one is completed or skipped, if it is a pending
/// series instance. Answers `None` for a task that does not exist.
async fn next_instance(
    dapr: &Dapr,
    user: &str,
    id: &TaskId,
) -> Result<Option<Option<NextInstance>>, ApiError> {
    let rows = db::query(dapr, &store::tasks::task_series(user, id)).await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    if row.status != "pending" || row.is_active != Some(true) {
        return Ok(Some(None));
    }
    let (Some(rule), Some(local), Some(tzid), Some(rid)) =
        (&row.rule, &row.dtstart_local, &row.tzid, row.recurrence_id)
    else {
        return Ok(Some(None));
    };
    let mode = row
        .mode
        .as_deref()
        .and_then(|m| Mode::parse(m).ok())
        .unwrap_or_default();
    let Some(series) = schedule::stored_series(rule, local, tzid, row.end_date, mode) else {
        return Ok(Some(None));
    };
    Ok(Some(
        schedule::next_after_completion(&series, rid, Utc::now())
            .map(|(due, upcoming)| NextInstance { due, upcoming }),
    ))
}

/// `POST /api/tasks/{id}/complete` (idempotent)
pub async fn complete(req: Request, p: Params) -> Answer {
    let received = Utc::now();
    let dapr = Dapr::from_env();
    let caller = authenticate_caller(&req, &dapr).await?;
    let user = caller.user;
    let id = path_id(&p, "id")?;
    let next = next_instance(&dapr, &user, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let stmt = store::tasks::complete_task(
        &user,
        &id,
        next,
        &admission(received)?,
        caller.email.as_ref().map(|e| e.as_str()),
    );
    let rows = db::query(&dapr, &stmt).await?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    check_rate(row.shed, row.retry_after)?;
    let task = row.task.as_ref().ok_or(ApiError::NotFound)?;
    upkeep::relay(&dapr, &row.events.0, row.relay_idle).await;
    Ok(task_response(200, task))
}

fn scope_param(q: &[(String, String)]) -> Result<Scope, ApiError> {
    param(q, "scope")
        .map(|s| {
            Scope::parse(s).map_err(|e| ApiError::BadRequest(format!("query parameter scope: {e}")))
        })
        .transpose()
        .map(Option::unwrap_or_default)
}

/// `PATCH /api/tasks/{id}?scope=this|following|all` with optional `If-Match`. A change of the
/// recurrence, time zone, mode or end date (scope `all` or `following`), and any `following`
/// edit of a series, goes through the series edit (see `domain::edit`).
pub async fn patch(req: Request, p: Params) -> Answer {
    let received = Utc::now();
    let dapr = Dapr::from_env();
    let caller = authenticate_caller(&req, &dapr).await?;
    let user = caller.user;
    let id = path_id(&p, "id")?;
    let q = query_params(&req);
    let scope = scope_param(&q)?;
    let version = if_match(&req)?;
    let body = json_body(&req)?;
    let patch = domain::parse_patch(&body, scope == Scope::This)?;
    let limit = admission(received)?;
    let series_edit = scope == Scope::Following || (scope == Scope::All && patch.changes_rule());
    let plan = if series_edit {
        plan_series_edit(&dapr, &user, &id, &patch, scope).await?
    } else {
        None
    };
    let stmt = match &plan {
        Some(edit) => store::edits::edit_series(&user, &id, &patch, scope, version, edit, &limit),
        None => store::edits::patch_task(
            &user,
            &id,
            &patch,
            scope,
            version,
            &limit,
            caller.email.as_ref().map(|e| e.as_str()),
        ),
    };
    let rows = db::query(&dapr, &stmt).await?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    check_rate(row.shed, row.retry_after)?;
    let current = row.version.ok_or(ApiError::NotFound)?;
    let task = row
        .task
        .as_ref()
        .ok_or(ApiError::PreconditionFailed { current })?;
    upkeep::relay(&dapr, &row.events.0, row.relay_idle).await;
    Ok(task_response(200, task))
}

/// Reads the series of the edited task and plans the edit; `None` for a one-off task whose
/// rule is not being changed (a plain edit).
async fn plan_series_edit(
    dapr: &Dapr,
    user: &str,
    id: &TaskId,
    patch: &domain::PatchTask,
    scope: Scope,
) -> Result<Option<edit::SeriesEdit>, ApiError> {
    let rows = db::query(dapr, &store::edits::edit_context(user, id)).await?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    let (Some(rule), Some(local), Some(tzid)) = (&row.rule, &row.dtstart_local, &row.tzid) else {
        if patch.changes_rule() {
            return Err(domain::FieldError::new(
                "recurrence",
                "only a recurring task's recurrence can be changed; this task has none",
            )
            .into());
        }
        return Ok(None);
    };
    let stored = edit::StoredSeries {
        rule: rule.to_string(),
        dtstart_local: local.to_string(),
        tzid: tzid.to_string(),
        end_date: row.end_date,
        mode: row
            .mode
            .as_deref()
            .and_then(|m| Mode::parse(m).ok())
            .unwrap_or_default(),
    };
    let is_active = row.is_active.unwrap_or(false);
    let known: Vec<edit::Known> = row
        .instances
        .iter()
        .filter_map(|k| {
            Some(edit::Known {
                task_id: k.task_id.clone(),
                recurrence_id: k.recurrence_id,
                status: Status::parse(&k.status).ok()?,
                is_exception: k.is_exception,
            })
        })
        .collect();
    let has_earlier = row.has_earlier;
    let rid = row.recurrence_id;
    let cutoff = match scope {
        Scope::Following => rid,
        _ => None,
    };
    let split = scope == Scope::Following && has_earlier && rid.is_some();
    let now = Utc::now();
    let plan = edit::resolve_series(&stored, patch, split.then_some(rid).flatten(), now)?;
    edit::plan_edit(
        &stored,
        plan,
        &known,
        id.as_str(),
        cutoff,
        split,
        is_active,
        now,
    )
    .map(Some)
    .ok_or(ApiError::NotFound)
}

/// `DELETE /api/tasks/{id}?scope=this|following|all&confirm=true`
pub async fn delete(req: Request, p: Params) -> Answer {
    let received = Utc::now();
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let id = path_id(&p, "id")?;
    let q = query_params(&req);
    let scope = scope_param(&q)?;
    let confirmed = match param(&q, "confirm") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "query parameter confirm must be true or false, got {other}"
            )))
        }
    };
    let rows = db::query(&dapr, &store::tasks::task_series(&user, &id)).await?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    let in_series = row.rule.is_some();
    if in_series && scope != Scope::This && !confirmed {
        return Err(ApiError::ConfirmationRequired);
    }
    let next = if scope == Scope::This && in_series {
        next_instance(&dapr, &user, &id).await?.flatten()
    } else {
        None
    };
    let stmt = store::tasks::delete_task(&user, &id, scope, next, &admission(received)?);
    let rows = db::query(&dapr, &stmt).await?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    check_rate(row.shed, row.retry_after)?;
    if row.deleted == 0 {
        return Err(ApiError::NotFound);
    }
    upkeep::relay(&dapr, &row.events.0, row.relay_idle).await;
    Ok(Response::builder().status(204).build())
}
