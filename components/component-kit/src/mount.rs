//! Where a component is mounted. In the root `spin.toml` every component but the Task API has a
//! route base (`/recurrence/...`, `/notification/...`, `/chat/...`, `/dashboard/...`), and Spin
//! hands the component the full path. The component names its base in `ROUTE_PREFIX` and strips
//! it before routing, so `/recurrence/healthz` and `/healthz` reach the same handler: the first
//! is what probes, subscriptions and the ingress send under SpinKube, the second is what Dapr
//! sends for its fixed paths (`POST /job/{name}`, `GET /dapr/subscribe`) and what a component
//! served alone (`wasmtime serve`) receives.

use spin_sdk::http::{Request, Response, Router};

use crate::app_token;
use crate::dapr::Dapr;

/// Routes `req` on `router` after removing this component's route base (see the module docs).
/// A route only the sidecar may call needs the sidecar's app API token ([`crate::app_token`]).
pub async fn route(router: &Router, req: Request) -> Response {
    crate::trace::begin(req.header("traceparent").and_then(|h| h.as_str()));
    match unmount(req) {
        Mounted::Route(req) => {
            let path = req.path().to_string();
            if app_token::is_sidecar_route(&path) {
                if let Err(refusal) = app_token::verify(&req, &Dapr::from_env()).await {
                    return app_token::refusal_response(&refusal, &path);
                }
            }
            router.handle_async(req).await
        }
        Mounted::Redirect(response) => response,
    }
}

/// What to do with an incoming request before routing it.
pub enum Mounted {
    /// Route this request (the route base, if any, removed from its path).
    Route(Request),
    /// The path was the bare route base (`/dashboard`): redirect to it with a trailing slash,
    /// so that relative links of a page resolve under the base.
    Redirect(Response),
}

/// The route base from `ROUTE_PREFIX` (e.g. `/recurrence`), or `None` when unset or `/`.
pub fn route_prefix() -> Option<String> {
    let raw = std::env::var("ROUTE_PREFIX").ok()?;
    let trimmed = raw.trim().trim_end_matches('/');
    (trimmed.starts_with('/') && trimmed.len() > 1).then(|| trimmed.to_string())
}

/// Strips this component's route base from the request path (see the module docs).
pub fn unmount(req: Request) -> Mounted {
    let Some(prefix) = route_prefix() else {
        return Mounted::Route(req);
    };
    match strip_prefix(req.path(), &prefix) {
        Stripped::Unchanged => Mounted::Route(req),
        Stripped::BareBase => {
            let query = req.query();
            let location = if query.is_empty() {
                format!("{prefix}/")
            } else {
                format!("{prefix}/?{query}")
            };
            Mounted::Redirect(
                Response::builder()
                    .status(308)
                    .header("location", location)
                    .body(Vec::new())
                    .build(),
            )
        }
        Stripped::Path(path) => {
            let query = req.query();
            let uri = if query.is_empty() {
                path
            } else {
                format!("{path}?{query}")
            };
            let headers: Vec<(String, Vec<u8>)> = req
                .headers()
                .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
                .collect();
            let method = req.method().clone();
            Mounted::Route(
                Request::builder()
                    .method(method)
                    .uri(uri)
                    .headers(headers)
                    .body(req.into_body())
                    .build(),
            )
        }
    }
}

/// The outcome of removing a route base from a path.
#[derive(Debug, PartialEq, Eq)]
pub enum Stripped {
    /// The path is not under the base; route it as it is.
    Unchanged,
    /// The path is exactly the base, without a trailing slash.
    BareBase,
    /// The path under the base, starting with `/`.
    Path(String),
}

/// Removes `prefix` (no trailing slash) from `path` when `path` is `prefix` followed by `/...`;
/// `/recurrence-x` is not under `/recurrence`.
pub fn strip_prefix(path: &str, prefix: &str) -> Stripped {
    match path.strip_prefix(prefix) {
        Some("") => Stripped::BareBase,
        Some(rest) if rest.starts_with('/') => Stripped::Path(rest.to_string()),
        _ => Stripped::Unchanged,
    }
}

#[cfg(test)]
mod tests {
    use super::{strip_prefix, Stripped};

    #[test]
    fn paths_under_the_base_lose_it() {
        assert_eq!(
            strip_prefix("/recurrence/healthz", "/recurrence"),
            Stripped::Path("/healthz".into())
        );
        assert_eq!(
            strip_prefix("/recurrence/", "/recurrence"),
            Stripped::Path("/".into())
        );
        assert_eq!(
            strip_prefix("/dashboard/api/tasks/7", "/dashboard"),
            Stripped::Path("/api/tasks/7".into())
        );
    }

    #[test]
    fn the_bare_base_redirects() {
        assert_eq!(strip_prefix("/dashboard", "/dashboard"), Stripped::BareBase);
    }

    #[test]
    fn dapr_fixed_paths_and_look_alikes_stay() {
        assert_eq!(
            strip_prefix("/job/reminder-1", "/notification"),
            Stripped::Unchanged
        );
        assert_eq!(
            strip_prefix("/dapr/subscribe", "/recurrence"),
            Stripped::Unchanged
        );
        assert_eq!(
            strip_prefix("/recurrence-x/healthz", "/recurrence"),
            Stripped::Unchanged
        );
        assert_eq!(strip_prefix("/", "/chat"), Stripped::Unchanged);
    }
}
