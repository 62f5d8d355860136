//! Task API component: the platform's front door. The route table lives here; handlers stay
//! thin (parse → domain crate → Dapr → answer) and every error becomes problem+json in
//! `error.rs`.

mod error;
mod handlers;
mod request;
mod upkeep;

use spin_sdk::http::{Method, Params, Request, Response, Router};
use spin_sdk::http_component;

/// The route table: each line registers `handlers::<name>` (wrapped so that its
/// `Result<Response, ApiError>` becomes the answer) and is one row of [`ROUTES`], from which the
/// 405 answers derive their `Allow` header. A row ending in `, hidden` is served but not named
/// in `Allow` (sidecar and scrape routes: other methods there answer 404).
macro_rules! route_table {
    ($($method:literal $path:literal => $name:ident $(, $hidden:ident)?;)*) => {
        mod route {
            use super::*;
            $(pub(crate) async fn $name(req: Request, params: Params) -> Response {
                error::respond(handlers::$name(req, params).await)
            })*
            pub(crate) async fn fallback(req: Request, params: Params) -> Response {
                error::respond(handlers::fallback(req, params).await)
            }
        }

        /// Every `(method, path, named in Allow)` the service serves, in registration order.
        pub(crate) const ROUTES: &[(&str, &str, bool)] =
            &[$(($method, $path, route_table!(@allow $($hidden)?))),*];

        fn register(router: &mut Router) {
            $(router.add_async($path, method($method), route::$name);)*
            router.any_async("/*", route::fallback);
        }
    };
    (@allow) => { true };
    (@allow hidden) => { false };
}

fn method(name: &str) -> Method {
    match name {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        other => Method::Other(other.to_string()),
    }
}

route_table! {
    "GET" "/healthz" => healthz;
    "GET" "/readyz" => readyz;
    "GET" "/metrics" => metrics, hidden;
    "GET" "/api/openapi.json" => openapi;
    "POST" "/api/tasks" => create;
    "GET" "/api/tasks" => list;
    "GET" "/api/tasks/:id" => get;
    "PATCH" "/api/tasks/:id" => patch;
    "DELETE" "/api/tasks/:id" => delete;
    "POST" "/api/tasks/:id/complete" => complete;
    "GET" "/api/tasks/:id/reminders" => reminders;
    "GET" "/api/series/:id" => get_series;
    "GET" "/api/series/:id/occurrences" => occurrences;
    "GET" "/api/calendar.ics" => calendar;
    "GET" "/api/users/me/settings" => get_settings;
    "PUT" "/api/users/me/settings" => put_settings;
    "POST" "/api/users/me/push-credentials" => issue_push_credentials;
    // Dapr Jobs API triggers (registered before any job is scheduled: a 404 would count as done).
    "POST" "/job/:name" => job, hidden;
}

/// The methods a path serves, for a 405's `Allow` (`None`: no route has this path).
pub(crate) fn allowed_methods(path: &str) -> Option<String> {
    const ORDER: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    let matches = |pattern: &str| {
        let (p, a): (Vec<&str>, Vec<&str>) =
            (pattern.split('/').collect(), path.split('/').collect());
        p.len() == a.len()
            && p.iter()
                .zip(&a)
                .all(|(p, a)| p.starts_with(':') && !a.is_empty() || p == a)
    };
    let methods: Vec<&str> = ROUTES
        .iter()
        .filter(|(_, pattern, shown)| *shown && matches(pattern))
        .map(|(m, _, _)| *m)
        .collect();
    if methods.is_empty() {
        return None;
    }
    let known = ORDER.iter().filter(|m| methods.contains(m));
    let other = methods.iter().filter(|m| !ORDER.contains(m));
    Some(known.chain(other).copied().collect::<Vec<_>>().join(", "))
}

/// Entry point: one Router for every route of the service.
#[http_component]
async fn handle(req: Request) -> Response {
    let mut router = Router::new();
    register(&mut router);
    component_kit::mount::route(&router, req).await
}

#[cfg(test)]
mod tests {
    use super::allowed_methods;

    #[test]
    fn allow_is_derived_from_the_route_table() {
        for (path, allow) in [
            ("/healthz", Some("GET")),
            ("/readyz", Some("GET")),
            ("/api/openapi.json", Some("GET")),
            ("/api/tasks", Some("GET, POST")),
            ("/api/tasks/abc", Some("GET, PATCH, DELETE")),
            ("/api/tasks/abc/complete", Some("POST")),
            ("/api/tasks/abc/reminders", Some("GET")),
            ("/api/series/abc", Some("GET")),
            ("/api/series/abc/occurrences", Some("GET")),
            ("/api/calendar.ics", Some("GET")),
            ("/api/users/me/settings", Some("GET, PUT")),
            ("/api/users/me/push-credentials", Some("POST")),
            ("/metrics", None),
            ("/job/outbox-sweep", None),
            ("/api/tasks//complete", None),
            ("/api/nothing", None),
        ] {
            assert_eq!(allowed_methods(path).as_deref(), allow, "{path}");
        }
    }
}
