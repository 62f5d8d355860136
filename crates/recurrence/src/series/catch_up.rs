//! Catch-up after missed occurrences.

use chrono::{DateTime, Utc};

use super::{Mode, Occurrence, Series, MAX_SCAN};

/// How missed occurrences are handled by [`catch_up`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CatchUpPolicy {
    /// Skip to the next future occurrence and report how many were skipped (default).
    #[default]
    SkipWithCount,
    /// Report every missed occurrence so that each can be created.
    CreateAll,
}

/// The result of [`catch_up`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CatchUp {
    /// The next due occurrence after `now` (`None`: the series is over).
    pub next: Option<DateTime<Utc>>,
    /// How many missed occurrences (between the last completion and `now`) were skipped.
    pub skipped: u32,
    /// With [`CatchUpPolicy::CreateAll`], the missed occurrences (at most [`MAX_CATCH_UP`]).
    pub missed: Vec<DateTime<Utc>>,
}

/// Upper bound on the number of missed occurrences counted or listed by [`catch_up`].
pub const MAX_CATCH_UP: u32 = 10_000;

/// Catch-up after missed occurrences: `last_done` is the last completed (or acknowledged)
/// occurrence, `now` the current instant.
///
/// * [`CatchUpPolicy::SkipWithCount`]: `next` is the first occurrence after `now`, `skipped`
///   the number of occurrences in `(last_done, now]`.
/// * [`CatchUpPolicy::CreateAll`]: additionally lists those occurrences in `missed`.
///
/// In [`Mode::FromCompletion`] nothing can be missed: `next` is counted from `last_done`.
pub fn catch_up(
    series: &Series,
    last_done: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    policy: CatchUpPolicy,
) -> CatchUp {
    if series.mode == Mode::FromCompletion {
        let next = match last_done {
            Some(done) => series.next_from_completion(done),
            None => series.occurrences().next().map(|o| o.instant),
        };
        return CatchUp {
            next,
            skipped: 0,
            missed: Vec::new(),
        };
    }
    let mut count = 0u32;
    let mut missed = Vec::new();
    let iter: Box<dyn Iterator<Item = Occurrence>> = match last_done {
        Some(f) => Box::new(series.occurrences_near(f)),
        None => Box::new(series.occurrences()),
    };
    for o in iter.take(MAX_SCAN) {
        if o.instant > now || count >= MAX_CATCH_UP {
            break;
        }
        if last_done.is_some_and(|f| o.instant <= f) {
            continue;
        }
        count += 1;
        if policy == CatchUpPolicy::CreateAll {
            missed.push(o.instant);
        }
    }
    let skipped = match policy {
        CatchUpPolicy::SkipWithCount => count,
        CatchUpPolicy::CreateAll => 0,
    };
    CatchUp {
        next: series.next_after(now),
        skipped,
        missed,
    }
}
