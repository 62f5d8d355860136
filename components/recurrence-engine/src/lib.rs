//! Recurrence engine component: consumes `task-operations` (dead-letter topic `task-events-dlq`)
//! and `task-modifications` (`updates-dlq`) through declarative Dapr subscriptions: makes sure
//! the next instance of a completed recurring task exists, pre-creates instances with Dapr jobs
//! 15 minutes before they are due, keeps those jobs in line with series edits and deletions,
//! and catches up on occurrences missed while it was down. The route table is here; decisions
//! live in the `engine` crate.

mod catchup;
mod completion;
mod modifications;
mod outcome;
mod precreate;

use component_kit::{delivery, health};
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

async fn task_operations(req: Request, _params: Params) -> Response {
    delivery::handle(req.body(), |event| async move {
        completion::handle(&event).await
    })
    .await
}

async fn task_modifications(req: Request, _params: Params) -> Response {
    delivery::handle(req.body(), |event| async move {
        modifications::handle(&event).await
    })
    .await
}

/// `POST /job/{name}`: the catch-up job or a pre-creation job.
async fn job(req: Request, params: Params) -> Response {
    let name = params.get("name").unwrap_or_default().to_string();
    if name.starts_with(catchup::JOB) {
        catchup::trigger(&name, req.body()).await
    } else {
        precreate::trigger(&name, req.body()).await
    }
}

/// `GET /dapr/subscribe`: daprd asks once when it starts (all subscriptions are declarative, so
/// the answer is empty); the engine uses it as its start-up hook to (re)schedule the catch-up job.
async fn dapr_subscribe(_req: Request, _params: Params) -> Response {
    catchup::on_start().await;
    component_kit::json::response(200, &serde_json::json!([]))
}

/// Entry point: one Router for every route of the service.
#[http_component]
async fn handle(req: Request) -> Response {
    let mut router = Router::new();
    health::add_routes(&mut router);
    router.get_async("/dapr/subscribe", dapr_subscribe);
    router.post_async("/events/task-operations", task_operations);
    router.post_async("/events/task-modifications", task_modifications);
    // Jobs API triggers (registered before any job is scheduled: a 404 would count as done).
    router.post_async("/job/:name", job);
    health::add_fallback(&mut router);
    component_kit::mount::route(&router, req).await
}
