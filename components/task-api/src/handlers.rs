//! Route handlers: parse the request, call the domain crate, run SQL through Dapr, publish the
//! outbox events, answer. Errors go to `error::ApiError`.

use chrono::{DateTime, Utc};
use component_kit::dapr::Dapr;
use domain::cursor::Cursor;
use domain::schedule::NextInstance;
use domain::{channel, edit, schedule};
use domain::{Mode, Scope, Status, TaskId};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use spin_sdk::http::{Params, Request, Response};
use store::tasks::ListFilter;

use crate::error::ApiError;
use crate::request::{
    authenticate, authenticate_caller, check_rate, if_match, json_body, param, query_params,
    rate_limit_per_minute,
};
use component_kit::db;
use component_kit::json;

use crate::upkeep;

type Answer = Result<Response, ApiError>;

/// A task answer with its ETag (= version).
fn task_response(status: u16, task: &Value) -> Response {
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

fn path_id(params: &Params, name: &str) -> Result<TaskId, ApiError> {
    params
        .get(name)
        .and_then(TaskId::parse)
        .ok_or(ApiError::NotFound)
}

/// `POST /api/tasks`
pub async fn create(req: Request, _p: Params) -> Answer {
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
        rate_limit_per_minute(),
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
        check_rate(row.retry_after)?;
    }
    let created = rows
        .into_iter()
        .next()
        .and_then(|row| row.task.clone().map(|t| (row, t)));
    match (created, key) {
        (Some((row, created)), _) => {
            upkeep::publish(&dapr, &row.events.0).await;
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
            .map(|s| TaskId::parse(s).ok_or_else(|| bad("series_id", "not a UUID".into())))
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
        rate_limit_per_minute(),
        caller.email.as_ref().map(|e| e.as_str()),
    );
    let rows = db::query(&dapr, &stmt).await?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    check_rate(row.retry_after)?;
    let task = row.task.as_ref().ok_or(ApiError::NotFound)?;
    upkeep::publish(&dapr, &row.events.0).await;
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
    let dapr = Dapr::from_env();
    let caller = authenticate_caller(&req, &dapr).await?;
    let user = caller.user;
    let id = path_id(&p, "id")?;
    let q = query_params(&req);
    let scope = scope_param(&q)?;
    let version = if_match(&req)?;
    let body = json_body(&req)?;
    let patch = domain::parse_patch(&body, scope == Scope::This)?;
    let limit = rate_limit_per_minute();
    let series_edit = scope == Scope::Following || (scope == Scope::All && patch.changes_rule());
    let plan = if series_edit {
        plan_series_edit(&dapr, &user, &id, &patch, scope).await?
    } else {
        None
    };
    let stmt = match &plan {
        Some(edit) => store::edits::edit_series(&user, &id, &patch, scope, version, edit, limit),
        None => store::edits::patch_task(
            &user,
            &id,
            &patch,
            scope,
            version,
            limit,
            caller.email.as_ref().map(|e| e.as_str()),
        ),
    };
    let rows = db::query(&dapr, &stmt).await?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    check_rate(row.retry_after)?;
    let current = row.version.ok_or(ApiError::NotFound)?;
    let task = row
        .task
        .as_ref()
        .ok_or(ApiError::PreconditionFailed { current })?;
    upkeep::publish(&dapr, &row.events.0).await;
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
    let stmt = store::tasks::delete_task(&user, &id, scope, next, rate_limit_per_minute());
    let rows = db::query(&dapr, &stmt).await?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    check_rate(row.retry_after)?;
    if row.deleted == 0 {
        return Err(ApiError::NotFound);
    }
    upkeep::publish(&dapr, &row.events.0).await;
    Ok(Response::builder().status(204).build())
}

/// Reads a series of the user with its rebuilt recurrence.
async fn load_series(
    dapr: &Dapr,
    user: &str,
    id: &TaskId,
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
    let id = path_id(&p, "id")?;
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
    let id = path_id(&p, "id")?;
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

fn ical_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
        .replace('\r', "")
}

/// `GET /api/calendar.ics`: one master VTODO per active series (DTSTART, RRULE ending at the
/// series' end date, EXDATE for deleted instances, RECURRENCE-ID overrides for edited ones) and
/// one VTODO per one-off task.
pub async fn calendar(req: Request, _p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let rows = db::query(&dapr, &store::calendar::calendar(&user)).await?;
    let stamp = format!("DTSTAMP:{}", Utc::now().format("%Y%m%dT%H%M%SZ"));
    let mut out = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//todo-platform//task-api//EN",
    ]
    .join("\r\n")
        + "\r\n";
    for r in &rows {
        let uid = r.uid.as_str();
        let title = r.title.as_str();
        let description = r
            .description
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| format!("DESCRIPTION:{}", ical_escape(d)));
        if r.kind == "series" {
            let mode = r
                .mode
                .as_deref()
                .and_then(|m| Mode::parse(m).ok())
                .unwrap_or_default();
            let Some(stored) = schedule::stored_series(
                r.rule.as_deref().unwrap_or_default(),
                r.dtstart_local.as_deref().unwrap_or_default(),
                r.tzid.as_deref().unwrap_or("UTC"),
                r.end_date,
                mode,
            ) else {
                continue;
            };
            let edited: Vec<schedule::Exception> = r
                .exceptions
                .iter()
                .flatten()
                .map(|e| schedule::Exception {
                    recurrence_id: e.recurrence_id,
                    due_date: e.due_date,
                    title: e.title.clone(),
                })
                .collect();
            let series = schedule::calendar_series(
                stored,
                title,
                r.exdates.as_deref().unwrap_or_default(),
                &edited,
            );
            let mut extra = vec![stamp.clone(), "STATUS:NEEDS-ACTION".to_string()];
            extra.extend(description);
            out.push_str(&series.vtodo_components(uid, title, &extra));
            continue;
        }
        let mut lines = vec![
            "BEGIN:VTODO".to_string(),
            format!("UID:{uid}"),
            stamp.clone(),
            format!("SUMMARY:{}", ical_escape(title)),
        ];
        lines.extend(description);
        if let Some(due) = r.due {
            lines.push(format!("DUE:{}", due.format("%Y%m%dT%H%M%SZ")));
        }
        lines.push(format!(
            "STATUS:{}",
            if r.status == "completed" {
                "COMPLETED"
            } else {
                "NEEDS-ACTION"
            }
        ));
        lines.push("END:VTODO".into());
        out.push_str(&(lines.join("\r\n") + "\r\n"));
    }
    out.push_str("END:VCALENDAR\r\n");
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/calendar; charset=utf-8")
        .body(out)
        .build())
}

