//! `GET /api/tasks/{id}/reminders`: each reminder of the user's task with its fire time, its
//! delivery status and whether its Dapr job is scheduled. Only the notification service sees its
//! own jobs, so the Task API asks it by Dapr service invocation (`notify::status`) after checking
//! that the task is the user's.

use component_kit::dapr::Dapr;
use component_kit::db;
use component_kit::json;
use domain::ReminderId;
use notify::status::{self, JobStates, StoredReminder};
use serde_json::json;
use spin_sdk::http::{Method, Params, Request};

use super::{path_id, Answer};
use crate::error::ApiError;
use crate::request::authenticate;

/// `GET /api/tasks/{id}/reminders`
pub async fn reminders(req: Request, p: Params) -> Answer {
    let dapr = Dapr::from_env();
    let user = authenticate(&req, &dapr).await?;
    let id = path_id(&p, "id")?;
    let rows = db::query(&dapr, &store::tasks::task_reminders(&user, &id)).await?;
    let row = rows.into_iter().next().ok_or(ApiError::NotFound)?;
    let mut stored = Vec::with_capacity(row.reminders.len());
    for r in row.reminders {
        let reminder_id = ReminderId::parse(&r.reminder_id).ok_or_else(|| {
            ApiError::from(component_kit::dapr::DaprError::Decode(format!(
                "reminder id {:?} is not a UUID",
                r.reminder_id
            )))
        })?;
        stored.push(StoredReminder {
            reminder_id,
            offset: r.offset_text,
            remind_at: r.remind_at,
            status: r.status,
        });
    }
    let states = if stored.is_empty() {
        JobStates { jobs: Vec::new() }
    } else {
        let ids: Vec<ReminderId> = stored.iter().map(|r| r.reminder_id.clone()).collect();
        job_states(&dapr, &ids).await?
    };
    let views =
        status::views(&stored, &states).map_err(|e| ApiError::JobsUnavailable(e.to_string()))?;
    Ok(json::response(
        200,
        &json!({"task_id": id.as_str(), "reminders": views}),
    ))
}

/// Asks the notification service whether each reminder's job is scheduled.
async fn job_states(dapr: &Dapr, ids: &[ReminderId]) -> Result<JobStates, ApiError> {
    let path = status::invoke_path(ids);
    let answer = dapr
        .invoke(status::APP_ID, Method::Get, &path, &[], Vec::new())
        .await
        .map_err(|e| ApiError::JobsUnavailable(e.to_string()))?;
    if !answer.ok() {
        return Err(ApiError::JobsUnavailable(format!(
            "{} answered {}: {}",
            status::APP_ID,
            answer.status,
            String::from_utf8_lossy(&answer.body)
        )));
    }
    serde_json::from_slice(&answer.body).map_err(|e| {
        ApiError::JobsUnavailable(format!(
            "{} answered unreadable job states: {e}",
            status::APP_ID
        ))
    })
}
