//! The Task API's upkeep: the outbox relay that publishes the writes' events in batches, the
//! repair jobs that publish what it could not, and the retention job.

use component_kit::dapr::{Dapr, DaprError};
use serde_json::json;

use component_kit::db::{exec, query};
/// One-shot job scheduled when a publish fails.
pub const REPAIR_JOB: &str = "outbox-repair";
/// Recurring safety net over the index of unpublished rows (covers a crash between commit and
/// publish, when no one-shot job could be scheduled).
pub const SWEEP_JOB: &str = "outbox-sweep";
/// How often the safety net runs.
pub const SWEEP_EVERY: &str = "@every 15s";
/// Recurring job deleting bookkeeping rows past their retention (`store::retention`).
pub const RETENTION_JOB: &str = "retention";
/// How often it runs.
pub const RETENTION_EVERY: &str = "@every 10m";
/// Most batches of one table a retention run deletes (the next run takes the rest).
pub const RETENTION_MAX_BATCHES: u32 = 20;
/// Most rows one repair run publishes.
pub const REPAIR_BATCH: u32 = 200;

/// Prefix of the outbox relay's one-shot jobs: each arm schedules `outbox-relay-{event id}`
/// (a name of its own, so a new arm never overwrites a job that is being delivered).
pub const RELAY_JOB: &str = "outbox-relay";
/// How long an armed relay waits: the window whose writes share one bulk publish per topic.
pub const RELAY_WINDOW: &str = "250ms";
/// Most rows one relay round reads; a full round is followed by another.
pub const RELAY_BATCH: u32 = 500;
/// Most rounds one relay run makes (a longer backlog is the repair jobs' work).
pub const RELAY_ROUNDS: usize = 8;

pub use component_kit::outbox::{OutboxEvent, Published};

/// Hands a committed write's events to the outbox relay (ADR 0012). When the relay was idle at
/// the commit (`relay_idle`, read under the write's share lock), arms it and schedules its
/// one-shot job; when it was armed, its run reads these rows. If the relay cannot be armed or
/// its job cannot be scheduled, runs the relay now. Never fails the caller: the events are
/// committed, and the sweep job publishes whatever a crash leaves.
pub async fn relay(dapr: &Dapr, events: &[OutboxEvent], relay_idle: bool) {
    let Some(first) = events.first() else { return };
    if !relay_idle {
        return;
    }
    let armed = match query(dapr, &store::outbox::arm_relay()).await {
        // Armed by a write that committed after this one: its run reads these rows.
        Ok(rows) if rows.is_empty() => return,
        Ok(_) => true,
        Err(err) => {
            component_kit::warn!("task-api: arming the outbox relay failed (relaying now): {err}");
            false
        }
    };
    if armed {
        let job = json!({
            "dueTime": RELAY_WINDOW,
            "data": {"reason": "relay"},
            "failure_policy": {"constant": {"interval": "1s", "max_retries": 10}},
        });
        let name = format!("{RELAY_JOB}-{}", first.event_id);
        match dapr.schedule_job(&name, &job).await {
            Ok(_) => return,
            Err(err) => {
                component_kit::warn!("task-api: scheduling {name} failed (relaying now): {err}")
            }
        }
    }
    // Writes that found the relay armed by this call wait for a run: this is it.
    match relay_run(dapr).await {
        Ok(Some(_)) => {}
        Ok(None) => component_kit::warn!(
            "task-api: another relay run is publishing (the {SWEEP_JOB} job takes what it leaves)"
        ),
        Err(err) => {
            component_kit::warn!("task-api: relaying failed (the {SWEEP_JOB} job remains): {err}")
        }
    }
}

/// One run of the outbox relay: starts (clearing its arm once the writes in flight have
/// committed), then publishes the Task API's due rows with one bulk call per topic, round after
/// round while rounds come back full, and ends. A failed publish counts on its rows and
/// schedules the repair job. Answers `None` when another run holds the relay: runs never
/// overlap, so a user's events leave in order.
pub async fn relay_run(dapr: &Dapr) -> Result<Option<Published>, DaprError> {
    let Some(run) = query(dapr, &store::outbox::start_relay())
        .await?
        .into_iter()
        .next()
        .and_then(|r| r.run)
    else {
        return Ok(None);
    };
    let rounds = relay_rounds(dapr).await;
    // Ends the run even after a failed round (else later jobs wait for the lease).
    let finished = exec(dapr, &store::outbox::finish_relay(&run)).await;
    let total = rounds?;
    if let Err(err) = finished {
        component_kit::warn!("task-api: ending relay run {run} failed (its lease expires): {err}");
    }
    if total.failed > 0 {
        schedule_repair(dapr).await;
    }
    Ok(Some(total))
}

