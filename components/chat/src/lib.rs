//! Chat component: `POST /api/chat` understands a plain-English task command (crate `intent`),
//! carries it out through the Task API by Dapr service invocation with the caller's token, and
//! keeps the conversation in the Dapr state store (`chat-state`), never task data.

mod actions;
mod error;
mod handlers;
mod history;
mod tasks;

use component_kit::health;
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

async fn chat(req: Request, _: Params) -> Response {
    error::respond(handlers::chat(req).await)
}

async fn conversation(req: Request, params: Params) -> Response {
    error::respond(handlers::conversation(req, params).await)
}

/// Entry point: one Router for every route of the service.
#[http_component]
async fn handle(req: Request) -> Response {
    let mut router = Router::new();
    health::add_routes(&mut router);
    router.post_async("/api/chat", chat);
    router.get_async("/api/chat/:conversation", conversation);
    health::add_fallback(&mut router);
    component_kit::mount::route(&router, req).await
}
