//! Task API component: the platform's front door. The route table lives here; handlers stay thin.

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
