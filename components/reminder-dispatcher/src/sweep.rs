//! The safety net of delivery: a recurring Dapr job (`sweep-reminders`, every 30 s, scheduled
//! when daprd starts and asks `GET /dapr/subscribe`) publishes `v1.reminder.due` again for
//! reminders whose delivery has not converged (`store::reminders::overdue_undelivered`): no attempt
//! at all (the job fired while Kafka or the sidecar was down and its failure policy ran out, up
//! to a day late: delivered marked late), a failed channel after its backoff, or a claim whose
//! holder crashed. The due event's id is derived
//! from the reminder and its time, and the alerts consumer claims each channel once, so a
//! reminder the sweep and its own job both announce is still delivered once per channel.

use chrono::Utc;
use component_kit::dapr::Dapr;
use domain::{ReminderId, TaskId};
use notify::alert;
use notify::job::ReminderJob;
use serde_json::json;
use spin_sdk::http::Response;

use crate::db::{publish_alert, query, schedule_recurring};

/// The sweep job's name (outside the `reminder-` prefix of reminder jobs).
pub const JOB: &str = "sweep-reminders";

/// How often the sweep runs.
const EVERY: &str = "@every 30s";

/// Schedules the recurring sweep job (`db::schedule_recurring`).
pub async fn schedule() {
    schedule_recurring(JOB, EVERY, "lost triggers").await;
}

/// The job of an overdue reminder; `None` if an id is not a UUID.
fn reminder_job(row: &store::reminders::OverdueReminder) -> Option<ReminderJob> {
    Some(ReminderJob {
        reminder_id: ReminderId::parse(&row.reminder_id)?,
        task_id: TaskId::parse(&row.task_id)?,
        user_id: row.user_id.clone(),
        remind_at: row.remind_at,
    })
}

/// `POST /job/sweep-reminders`: publishes the due event of each overdue, undelivered reminder.
/// 200 with the counts; 503 when the database cannot be read (the next run tries again).
pub async fn run() -> Response {
    let dapr = Dapr::from_env();
    let rows = match query(&dapr, &store::reminders::overdue_undelivered()).await {
        Ok(rows) => rows,
        Err(e) => {
            component_kit::warn!("notification: {JOB}: {e}");
            return component_kit::json::response(
                503,
                &json!({"status": "retry", "reason": e.to_string()}),
            );
        }
    };
    let now = Utc::now();
    let (mut published, mut failed) = (0u32, 0u32);
    for row in &rows {
        let Some((job, event)) =
            reminder_job(row).and_then(|j| alert::due_event(&j, now).map(|e| (j, e)))
        else {
            failed += 1;
            continue;
        };
        match publish_alert(&dapr, &event, &job.user_id).await {
            Ok(()) => published += 1,
            Err(e) => {
                component_kit::warn!("notification: {JOB}: {}: {e}", event.id);
                failed += 1;
            }
        }
    }
    if published > 0 || failed > 0 {
        component_kit::info!(
            "notification: {JOB}: {published} overdue reminders announced, {failed} not"
        );
    }
    component_kit::json::response(
        200,
        &json!({"status": "swept", "published": published, "failed": failed}),
    )
}
