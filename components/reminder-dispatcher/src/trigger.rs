//! `POST /job/{name}`: a reminder's job fired. Publishes `v1.reminder.due` on `alerts` from the
//! job's data (no database call: the alerts consumer checks the stored reminder). 2xx = done;
//! 503 makes the job's failure policy retry (5 s × 3).

use chrono::Utc;
use component_kit::dapr::Dapr;
use notify::alert;
use notify::job::ReminderJob;
use serde_json::json;
use spin_sdk::http::{Params, Request, Response};

use crate::db::publish_alert;

/// Handles one job trigger.
pub async fn handle(req: Request, params: Params) -> Response {
    let name = params.get("name").unwrap_or_default().to_string();
    let job = match ReminderJob::from_trigger(&name, req.body()) {
        Ok(j) => j,
        Err(e) => {
            component_kit::warn!("notification: ignoring job {name}: {e}");
            return component_kit::json::response(
                200,
                &json!({"status": "ignored", "reason": e.to_string()}),
            );
        }
    };
    let Some(event) = alert::due_event(&job, Utc::now()) else {
        return component_kit::json::response(
            200,
            &json!({"status": "ignored", "reason": "no valid event"}),
        );
    };
    match publish_alert(&Dapr::from_env(), &event, &job.user_id).await {
        Ok(()) => component_kit::json::response(
            200,
            &json!({"status": "published", "event_id": event.id}),
        ),
        Err(e) => {
            component_kit::warn!("notification: job {name}: publishing failed, will retry: {e}");
            component_kit::json::response(503, &json!({"status": "retry", "reason": e.to_string()}))
        }
    }
}
