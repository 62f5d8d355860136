//! Skeleton: health and readiness only. Event routes are not served yet, so Dapr's 404 handling
//! sends deliveries to the subscription's dead-letter topic, where nothing is lost.

use component_kit::health;
use spin_sdk::http::{Request, Response, Router};
use spin_sdk::http_component;

/// Entry point: one Router for every route of the service.
#[http_component]
async fn handle(req: Request) -> Response {
    let mut router = Router::new();
    health::add_routes(&mut router);
    health::add_fallback(&mut router);
    router.handle_async(req).await
}
