//! Recurrence engine component: consumes `task-operations` (declarative Dapr subscription with
//! the dead-letter topic `task-events-dlq`): makes sure the next instance of a completed
//! recurring task exists, and pre-creates instances with Dapr jobs 15 minutes before they are due. The route table is here; decisions live in `domain::engine`.

mod completion;
mod precreate;

use component_kit::health;
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

async fn task_operations(req: Request, _params: Params) -> Response {
    completion::handle(req.body()).await
}

/// Entry point: one Router for every route of the service.
#[http_component]
async fn handle(req: Request) -> Response {
    let mut router = Router::new();
    health::add_routes(&mut router);
    router.post_async("/events/task-operations", task_operations);
    // Jobs API triggers (registered before any job is scheduled: a 404 would count as done).
    router.post_async("/job/:name", precreate::trigger);
    health::add_fallback(&mut router);
    router.handle_async(req).await
}
