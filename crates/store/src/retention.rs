//! Retention: which bookkeeping rows may be deleted, and when. Every table below only grows
//! otherwise. Each purge deletes at most one batch per statement (a short transaction that never
//! holds writers up), and keeps whatever a redelivery, a retry or a client may still need:
//!
//! | table | deleted when | why that is safe |
//! |---|---|---|
//! | `outbox` | published, written more than `outbox_days` ago | unpublished and parked rows are never deleted |
//! | `processed_events` | recorded more than `processed_days` ago | longer than the longest retention a deployment gives its topics (30 days on Redpanda in AKS, 7 locally), so no redelivery or dead-letter replay can come |
//! | `dashboard_changes` | recorded more than `changes_days` ago | the dashboard starts from the current cursor and reloads its list after a reconnect: it never reads changes days old |
//! | `idempotency_keys` | written more than `idempotency_days` ago | a client's retry window is minutes; documented in docs/task-api.md |
//! | `jobs` | one-shot jobs that ran more than `jobs_days` ago | recurring jobs (a `schedule`) and pending ones are kept |

use serde::Deserialize;

use crate::statement::{Binder, Query};

/// What one purge batch deleted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purged {
    /// The table.
    pub table_name: String,
    /// Rows deleted.
    pub deleted: i64,
}

/// How long each kind of row is kept, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Published outbox rows.
    pub outbox_days: u32,
    /// Consumer idempotency records (must exceed Kafka's retention).
    pub processed_days: u32,
    /// The dashboard's change log.
    pub changes_days: u32,
    /// Recorded `Idempotency-Key`s.
    pub idempotency_days: u32,
    /// Records of one-shot jobs that ran.
    pub jobs_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            outbox_days: 7,
            processed_days: KAFKA_RETENTION_DAYS + 1,
            changes_days: 7,
            idempotency_days: 7,
            jobs_days: 30,
        }
    }
}

/// The longest retention any deployment gives the platform's topics and dead-letter topics, in
/// days (30 on Redpanda in AKS, docs/deploy-aks.md; 7 locally): processed-event records must
/// outlive it, or a replay of an old dead letter would not be recognised as a duplicate.
pub const KAFKA_RETENTION_DAYS: u32 = 30;

/// Rows one purge statement deletes at most.
pub const BATCH: u32 = 5000;

impl Retention {
    /// The defaults, each overridden by `RETENTION_<NAME>_DAYS` when it holds a whole number of
    /// at least 1 (`lookup` reads a variable). `processed_days` never goes below
    /// [`KAFKA_RETENTION_DAYS`] + 1.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let d = Self::default();
        let days = |name: &str, default: u32| {
            lookup(&format!("RETENTION_{name}_DAYS"))
                .and_then(|v| v.trim().parse::<u32>().ok())
                .filter(|n| *n >= 1)
                .unwrap_or(default)
        };
        Self {
            outbox_days: days("OUTBOX", d.outbox_days),
            processed_days: days("PROCESSED", d.processed_days).max(KAFKA_RETENTION_DAYS + 1),
            changes_days: days("CHANGES", d.changes_days),
            idempotency_days: days("IDEMPOTENCY", d.idempotency_days),
            jobs_days: days("JOBS", d.jobs_days),
        }
    }

    /// One purge statement per table.
    #[must_use]
    pub fn purges(&self) -> Vec<Query<Purged>> {
        vec![
            purge(
                "outbox",
                "published_at is not null and created_at < now() - {days} * interval '1 day'",
                self.outbox_days,
            ),
            purge(
                "processed_events",
                "processed_at < now() - {days} * interval '1 day'",
                self.processed_days,
            ),
            purge(
                "dashboard_changes",
                "recorded_at < now() - {days} * interval '1 day'",
                self.changes_days,
            ),
            purge(
                "idempotency_keys",
                "created_at < now() - {days} * interval '1 day'",
                self.idempotency_days,
            ),
            purge(
                "jobs",
                "runs > 0 and (data ->> 'schedule') is null \
                 and last_run_at < now() - {days} * interval '1 day'",
                self.jobs_days,
            ),
        ]
    }
}

/// Deletes up to [`BATCH`] rows of `table` matching `condition` (with `{days}` bound).
fn purge(table: &str, condition: &str, days: u32) -> Query<Purged> {
    let mut b = Binder::default();
    let days = b.bind(days);
    let batch = b.bind(BATCH);
    let condition = condition.replace("{days}", &format!("{days}::integer"));
    let sql = format!(
        "with d as (delete from {table} where ctid = any(array(select ctid from {table} where {condition} \
         limit {batch}::integer)) returning 1) select '{table}' as table_name, count(*) as deleted from d"
    );
    b.finish_query(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let r = Retention::from_lookup(|_| None);
        assert_eq!(r, Retention::default());
        let r = Retention::from_lookup(|k| match k {
            "RETENTION_OUTBOX_DAYS" => Some("2".into()),
            "RETENTION_PROCESSED_DAYS" => Some("1".into()),
            "RETENTION_CHANGES_DAYS" => Some("0".into()),
            "RETENTION_JOBS_DAYS" => Some("soon".into()),
            _ => None,
        });
        assert_eq!(r.outbox_days, 2);
        assert_eq!(
            r.processed_days,
            KAFKA_RETENTION_DAYS + 1,
            "never below Kafka's retention"
        );
        assert_eq!(r.changes_days, 7, "0 is not a retention");
        assert_eq!(r.jobs_days, 30, "not a number: the default");
    }

    #[test]
    fn purges_are_bounded_and_bind_their_values() {
        let purges = Retention::default().purges();
        assert_eq!(purges.len(), 5);
        for p in &purges {
            assert!(p.sql.contains("limit $2::integer"), "{}", p.sql);
            assert!(
                p.sql.contains("$1::integer * interval '1 day'"),
                "{}",
                p.sql
            );
            assert_eq!(p.params.len(), 2);
        }
        assert!(purges[0].sql.contains("published_at is not null"));
        assert!(purges[4].sql.contains("(data ->> 'schedule') is null"));
    }
}
