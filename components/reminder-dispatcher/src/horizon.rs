//! The horizon job: reminders further ahead than `notify::job::HORIZON_SECS` get no Dapr job when
//! their task is written (`reconcile`); the recurring `horizon-reminders` job (every hour,
//! scheduled when daprd starts, like the sweep) reconciles the tasks of the reminders that have
//! come within the horizon since, which schedules their jobs. A failed run is harmless: the next
//! one finds the same reminders, and a day of runs lies between a reminder entering the horizon
//! and its time.

use component_kit::dapr::Dapr;
use domain::TaskId;
use notify::job::{HORIZON_EVERY, HORIZON_JOB};
use serde_json::json;
use spin_sdk::http::Response;

use crate::db::query;
use crate::reconcile::reconcile;

/// Tasks reconciled per statement.
const PAGE: u32 = 200;

/// Most pages one run takes (the next run continues).
const MAX_PAGES: u32 = 50;

/// Schedules the recurring horizon job (overwriting an earlier definition). Best effort: a
/// sidecar that cannot schedule now is asked again at its next start.
pub async fn schedule() {
    let job = json!({"schedule": HORIZON_EVERY, "overwrite": true, "data": {"reason": "reminder horizon"}});
    if let Err(e) = Dapr::from_env().schedule_job(HORIZON_JOB, &job).await {
        component_kit::warn!("notification: could not schedule {HORIZON_JOB}: {e}");
    }
}

/// `POST /job/horizon-reminders`: reconciles, page by page, the tasks whose reminders have come
/// within the horizon without a job. 200 with the count; 503 when a page fails (the job's
/// trigger is retried, and the next run starts over).
pub async fn run() -> Response {
    let dapr = Dapr::from_env();
    let mut after: Option<TaskId> = None;
    let mut tasks = 0usize;
    for _ in 0..MAX_PAGES {
        let page = match query(
            &dapr,
            &store::reminders::entering_horizon(after.as_ref(), PAGE),
        )
        .await
        {
            Ok(rows) => rows,
            Err(e) => return retry(tasks, &e.to_string()),
        };
        let ids: Vec<TaskId> = page
            .iter()
            .filter_map(|r| TaskId::parse(&r.task_id))
            .collect();
        let last = page.len() < PAGE as usize;
        after = page.last().and_then(|r| TaskId::parse(&r.task_id));
        if !ids.is_empty() {
            if let Err(e) = reconcile(&dapr, ids.clone()).await {
                return retry(tasks, &e.to_string());
            }
            tasks += ids.len();
        }
        if last || after.is_none() {
            break;
        }
    }
    if tasks > 0 {
        component_kit::info!("notification: {HORIZON_JOB}: reconciled {tasks} tasks");
    }
    component_kit::json::response(200, &json!({"status": "done", "tasks": tasks}))
}

fn retry(tasks: usize, why: &str) -> Response {
    component_kit::warn!("notification: {HORIZON_JOB}: {why} (after {tasks} tasks)");
    component_kit::json::response(
        503,
        &json!({"status": "retry", "reason": why, "tasks": tasks}),
    )
}
