//! Dashboard component: serves the page (HTML, JS and CSS embedded at build time), proxies the
//! page's task calls to the Task API by Dapr service invocation with the caller's token,
//! previews recurrences (and completes phrases being typed) for signed-in callers with the
//! recurrence library compiled in, and delivers live updates: it
//! records every task event of `task-operations` and `task-modifications` in a per-user change
//! log, publishes it to the user's live-sync channel (`GET /api/live` tells the page where) and
//! answers reads and long polls of the log (`GET /api/changes`).

mod assets;
mod changes;
mod error;
mod live;
mod preview;
mod proxy;

use component_kit::health;
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

async fn api(req: Request, _: Params) -> Response {
    error::respond(proxy::forward(req).await)
}

async fn preview(req: Request, _: Params) -> Response {
    error::respond(preview::handle(&req).await)
}

async fn completions(req: Request, _: Params) -> Response {
    error::respond(preview::completions(&req).await)
}

async fn changes(req: Request, _: Params) -> Response {
    error::respond(changes::poll(req).await)
}

async fn live_info(req: Request, _: Params) -> Response {
    error::respond(live::connect_info(&req).await)
}

async fn event(req: Request, _: Params) -> Response {
    changes::deliver(req.body()).await
}

/// Entry point: one Router for every route of the service.
#[http_component]
async fn handle(req: Request) -> Response {
    let mut router = Router::new();
    health::add_routes(&mut router);
    assets::add_routes(&mut router);
    router.get_async("/api/preview", preview);
    router.get_async("/api/preview/completions", completions);
    router.get_async("/api/changes", changes);
    router.get_async("/api/live", live_info);
    router.post_async("/events/task-operations", event);
    router.post_async("/events/task-modifications", event);
    router.any_async("/api/tasks", api);
    router.any_async("/api/tasks/*", api);
    router.any_async("/api/series/*", api);
    router.any_async("/api/users/me/settings", api);
    health::add_fallback(&mut router);
    component_kit::mount::route(&router, req).await
}