/// `GET /api/users/me/settings`: the caller's settings (default reminders, reminder email).
pub async fn get_settings(req: Request, _p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let rows = db::query(&dapr, &store::settings::get_settings(&user)).await?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    Ok(json::response(200, &row.settings))
}

/// `PUT /api/users/me/settings`: replaces the caller's settings (and records the token's
/// `email` claim); counts as a write.
pub async fn put_settings(req: Request, _p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let caller = authenticate_caller(&req, &dapr).await?;
    let settings = domain::parse_settings(&json_body(&req)?)?;
    let stmt = store::settings::put_settings(
        &caller.user,
        &settings,
        rate_limit_per_minute(),
        caller.email.as_ref().map(|e| e.as_str()),
    );
    let rows = db::query(&dapr, &stmt).await?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    check_rate(row.retry_after)?;
    let saved = row.settings.as_ref().ok_or(ApiError::NotFound)?;
    Ok(json::response(200, saved))
}

/// The Dapr output binding that publishes Mosquitto dynamic-security commands
/// (`runtime-config/local/push-issuer.yaml`).
const PUSH_ISSUER: &str = "push-issuer";

/// `POST /api/users/me/push-credentials`: issues the caller's push credentials: a broker
/// client (username = the user's push identity) with a fresh random password and a role that
/// may subscribe to the user's own topic only; a new issue replaces the previous password.
/// Answered once (`cache-control: no-store`), never stored by the API; counts as a write.
pub async fn issue_push_credentials(req: Request, _p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let caller = authenticate_caller(&req, &dapr).await?;
    let user = caller.user;
    let rows = db::query(
        &dapr,
        &store::settings::issue_push_password(
            &user,
            rate_limit_per_minute(),
            caller.email.as_ref().map(|e| e.as_str()),
        ),
    )
    .await?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    check_rate(row.retry_after)?;
    let password = row.password.as_deref().ok_or(ApiError::NotFound)?;
    let request = json!({
        "operation": "create",
        "data": channel::issue_commands(&user, password),
        "metadata": {"topic": channel::DYNSEC_CONTROL_TOPIC},
    });
    dapr.invoke_binding(PUSH_ISSUER, &request).await?;
    let body = json!({
        "username": channel::push_identity(&user),
        "password": password,
        "topic": channel::push_topic(&user),
    });
    Ok(Response::builder()
        .status(201)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(body.to_string())
        .build())
}

