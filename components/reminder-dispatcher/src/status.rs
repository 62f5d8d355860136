//! `GET /internal/reminder-jobs?ids=<reminder id>,...`: whether each reminder's Dapr job is
//! scheduled, read from this app's own sidecar (a job is visible only to the app id that
//! scheduled it). The Task API asks by service invocation for its user's task; the route is
//! sidecar-only like the job triggers (app API token, `component_kit::mount`), and in the cluster
//! the Dapr Configuration's accessControl admits task-api alone.

use component_kit::dapr::Dapr;
use component_kit::problem::Problem;
use component_kit::query;
use futures::future::join_all;
use notify::job::job_name;
use notify::status::{self, JobState, JobStates};
use spin_sdk::http::{Params, Request, Response};

/// Answers the job state of each requested reminder: 200 [`JobStates`]; 400 for unreadable
/// `ids`; 503 when the sidecar or its scheduler cannot tell.
pub async fn handle(req: Request, _params: Params) -> Response {
    let pairs = query::pairs(req.query());
    let ids = match status::parse_ids(query::first(&pairs, "ids")) {
        Ok(ids) => ids,
        Err(e) => {
            return Problem::typed(
                400,
                "bad-request",
                "The request is malformed",
                e.to_string(),
            )
            .response()
        }
    };
    let dapr = Dapr::from_env();
    let answers = join_all(ids.iter().map(|id| {
        let dapr = &dapr;
        async move {
            let name = job_name(id);
            let (code, body) = dapr
                .get_job(&name)
                .await
                .map_err(|e| format!("{name}: {e}"))?;
            let found = status::read_job(code, &body).map_err(|e| format!("{name}: {e}"))?;
            Ok::<_, String>(JobState::of(id, found))
        }
    }))
    .await;
    let mut jobs = Vec::with_capacity(answers.len());
    for answer in answers {
        match answer {
            Ok(state) => jobs.push(state),
            Err(why) => return unavailable(&why),
        }
    }
    match serde_json::to_value(JobStates { jobs }) {
        Ok(v) => component_kit::json::response(200, &v),
        Err(e) => unavailable(&e.to_string()),
    }
}

/// 503: the jobs could not be read (the cause is logged, not sent).
fn unavailable(why: &str) -> Response {
    component_kit::warn!("notification: reminder jobs: {why}");
    Problem::typed(
        503,
        "scheduler-unavailable",
        "The Dapr scheduler could not be asked",
        "the reminder jobs could not be read from the scheduler; retry later",
    )
    .with_header("retry-after", "5")
    .response()
}
