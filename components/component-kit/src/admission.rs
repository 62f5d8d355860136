//! Load shedding by queue delay, for user requests: a request notes when its handler started;
//! once it has waited longer than `MAX_QUEUE_MS` for the sidecar, the database or the CPU, the
//! service refuses it (503 with `Retry-After`) instead of adding to the queue. Dapr's own
//! deliveries are never shed. docs/reliability.md has the measured curve and its limits.

use chrono::{DateTime, Duration, Utc};

/// Default of [`max_queue_ms`].
pub const DEFAULT_MAX_QUEUE_MS: u32 = 1000;
/// `Retry-After` of a shed request, in seconds.
pub const RETRY_AFTER_SECS: i64 = 1;

/// The queue budget: `MAX_QUEUE_MS` from the WASI environment, else [`DEFAULT_MAX_QUEUE_MS`];
/// 0 turns shedding off.
#[must_use]
pub fn max_queue_ms() -> u32 {
    std::env::var("MAX_QUEUE_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_MAX_QUEUE_MS)
}

/// Whether a request whose handler started at `received` has spent its budget `max_ms`.
#[must_use]
pub fn overdue(received: DateTime<Utc>, max_ms: u32) -> bool {
    max_ms > 0 && Utc::now() - received > Duration::milliseconds(i64::from(max_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_overdue_only_past_a_nonzero_budget() {
        let long_ago = Utc::now() - Duration::seconds(5);
        assert!(overdue(long_ago, 1000));
        assert!(!overdue(long_ago, 0));
        assert!(!overdue(Utc::now(), 1000));
    }
}
