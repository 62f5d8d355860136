//! The `task-operations` consumer: on `v1.task.completed` of a recurring instance, the next
//! instance exists afterwards; on `v1.task.created` of a recurring instance, the occurrence
//! after it gets its pre-creation job (`crate::precreate`); on `v1.task.deleted` with scope
//! `following` or `all` that job is cancelled. The Task API already creates the next instance with the completion; this
//! consumer is the idempotent safety net that agrees with it (same occurrence, unique
//! `(series_id, recurrence_id)`, event id recorded in the same statement).
//!
//! Answers to Dapr: `{"status":"SUCCESS"}` when done or ignored, `{"status":"DROP"}` for poison
//! (dead-letter topic), and 503 `{"status":"RETRY"}` when a dependency failed (redelivered).

use component_kit::dapr::Dapr;
use component_kit::delivery::Status;
use domain::Mode;
use engine::{Operation, Poison, StoredInstance, COMPLETION_CONSUMER};
use store::engine::CompletedInstance;

use crate::outcome::{publish, verdict, Verdict};
use component_kit::db::query;

/// Handles one delivery of `task-operations`.
pub async fn handle(body: &[u8]) -> Status {
    verdict(process(&Dapr::from_env(), body).await)
}

async fn process(dapr: &Dapr, body: &[u8]) -> Verdict {
    let c = match engine::operation(body) {
        Ok(Some(Operation::Completed(c))) => c,
        Ok(Some(Operation::Created(p, lead))) => {
            return match crate::precreate::schedule(dapr, &p, lead).await {
                Ok(()) => Verdict::Success,
                Err(e) => Verdict::Retry(e),
            }
        }
        Ok(Some(Operation::Cancel(p))) => {
            return match crate::precreate::cancel(dapr, &p).await {
                Ok(()) => {
                    component_kit::info!("recurrence-engine: cancelled job {}", p.job_name());
                    Verdict::Success
                }
                Err(e) => Verdict::Retry(e),
            }
        }
        Ok(None) => return Verdict::Success,
        Err(p) => return Verdict::Drop(p),
    };
    let rows = match query(
        dapr,
        &store::engine::completed_instance(&c.user_id, &c.task_id),
    )
    .await
    {
        Ok(rows) => rows,
        Err(e) => return Verdict::Retry(e),
    };
    let Some(instance) = rows.first().and_then(stored) else {
        return Verdict::Drop(Poison::Unknown {
            event_id: c.event_id.clone(),
            task_id: c.task_id.as_str().to_string(),
        });
    };
    let next = match engine::next_instance(&c, &instance) {
        Ok(n) => n,
        Err(p) => return Verdict::Drop(p),
    };
    let stmt =
        store::engine::ensure_next_instance(COMPLETION_CONSUMER, &c.event_id, &c.task_id, next);
    match query(dapr, &stmt).await {
        Ok(rows) => {
            if let Some(row) = rows.first() {
                if row.created > 0 {
                    component_kit::warn!(
                        "recurrence-engine: event {} created the missing next instance of series {}",
                        c.event_id,
                        c.series_id.as_str()
                    );
                }
                publish(dapr, &row.events).await;
            }
            Verdict::Success
        }
        Err(e) => Verdict::Retry(e),
    }
}

/// A completed instance row; `None` if it is not completed (or its columns are not readable).
fn stored(row: &CompletedInstance) -> Option<StoredInstance> {
    Some(StoredInstance {
        recurrence_id: row.recurrence_id?,
        rule: row.rule.clone(),
        dtstart_local: row.dtstart_local.clone(),
        tzid: row.tzid.clone(),
        end_date: row.end_date,
        mode: Mode::parse(&row.mode).unwrap_or_default(),
        completed_at: row.completed_at?,
    })
}
