//! Time-zone policy: how a wall-clock occurrence becomes an instant.
//!
//! Occurrences are generated as local wall-clock times and only then placed on the time line.
//! The policy (the same as python-dateutil with `zoneinfo`, `fold=0`, and RFC 5545 §3.3.5):
//!
//! * **Normal** local time: the one instant it denotes.
//! * **Gap** (the clock jumps forward, e.g. New York 2026-03-08 02:30 does not exist): the
//!   occurrence is kept, with the UTC offset in force *before* the gap. 02:30 EST = 07:30Z,
//!   which the clock shows as 03:30 EDT. Nothing is dropped or moved to another day.
//! * **Overlap** (the clock falls back, e.g. New York 2026-11-01 01:30 happens twice): one
//!   occurrence, the *first* (daylight-time) instant, 01:30 EDT = 05:30Z.
//! * **Floating** series (no zone): wall-clock times are mapped to instants as if they were
//!   UTC, never in the server's zone. Callers that know the user's zone should attach it.

use chrono::{DateTime, Duration, FixedOffset, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// The time zone of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Zone {
    /// Floating local time (RFC 5545 "form #1"): the same wall time everywhere.
    Floating,
    /// An IANA zone (`Etc/UTC` for series written with `Z`).
    Tz(Tz),
}

impl Zone {
    /// UTC.
    pub const UTC: Zone = Zone::Tz(Tz::UTC);

    /// Parses an IANA zone name (`Europe/Berlin`).
    pub fn parse(name: &str) -> Option<Self> {
        name.trim().parse::<Tz>().ok().map(Zone::Tz)
    }

    /// The IANA name, or `None` when floating.
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Zone::Floating => None,
            Zone::Tz(tz) => Some(tz.name()),
        }
    }

    /// True for UTC (written with a trailing `Z` in iCalendar).
    pub fn is_utc(&self) -> bool {
        matches!(self, Zone::Tz(tz) if *tz == Tz::UTC || *tz == Tz::Etc__UTC)
    }
}

/// What a local wall time is in a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalStatus {
    /// Exists once.
    Normal,
    /// Skipped by a forward transition.
    Gap,
    /// Happens twice.
    Ambiguous,
}

/// Classifies a local wall time.
pub fn status(local: NaiveDateTime, zone: Zone) -> LocalStatus {
    match zone {
        Zone::Floating => LocalStatus::Normal,
        Zone::Tz(tz) => match tz.offset_from_local_datetime(&local) {
            LocalResult::Single(_) => LocalStatus::Normal,
            LocalResult::Ambiguous(_, _) => LocalStatus::Ambiguous,
            LocalResult::None => LocalStatus::Gap,
        },
    }
}

/// Places a wall-clock time on the time line using the policy described in this module.
pub fn to_instant(local: NaiveDateTime, zone: Zone) -> DateTime<Utc> {
    match zone {
        Zone::Floating => local.and_utc(),
        Zone::Tz(tz) => {
            let offset = match tz.offset_from_local_datetime(&local) {
                LocalResult::Single(o) => o.fix(),
                LocalResult::Ambiguous(first, _) => first.fix(),
                LocalResult::None => offset_before_gap(local, tz),
            };
            apply(local, offset)
        }
    }
}

fn apply(local: NaiveDateTime, offset: FixedOffset) -> DateTime<Utc> {
    local.checked_sub_offset(offset).unwrap_or(local).and_utc()
}

/// Converts a sequence of increasing wall-clock times with the policy of [`to_instant`] and
/// the same results, but with far fewer time-zone lookups.
///
/// After a full resolution of a time that exists exactly once, the resolver keeps a window of
/// instants `[lo, hi]` known to contain no offset change, and extends it in 72-hour steps with
/// one UTC lookup at the end of each step. A later time whose instant (at the window's offset)
/// lies in the window needs no lookup at all.
///
/// This relies on a property of the time-zone database: in every zone, any two changes of the
/// UTC offset are more than 72 hours apart (the closest pair in tzdata is about four days
/// apart, in 1939; since 1970 it is a week). So equal offsets at both ends of a step of at
/// most 72 hours mean no change in between; and a time in such a window can be neither in a
/// gap nor in the second half of an overlap (both need a change within a few hours of it).
#[derive(Debug, Clone, Copy)]
pub struct Resolver {
    zone: Zone,
    window: Option<Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    offset: FixedOffset,
    /// UTC wall time of the first instant of the window.
    lo: NaiveDateTime,
    /// UTC wall time of the last verified instant of the window.
    hi: NaiveDateTime,
}

const RESOLVER_STEP: Duration = Duration::hours(72);

impl Resolver {
    /// A resolver for one zone.
    pub fn new(zone: Zone) -> Self {
        Self { zone, window: None }
    }

    /// The instant of `local` (the same result as [`to_instant`]).
    #[inline]
    pub fn resolve(&mut self, local: NaiveDateTime) -> DateTime<Utc> {
        let Zone::Tz(tz) = self.zone else {
            return local.and_utc();
        };
        if let Some(w) = self.window.as_mut() {
            if let Some(candidate) = local.checked_sub_offset(w.offset) {
                if candidate >= w.lo && candidate <= w.hi {
                    return candidate.and_utc();
                }
                if candidate > w.hi {
                    if let Some(probe) = w.hi.checked_add_signed(RESOLVER_STEP) {
                        if candidate <= probe
                            && tz.offset_from_utc_datetime(&probe).fix() == w.offset
                        {
                            w.hi = probe;
                            return candidate.and_utc();
                        }
                    }
                }
            }
        }
        let (offset, single) = match tz.offset_from_local_datetime(&local) {
            LocalResult::Single(o) => (o.fix(), true),
            LocalResult::Ambiguous(first, _) => (first.fix(), false),
            LocalResult::None => (offset_before_gap(local, tz), false),
        };
        let instant = apply(local, offset);
        self.window = single.then(|| Window {
            offset,
            lo: instant.naive_utc(),
            hi: instant.naive_utc(),
        });
        instant
    }
}

/// The offset in force just before the gap that swallows `local`.
fn offset_before_gap(local: NaiveDateTime, tz: Tz) -> FixedOffset {
    if let Some((_, offset)) = chrono_tz::GapInfo::new(&local, &tz).and_then(|g| g.begin) {
        return offset.fix();
    }
    // No transition data before the gap (cannot happen for real zones): walk back until a
    // local time exists.
    let mut probe = local;
    for _ in 0..(49 * 4) {
        probe -= Duration::minutes(15);
        if let Some(o) = tz.offset_from_local_datetime(&probe).latest() {
            return o.fix();
        }
    }
    Utc.fix()
}

/// The wall-clock time of an instant in a zone (floating: the UTC wall time).
pub fn to_local(instant: DateTime<Utc>, zone: Zone) -> NaiveDateTime {
    match zone {
        Zone::Floating => instant.naive_utc(),
        Zone::Tz(tz) => instant.with_timezone(&tz).naive_local(),
    }
}
