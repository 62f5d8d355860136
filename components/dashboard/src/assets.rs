//! The page: plain HTML, JavaScript and CSS embedded in the component, served with a strict
//! content security policy (everything from this origin, nothing inline, no third party but the
//! live-sync server's WebSocket).

use spin_sdk::http::{IntoResponse, Params, Request, Response, Router};

const INDEX_HTML: &str = include_str!("../static/index.html");
const APP_JS: &str = include_str!("../static/app.js");
const APP_CSS: &str = include_str!("../static/app.css");

/// The policy: everything from this origin, plus the live-sync WebSocket's origin when it is
/// another one (`LIVE_SYNC_URL`, e.g. its own port locally).
fn csp() -> String {
    let connect = crate::live::socket_origin()
        .map(|o| format!("'self' {o}"))
        .unwrap_or_else(|| "'self'".to_string());
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src {connect}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Adds `GET /`, `/app.js` and `/app.css`.
pub fn add_routes(router: &mut Router) {
    router.get("/", index);
    router.get("/index.html", index);
    router.get("/app.js", app_js);
    router.get("/app.css", app_css);
}

fn asset(content_type: &str, body: &'static str) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", content_type)
        .header("cache-control", "no-cache")
        .header("content-security-policy", csp())
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .body(body)
        .build()
}

fn index(_: Request, _: Params) -> anyhow::Result<impl IntoResponse> {
    Ok(asset("text/html; charset=utf-8", INDEX_HTML))
}

fn app_js(_: Request, _: Params) -> anyhow::Result<impl IntoResponse> {
    Ok(asset("text/javascript; charset=utf-8", APP_JS))
}

fn app_css(_: Request, _: Params) -> anyhow::Result<impl IntoResponse> {
    Ok(asset("text/css; charset=utf-8", APP_CSS))
}
