//! The catch-up of a series whose pre-creation chain is stuck (its job was lost).

use chrono::{DateTime, Utc};

use domain::SeriesId;

use crate::Precreate;

/// Where a series' chain of pre-creation jobs stands, as stored.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The series.
    pub series_id: SeriesId,
    /// Its rule, start, zone, end and mode; `None` if it cannot be rebuilt.
    pub series: Option<recurrence::Series>,
    /// False once the series was deleted ("all").
    pub active: bool,
    /// The latest occurrence that has a live (not deleted) instance.
    pub frontier: Option<DateTime<Utc>>,
    /// That instance's `upcoming_occurrence`: the occurrence whose job the chain scheduled.
    pub frontier_upcoming: Option<DateTime<Utc>>,
    /// Missed occurrences up to this instant are already counted.
    pub counted_through: Option<DateTime<Utc>>,
    /// The pre-creation lead of the chain's next occurrence ([`precreate_lead_secs`] of the
    /// frontier instance's reminders, which the next instance copies).
    pub lead_secs: i64,
}

/// What to do to put a series' chain back in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resume {
    /// The job to (re-)schedule: the first occurrence after the frontier and now.
    pub schedule: Option<Precreate>,
    /// A job the chain scheduled for an occurrence that is no longer the next one.
    pub cancel: Option<Precreate>,
    /// Occurrences that passed without an instance since the frontier (and since the last
    /// count), skipped by the recurrence library's default catch-up policy
    /// ([`recurrence::CatchUpPolicy::SkipWithCount`]).
    pub skipped: u32,
}

/// Recomputes a series' chain at `now`: the next occurrence to pre-create is the first one
/// after both the frontier and `now` (missed occurrences are skipped and counted, as
/// [`recurrence::catch_up`] does with the default policy); a job scheduled for another
/// occurrence is stale. Inactive, from-completion and unreadable series get no job.
#[must_use]
pub fn resume(chain: &Chain, now: DateTime<Utc>) -> Resume {
    let stale = |next: Option<&Precreate>| {
        chain
            .frontier_upcoming
            .filter(|u| next.map(|n| n.occurrence) != Some(*u))
            .map(|u| Precreate {
                series_id: chain.series_id.clone(),
                occurrence: u,
            })
    };
    let Some(series) = chain
        .series
        .as_ref()
        .filter(|s| chain.active && s.mode == recurrence::Mode::Fixed)
    else {
        return Resume {
            cancel: stale(None),
            ..Resume::default()
        };
    };
    let from = chain.frontier.max(chain.counted_through);
    let caught = recurrence::catch_up(series, from, now, recurrence::CatchUpPolicy::default());
    let after = chain.frontier.map_or(now, |f| f.max(now));
    let schedule = series.next_after(after).map(|occurrence| Precreate {
        series_id: chain.series_id.clone(),
        occurrence,
    });
    Resume {
        cancel: stale(schedule.as_ref()),
        schedule,
        skipped: caught.skipped,
    }
}
