//! Live sync through the fan-out server (docs/adr/0009-live-sync-fan-out.md): each recorded
//! change is published to its user's channel through the `live-sync` output binding, and
//! `GET /api/live` tells a signed-in page where to connect, which channel is its own and the
//! change number it starts from. Pages connect with their own token; the server lets each
//! subscribe only to its user's channel and keeps a short history, so a reconnecting page
//! resumes where it left off (or reads the change log once, `GET /api/changes?after=&wait=0`).

use component_kit::bearer::authenticate;
use component_kit::dapr::Dapr;
use component_kit::db::query;
use component_kit::delivery::Status;
use component_kit::json;
use events::live::{self, LiveError};
use serde_json::json;
use spin_sdk::http::{Request, Response};
use store::changes;

use crate::error::DashError;

/// The output binding to the fan-out server's HTTP API.
pub const BINDING: &str = "live-sync";
/// Where pages connect when `LIVE_SYNC_URL` is not set: the WebSocket endpoint on the page's own
/// origin (the ingress routes it to the fan-out server in a cluster).
pub const DEFAULT_URL: &str = "/connection/websocket";

/// Whether changes are published: `LIVE_SYNC` from the WASI environment is not `off`.
pub fn enabled() -> bool {
    !std::env::var("LIVE_SYNC").is_ok_and(|v| v.trim().eq_ignore_ascii_case("off"))
}

/// The WebSocket address pages connect to: `LIVE_SYNC_URL`, else [`DEFAULT_URL`].
fn url() -> String {
    std::env::var("LIVE_SYNC_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_string())
}

/// The origin (`ws[s]://host[:port]`) of an absolute `LIVE_SYNC_URL`, for the page's content
/// security policy; none for a path on the page's own origin or an address that is not a plain
/// WebSocket origin.
pub fn socket_origin() -> Option<String> {
    origin_of(&url())
}

fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "ws" && scheme != "wss" {
        return None;
    }
    let host = rest.split('/').next()?;
    let plain = |c: char| c.is_ascii_alphanumeric() || ".-:[]".contains(c);
    (!host.is_empty() && host.chars().all(plain)).then(|| format!("{scheme}://{host}"))
}

/// Why a change could not be published.
#[derive(Debug)]
pub enum PublishError {
    /// The change cannot go to any channel (its user id); publishing again will not help.
    Unpublishable(LiveError),
    /// The sidecar or the fan-out server failed; a redelivery publishes again.
    Failed(String),
}

/// What pages receive for change number `seq` of `change`.
fn row_json(change: &changes::Change, seq: i64) -> serde_json::Value {
    changes::ChangeRow {
        seq,
        event_type: change.event_type.clone(),
        task_id: change.task_id.clone(),
        series_id: change.series_id.clone(),
        event_id: change.event_id.clone(),
        event_time: change.time.clone(),
    }
    .to_json()
}

/// Publishes change number `seq` of `change` to its user's channel.
pub async fn publish(dapr: &Dapr, change: &changes::Change, seq: i64) -> Result<(), PublishError> {
    let request = live::publish_request(&change.user_id, &row_json(change, seq), &change.event_id)
        .map_err(PublishError::Unpublishable)?;
    let answer = dapr
        .invoke_binding(BINDING, &request)
        .await
        .map_err(|e| PublishError::Failed(e.to_string()))?;
    live::publish_outcome(&answer).map_err(|e| PublishError::Failed(e.to_string()))
}

/// Publishes several recorded changes (`(change, seq)`) in one call to the server's batch
/// method; one outcome per change, in order.
pub async fn publish_many(
    dapr: &Dapr,
    recorded: &[(&changes::Change, i64)],
) -> Vec<Result<(), PublishError>> {
    let mut outcomes: Vec<Result<(), PublishError>> = Vec::with_capacity(recorded.len());
    let mut batch = Vec::new();
    let mut in_batch = Vec::new();
    for (i, (change, seq)) in recorded.iter().enumerate() {
        match live::channel(&change.user_id) {
            Err(e) => outcomes.push(Err(PublishError::Unpublishable(e))),
            Ok(_) => {
                outcomes.push(Ok(()));
                in_batch.push(i);
                batch.push(live::Publication {
                    user_id: change.user_id.clone(),
                    data: row_json(change, *seq),
                    idempotency_key: change.event_id.clone(),
                });
            }
        }
    }
    if batch.is_empty() {
        return outcomes;
    }
    let sent = match live::batch_request(&batch) {
        Ok(request) => dapr
            .invoke_binding(BINDING, &request)
            .await
            .map_err(|e| e.to_string())
            .and_then(|answer| {
                live::batch_outcomes(&answer, batch.len()).map_err(|e| e.to_string())
            }),
        Err(e) => Err(e.to_string()),
    };
    match sent {
        Ok(replies) => {
            for (i, reply) in in_batch.into_iter().zip(replies) {
                if let Err(e) = reply {
                    outcomes[i] = Err(PublishError::Failed(e.to_string()));
                }
            }
        }
        Err(e) => {
            for i in in_batch {
                outcomes[i] = Err(PublishError::Failed(e.clone()));
            }
        }
    }
    outcomes
}

/// `GET /api/live`: `{"url", "channel", "cursor"}` for the caller's token, or 404 when live sync
/// is off here (the page then long-polls `GET /api/changes`).
pub async fn connect_info(req: &Request) -> Result<Response, DashError> {
    let dapr = Dapr::from_env();
    let user = authenticate(req, &dapr).await?;
    if !enabled() {
        return Err(DashError::NotFound(
            "live sync is off on this deployment".into(),
        ));
    }
    let channel = live::channel(&user)
        .map_err(|e| DashError::BadRequest(format!("no live channel for this user: {e}")))?;
    let cursor = query(&dapr, &changes::cursor(&user))
        .await?
        .first()
        .map_or(0, |r| r.seq);
    let mut r = json::response(
        200,
        &json!({"url": url(), "channel": channel, "cursor": cursor}),
    );
    r.set_header("cache-control", "no-store");
    Ok(r)
}

/// The status of a delivered change that is recorded but could not be published.
pub fn unpublished(change: &changes::Change, e: &PublishError) -> Status {
    match e {
        PublishError::Unpublishable(e) => {
            // Recorded in the log, which the page reads on its next catch-up; nothing to retry.
            component_kit::warn!("dashboard: change {} not published: {e}", change.event_id);
            Status::Success
        }
        PublishError::Failed(e) => {
            component_kit::warn!(
                "dashboard: will retry publishing change {}: {e}",
                change.event_id
            );
            Status::Retry
        }
    }
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn only_plain_websocket_origins_enter_the_policy() {
        assert_eq!(
            origin_of("ws://127.0.0.1:18700/connection/websocket").as_deref(),
            Some("ws://127.0.0.1:18700")
        );
        assert_eq!(
            origin_of("wss://live.example.com").as_deref(),
            Some("wss://live.example.com")
        );
        assert_eq!(origin_of("/connection/websocket"), None);
        assert_eq!(origin_of("https://example.com/x"), None);
        assert_eq!(origin_of("ws://evil.com; script-src *"), None);
        assert_eq!(origin_of("ws:///path"), None);
    }
}
