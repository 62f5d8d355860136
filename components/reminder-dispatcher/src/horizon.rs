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

use crate::db::{query, schedule_recurring};
use crate::reconcile::reconcile;

/// Tasks reconciled per statement.
const PAGE: u32 = 200;

/// Most pages one run takes (the next run continues).
const MAX_PAGES: u32 = 50;

/// Schedules the recurring horizon job (`db::schedule_recurring`).
pub async fn schedule() {
    schedule_recurring(HORIZON_JOB, HORIZON_EVERY, "reminder horizon").await;
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
        after = ids.last().cloned();
        let count = ids.len();
        if count > 0 {
            if let Err(e) = reconcile(&dapr, ids).await {
                return retry(tasks, &e.to_string());
            }
            tasks += count;
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
