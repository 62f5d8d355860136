//! The `task-modifications` consumer: a `v1.task.updated` of a series with scope `all` or
//! `following` that changed the rule (or split the series) recomputes the pre-creation chain of
//! the series, and of the new series of a split: the job of the next occurrence is (re)scheduled
//! under its deterministic name, and the job the chain had scheduled for an occurrence that is
//! no longer next is cancelled. A pre-creation job that fires for an occurrence the series no
//! longer has does nothing anyway (`crate::precreate`), so a cancel that is lost is harmless.
//!
//! The effects are job writes under deterministic names, idempotent by construction; the event
//! id is recorded in `processed_events` afterwards. Answers as `crate::completion`.

use chrono::Utc;
use component_kit::dapr::Dapr;
use component_kit::delivery::Status;
use engine::{Poison, MODIFICATIONS_CONSUMER};

use crate::catchup::chain;
use component_kit::db::query;

use crate::outcome::{verdict, Verdict};

/// Handles one delivery of `task-modifications`.
pub async fn handle(body: &[u8]) -> Status {
    verdict(process(&Dapr::from_env(), body).await)
}

async fn process(dapr: &Dapr, body: &[u8]) -> Verdict {
    let change = match engine::modification(body) {
        Ok(Some(c)) => c,
        Ok(None) => return Verdict::Success,
        Err(p) => return Verdict::Drop(p),
    };
    let rows = match query(dapr, &store::engine::series_chains(&change.series)).await {
        Ok(rows) => rows,
        Err(e) => return Verdict::Retry(e),
    };
    let chains: Vec<_> = rows.iter().filter_map(chain).collect();
    if !chains.iter().any(|c| c.series_id == change.series[0]) {
        return Verdict::Drop(Poison::Unknown {
            event_id: change.event_id,
            task_id: format!("(series {})", change.series[0].as_str()),
        });
    }
    let now = Utc::now();
    for c in &chains {
        let r = engine::resume(c, now);
        if let Err(e) = crate::precreate::apply(dapr, &r, c.lead_secs).await {
            return Verdict::Retry(e);
        }
        component_kit::warn!(
            "recurrence-engine: event {} re-planned series {}: next job {:?}, cancelled {:?}",
            change.event_id,
            c.series_id.as_str(),
            r.schedule.as_ref().map(|p| p.job_name()),
            r.cancel.as_ref().map(|p| p.job_name()),
        );
    }
    let done = store::jobs::record_processed(MODIFICATIONS_CONSUMER, &change.event_id);
    match component_kit::db::exec(dapr, &done).await {
        Ok(()) => Verdict::Success,
        Err(e) => Verdict::Retry(e),
    }
}
