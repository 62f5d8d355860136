//! Task API component: the platform's front door. The route table lives here; handlers stay
//! thin (parse → domain crate → Dapr → answer) and every error becomes problem+json in
//! `error.rs`.

mod error;
mod handlers;
mod request;
mod store;

use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

/// Wraps `handlers::$h` (returning `Result<Response, ApiError>`) into a route handler.
macro_rules! routes {
    ($($name:ident),* $(,)?) => {
        $(pub(crate) async fn $name(req: Request, params: Params) -> Response {
            error::respond(handlers::$name(req, params).await)
        })*
    };
}

mod route {
    use super::*;
    routes!(
        create,
        list,
        get,
        complete,
        patch,
        delete,
        get_series,
        occurrences,
        calendar,
        get_settings,
        put_settings,
        issue_push_credentials,
        job,
        healthz,
        readyz,
        metrics,
        openapi,
        fallback
    );
}

/// Entry point: one Router for every route of the service.
#[http_component]
async fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.get_async("/healthz", route::healthz);
    router.get_async("/readyz", route::readyz);
    router.get_async("/metrics", route::metrics);
    router.get_async("/api/openapi.json", route::openapi);
    router.post_async("/api/tasks", route::create);
    router.get_async("/api/tasks", route::list);
    router.get_async("/api/tasks/:id", route::get);
    router.patch_async("/api/tasks/:id", route::patch);
    router.delete_async("/api/tasks/:id", route::delete);
    router.post_async("/api/tasks/:id/complete", route::complete);
    router.get_async("/api/series/:id", route::get_series);
    router.get_async("/api/series/:id/occurrences", route::occurrences);
    router.get_async("/api/calendar.ics", route::calendar);
    router.get_async("/api/users/me/settings", route::get_settings);
    router.put_async("/api/users/me/settings", route::put_settings);
    router.post_async(
        "/api/users/me/push-credentials",
        route::issue_push_credentials,
    );
    // Dapr Jobs API triggers (registered before any job is scheduled: a 404 would count as done).
    router.post_async("/job/:name", route::job);
    router.any_async("/*", route::fallback);
    component_kit::mount::route(&router, req).await
}