/// `POST /job/{name}`: Dapr's trigger of the outbox repair jobs and the retention job. A non-2xx answer makes the
/// job's failure policy retry.
pub async fn job(_req: Request, p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let name = p.get("name").unwrap_or_default();
    if name == upkeep::RETENTION_JOB {
        let deleted = upkeep::purge(&dapr).await?;
        eprintln!("task-api: job {name}: deleted {deleted:?}");
        let deleted: serde_json::Map<String, Value> =
            deleted.into_iter().map(|(t, n)| (t, json!(n))).collect();
        return Ok(json::response(200, &json!({"deleted": deleted})));
    }
    if name != upkeep::REPAIR_JOB && name != upkeep::SWEEP_JOB {
        return Err(ApiError::NotFound);
    }
    let result = upkeep::repair(&dapr, name).await?;
    eprintln!(
        "task-api: job {name}: published {} failed {} parked {}",
        result.ok, result.failed, result.parked
    );
    if result.ok + result.failed + result.parked >= upkeep::REPAIR_BATCH as usize {
        upkeep::schedule_repair(&dapr).await;
    }
    let answer = json!({"published": result.ok, "failed": result.failed, "parked": result.parked});
    Ok(json::response(
        if result.failed > 0 { 503 } else { 200 },
        &answer,
    ))
}

/// Fallback: 405 with `Allow` for a known path, else 404.
pub async fn fallback(req: Request, _p: Params) -> Answer {
    let path = req.path().trim_end_matches('/');
    match crate::allowed_methods(path) {
        Some(allow) => Err(ApiError::MethodNotAllowed { allow }),
        None => Err(ApiError::NoRoute(format!(
            "{} {}",
            req.method(),
            req.path()
        ))),
    }
}

/// `GET /healthz`
pub async fn healthz(_req: Request, _p: Params) -> Answer {
    Ok(json::response(
        200,
        &json!({"status": "ok", "app_id": component_kit::config::app_id()}),
    ))
}

/// `GET /readyz`: daprd answers, the database answers through it, the safety-net job exists.
pub async fn readyz(_req: Request, _p: Params) -> Answer {
    let dapr = Dapr::from_env();
    dapr.healthy().await?;
    db::query(&dapr, &store::health::ping()).await?;
    upkeep::ensure_sweep(&dapr).await?;
    Ok(json::response(
        200,
        &json!({"status": "ready", "database": "ok", "jobs": [upkeep::SWEEP_JOB, upkeep::RETENTION_JOB]}),
    ))
}

/// `GET /metrics`: the outbox gauges in Prometheus' text format, read from the database at each
/// scrape (the PodMonitor `todo-platform-task-api` in k8s/observability/monitors.yaml, and
/// `scripts/observe-local.sh` locally). `todo_outbox_parked_rows` drives the
/// `OutboxRowsParked` alert. Not forwarded by the ingress. A figure the database did not give
/// answers 503 (a missing scrape), never a made-up 0.
pub async fn metrics(_req: Request, _p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let rows = db::query(&dapr, &store::outbox::outbox_gauges()).await?;
    let gauges = rows.first().ok_or_else(|| {
        ApiError::from(component_kit::dapr::DaprError::Decode(
            "outbox gauges: no row".into(),
        ))
    })?;
    let figure = |v: i64| -> Result<u64, ApiError> {
        u64::try_from(v).map_err(|_| {
            ApiError::from(component_kit::dapr::DaprError::Decode(format!(
                "outbox gauges: {v} is not a count"
            )))
        })
    };
    let body = prometheus_gauges(&[
        (
            "todo_outbox_parked_rows",
            "Outbox rows parked after their bounded publish attempts (scripts/dlq.sh list outbox).",
            figure(gauges.parked)?,
        ),
        (
            "todo_outbox_pending_rows",
            "Outbox rows not yet published and not parked.",
            figure(gauges.pending)?,
        ),
        (
            "todo_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox row (0 when none).",
            figure(gauges.oldest_pending_age_seconds)?,
        ),
    ]);
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain; version=0.0.4")
        .header("cache-control", "no-store")
        .body(body)
        .build())
}

/// Gauges `(name, help, value)` in Prometheus' text exposition format.
fn prometheus_gauges(gauges: &[(&str, &str, u64)]) -> String {
    gauges
        .iter()
        .map(|(name, help, value)| {
            format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n")
        })
        .collect()
}

/// The OpenAPI document (docs/api/openapi.yaml, converted to JSON at build time).
const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// `GET /api/openapi.json`
pub async fn openapi(_req: Request, _p: Params) -> Answer {
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(OPENAPI_JSON)
        .build())
}
