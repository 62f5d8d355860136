//! Dapr answers, the database binding and the pub/sub component, shared by the handlers.

use component_kit::dapr::{Dapr, DaprError};
use component_kit::delivery::Status;

pub use component_kit::db::query;

/// The Dapr pub/sub component.
pub const PUBSUB: &str = "pubsub";
/// The topic of reminder events.
pub const ALERTS: &str = notify::alert::ALERTS_TOPIC;

/// What to tell Dapr about a delivery.
pub enum Verdict {
    /// Done (or nothing to do): acknowledged.
    Success,
    /// Can never succeed: to the dead-letter topic.
    Drop(String),
    /// Try again (Resiliency: 5 s × 3, then the dead-letter topic).
    Retry(String),
}

impl Verdict {
    /// The delivery status to answer daprd; `who` prefixes the log line.
    pub fn answer(self, who: &str) -> Status {
        match self {
            Verdict::Success => Status::Success,
            Verdict::Drop(why) => {
                component_kit::error!("notification: {who}: dead-lettering: {why}");
                Status::Drop
            }
            Verdict::Retry(why) => {
                component_kit::warn!("notification: {who}: will retry: {why}");
                Status::Retry
            }
        }
    }
}

/// Schedules one of the dispatcher's recurring jobs (overwriting an earlier definition) when its
/// sidecar starts. Best effort: a sidecar that cannot schedule now is asked again at its next
/// start.
pub async fn schedule_recurring(name: &str, every: &str, reason: &str) {
    let job = serde_json::json!({"schedule": every, "overwrite": true, "data": {"reason": reason}});
    if let Err(e) = Dapr::from_env().schedule_job(name, &job).await {
        component_kit::warn!("notification: could not schedule {name}: {e}");
    }
}

/// Publishes a CloudEvent on `alerts`, keyed by its user.
pub async fn publish_alert(
    dapr: &Dapr,
    event: &events::CloudEvent,
    user_id: &str,
) -> Result<(), DaprError> {
    dapr.publish_cloudevent(PUBSUB, ALERTS, &event.to_json(), user_id)
        .await
}
