//! Reminder dispatcher (Dapr app id `notification`): owns reminder timing and delivery.
//!
//! - `task-operations` / `task-modifications` (declarative subscriptions, dead-letter topics
//!   `task-events-dlq` / `updates-dlq`): reconcile the task's reminders with one Dapr job each
//!   (`reconcile`);
//! - `POST /job/{name}`: a reminder's job fired: publish `v1.reminder.due` on `alerts` (`trigger`),
//!   or the recurring `sweep-reminders` job: announce reminders whose trigger was lost (`sweep`),
//!   or the recurring `horizon-reminders` job: schedule the reminders that came within the
//!   horizon (`horizon`);
//! - `GET /dapr/subscribe` (daprd's start-up call): schedules the sweep and horizon jobs;
//! - `alerts` (dead-letter topic `alerts-dlq`): deliver a due reminder by email and push, each
//!   channel once (`deliver`);
//! - `GET /internal/reminder-jobs?ids=...` (Dapr service invocation from task-api, under the
//!   route base: `/notification/internal/reminder-jobs`): whether each reminder's job is
//!   scheduled (`status`).
//!
//! The route table is here; decisions live in the `notify` crate.

mod db;
mod deliver;
mod horizon;
mod reconcile;
mod status;
mod sweep;
mod trigger;

use component_kit::delivery::{self, Delivery};
use component_kit::health;
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

/// A delivery of task events: one event, or a bulk reconciled as one set.
async fn task_events(req: Request, _params: Params) -> Response {
    match delivery::read(req.body()) {
        Delivery::Single => delivery::single_response(reconcile::handle(req.body()).await),
        Delivery::Bulk(entries) => delivery::bulk_response(&reconcile::handle_bulk(entries).await),
    }
}

async fn alerts(req: Request, _params: Params) -> Response {
    delivery::handle(
        req.body(),
        |event| async move { deliver::handle(&event).await },
    )
    .await
}

/// `POST /job/{name}`: the sweep job, the horizon job or a reminder's job.
async fn job(req: Request, params: Params) -> Response {
    match params.get("name") {
        Some(sweep::JOB) => sweep::run().await,
        Some(notify::job::HORIZON_JOB) => horizon::run().await,
        _ => trigger::handle(req, params).await,
    }
}

/// `GET /dapr/subscribe`: daprd asks once when it starts (subscriptions are declarative, so the
/// answer is empty); the dispatcher uses it to (re)schedule its sweep and horizon jobs.
async fn dapr_subscribe(_req: Request, _params: Params) -> Response {
    futures::join!(sweep::schedule(), horizon::schedule());
    component_kit::json::response(200, &serde_json::json!([]))
}

/// Entry point: one Router for every route of the service.
#[http_component]
async fn handle(req: Request) -> Response {
    let mut router = Router::new();
    health::add_routes(&mut router);
    router.post_async("/events/task-operations", task_events);
    router.post_async("/events/task-modifications", task_events);
    router.post_async("/events/alerts", alerts);
    // Jobs API triggers (registered before any job is scheduled: a 404 would count as done).
    router.get_async("/dapr/subscribe", dapr_subscribe);
    router.post_async("/job/:name", job);
    // Service invocation from task-api (sidecar-only: the app API token is checked).
    // (`notify::status::ROUTE`; spelled out for scripts/infra/check_spin_routes.py).
    router.get_async("/internal/reminder-jobs", status::handle);
    health::add_fallback(&mut router);
    component_kit::mount::route(&router, req).await
}