/// The rounds of a relay run ([`relay_run`]).
async fn relay_rounds(dapr: &Dapr) -> Result<Published, DaprError> {
    let mut total = Published::default();
    for _ in 0..RELAY_ROUNDS {
        let round =
            component_kit::outbox::relay_due(dapr, store::TASK_API_SOURCE, RELAY_BATCH).await?;
        total.ok += round.ok;
        total.failed += round.failed;
        total.parked += round.parked;
        if round.ok + round.failed + round.parked < RELAY_BATCH as usize {
            break;
        }
    }
    Ok(total)
}

/// Schedules (or moves) the one-shot repair job a few seconds ahead.
pub async fn schedule_repair(dapr: &Dapr) {
    let job = json!({
        "dueTime": "3s",
        "data": {"reason": "publish failed"},
        "overwrite": true,
        "failure_policy": {"constant": {"interval": "5s", "max_retries": 20}},
    });
    match dapr.schedule_job(REPAIR_JOB, &job).await {
        Ok(_) => {
            let _ = exec(
                dapr,
                &store::jobs::record_job(REPAIR_JOB, "outbox", &job, false),
            )
            .await;
        }
        Err(err) => component_kit::warn!(
            "task-api: scheduling {REPAIR_JOB} failed (the {SWEEP_JOB} job remains): {err}"
        ),
    }
}

/// Makes sure the recurring jobs exist, the outbox safety net and retention (idempotent: an
/// existing job is kept).
pub async fn ensure_sweep(dapr: &Dapr) -> Result<(), DaprError> {
    for (name, kind, every, reason) in [
        (SWEEP_JOB, "outbox", SWEEP_EVERY, "safety net"),
        (RETENTION_JOB, "retention", RETENTION_EVERY, "retention"),
    ] {
        let job = json!({"schedule": every, "data": {"reason": reason}});
        if dapr.schedule_job(name, &job).await? {
            let _ = exec(dapr, &store::jobs::record_job(name, kind, &job, false)).await;
        }
    }
    Ok(())
}

/// One retention run: each table's purge statement, batch after batch while batches come back
/// full (at most [`RETENTION_MAX_BATCHES`]). Answers the rows deleted per table.
pub async fn purge(dapr: &Dapr) -> Result<Vec<(String, u64)>, DaprError> {
    let retention = store::retention::Retention::from_lookup(|k| std::env::var(k).ok());
    let mut deleted = Vec::new();
    for statement in retention.purges() {
        let mut total = 0u64;
        let mut table = String::new();
        for _ in 0..RETENTION_MAX_BATCHES {
            let rows = query(dapr, &statement).await?;
            let Some(row) = rows.first() else { break };
            table.clone_from(&row.table_name);
            let n = u64::try_from(row.deleted).unwrap_or(0);
            total += n;
            if n < u64::from(store::retention::BATCH) {
                break;
            }
        }
        deleted.push((table, total));
    }
    let _ = exec(
        dapr,
        &store::jobs::record_job(
            RETENTION_JOB,
            "retention",
            &json!({"deleted": deleted}),
            true,
        ),
    )
    .await;
    Ok(deleted)
}

/// One repair run: publishes the due outbox rows in their written order (a failed row waits
/// with backoff and is parked when it keeps failing; `store::outbox::mark_failed`). Answers how
/// many were published, are still pending and were parked.
pub async fn repair(dapr: &Dapr, job: &str) -> Result<Published, DaprError> {
    let total = component_kit::outbox::republish_due(dapr, REPAIR_BATCH).await?;
    let _ = exec(
        dapr,
        &store::jobs::record_job(
            job,
            "outbox",
            &json!({"published": total.ok, "failed": total.failed, "parked": total.parked}),
            true,
        ),
    )
    .await;
    Ok(total)
}
