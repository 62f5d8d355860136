//! A series: DTSTART + zone + rule + RDATE/EXDATE + per-instance exceptions, and the pure
//! functions the Task service needs (next occurrence, window, exceptions, splitting, end date,
//! repeat-from-completion, catch-up). Instance edits and splits are in `series/edits.rs`,
//! repeat-from-completion in `series/completion.rs`, the catch-up in `series/catch_up.rs`.

use std::borrow::Cow;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use crate::error::SeriesError;
use crate::expand::RuleIter;
use crate::parts::Until;
use crate::rule::Rule;
use crate::tz::{to_instant, to_local, Resolver, Zone};

/// How the next due date is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Occurrences follow the rule's calendar grid ("every Monday").
    #[default]
    Fixed,
    /// The next occurrence is counted from when the previous one was completed
    /// ("every! 3 days" in Todoist terms).
    FromCompletion,
}

/// An edited instance (RECURRENCE-ID exception): moved and/or retitled.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Override {
    /// The original local start of the instance (its RECURRENCE-ID).
    pub recurrence_id: NaiveDateTime,
    /// The new local start (equal to `recurrence_id` if only the title changed).
    pub start: NaiveDateTime,
    /// The new title, if changed.
    pub title: Option<String>,
    /// The instance's own property lines for iCalendar (already escaped: DESCRIPTION, PRIORITY,
    /// STATUS, …), written instead of the master's when not empty; an override is a complete
    /// instance (RFC 5545 §3.8.4.4), so a reader shows exactly these.
    pub properties: Vec<String>,
}

/// One generated occurrence of the base set (rule ∪ RDATE − EXDATE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Occurrence {
    /// Wall-clock time in the series' zone.
    pub local: NaiveDateTime,
    /// The instant, per the [`crate::tz`] policy.
    pub instant: DateTime<Utc>,
}

/// An instance as the user sees it: an occurrence with its exception applied.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Instance {
    /// The original local start (RECURRENCE-ID).
    pub recurrence_id: NaiveDateTime,
    /// Local start after any move.
    pub local: NaiveDateTime,
    /// Start instant after any move.
    pub start: DateTime<Utc>,
    /// Title override, if any.
    pub title: Option<String>,
    /// True if this instance has an override.
    pub edited: bool,
}

/// A recurring series.
///
/// DTSTART provides the rule's defaults (time of day, weekday, day of month) and the start
/// of its period grid. As in python-dateutil (and unlike a literal reading of RFC 5545), it is
/// an occurrence only if the rule produces it; the phrase parser and presets always pick a
/// DTSTART that matches the rule, so for series created through them the two agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// The recurrence rule; `None` for a set made of RDATEs only.
    pub rule: Option<Rule>,
    /// DTSTART as local wall time in `tz`.
    pub dtstart: NaiveDateTime,
    /// The series' time zone.
    pub tz: Zone,
    /// Deleted instances (local wall times, EXDATE).
    pub exdates: Vec<NaiveDateTime>,
    /// Extra instances (local wall times, RDATE).
    pub rdates: Vec<NaiveDateTime>,
    /// Edited instances (RECURRENCE-ID).
    pub overrides: Vec<Override>,
    /// No instance after this instant; once it has passed, the series is completed.
    pub end_date: Option<DateTime<Utc>>,
    /// Fixed grid or repeat-from-completion.
    pub mode: Mode,
}

/// Most base occurrences one query examines (window listings, [`Series::next_after`],
/// [`Series::next_n_after`], [`Series::is_occurrence`], [`catch_up`]): a hard bound on the work of a single call whatever
/// the rule, e.g. a stored rule with an occurrence every second, which would otherwise list
/// 63 million instants for a two-year window.
pub const MAX_SCAN: usize = 100_000;

/// Wall-clock margin used when starting an iteration near an instant: DST shifts are far
/// smaller, so no occurrence whose instant is after `t` lies before `local(t) - MARGIN`.
const MARGIN_DAYS: i64 = 2;

enum UntilBound {
    Local(NaiveDateTime),
    Instant(DateTime<Utc>),
}

impl UntilBound {
    fn of(series: &Series) -> Option<Self> {
        series
            .rule
            .as_ref()
            .and_then(|r| r.until())
            .map(|u| match u {
                Until::Date(d) => UntilBound::Local(d.and_time(chrono::NaiveTime::MIN)),
                Until::Local(t) => UntilBound::Local(t),
                Until::Utc(t) => match series.tz {
                    Zone::Floating => UntilBound::Local(t),
                    Zone::Tz(_) => UntilBound::Instant(t.and_utc()),
                },
            })
    }

    #[inline]
    fn exceeded(bound: &Option<Self>, local: NaiveDateTime, instant: DateTime<Utc>) -> bool {
        match bound {
            Some(UntilBound::Local(u)) => local > *u,
            Some(UntilBound::Instant(u)) => instant > *u,
            None => false,
        }
    }
}

/// Iterator over the base occurrences of a series (rule ∪ RDATE − EXDATE), in generation
/// order (wall-clock order), with UNTIL and the end date applied.
pub struct Occurrences<'a> {
    zone: Zone,
    resolver: Resolver,
    rule: Option<RuleIter>,
    rule_next: Option<Occurrence>,
    until: Option<UntilBound>,
    end: Option<DateTime<Utc>>,
    rdates: Cow<'a, [NaiveDateTime]>,
    ri: usize,
    exdates: Cow<'a, [NaiveDateTime]>,
    xi: usize,
    last: Option<NaiveDateTime>,
}

fn sorted(v: &[NaiveDateTime]) -> Cow<'_, [NaiveDateTime]> {
    if v.windows(2).all(|w| w[0] <= w[1]) {
        Cow::Borrowed(v)
    } else {
        let mut o = v.to_vec();
        o.sort_unstable();
        Cow::Owned(o)
    }
}

impl<'a> Occurrences<'a> {
    fn new(series: &'a Series, near: Option<NaiveDateTime>) -> Self {
        let rule = series
            .rule
            .as_ref()
            .map(|r| RuleIter::starting_near(r, series.dtstart, near));
        let until = UntilBound::of(series);
        let rdates = sorted(&series.rdates);
        let exdates = sorted(&series.exdates);
        let (ri, xi) = match near {
            Some(n) => (
                rdates.partition_point(|d| *d < n),
                exdates.partition_point(|d| *d < n),
            ),
            None => (0, 0),
        };
        Self {
            zone: series.tz,
            resolver: Resolver::new(series.tz),
            rule,
            rule_next: None,
            until,
            end: series.end_date,
            rdates,
            ri,
            exdates,
            xi,
            last: None,
        }
    }

    fn pull_rule(&mut self) {
        if self.rule_next.is_some() {
            return;
        }
        let Some(it) = self.rule.as_mut() else {
            return;
        };
        match it.next() {
            None => self.rule = None,
            Some(local) => {
                let instant = self.resolver.resolve(local);
                let beyond_until = UntilBound::exceeded(&self.until, local, instant);
                let beyond_end = self
                    .end
                    .is_some_and(|e| instant - Duration::days(MARGIN_DAYS) > e);
                if beyond_until || beyond_end {
                    self.rule = None;
                } else {
                    self.rule_next = Some(Occurrence { local, instant });
                }
            }
        }
    }
}

impl Iterator for Occurrences<'_> {
    type Item = Occurrence;

    fn next(&mut self) -> Option<Occurrence> {
        if self.rdates.is_empty() && self.exdates.is_empty() && self.end.is_none() {
            // Plain rule: already strictly increasing, nothing to merge or remove.
            self.pull_rule();
            return self.rule_next.take();
        }
        loop {
            self.pull_rule();
            let rdate = self.rdates.get(self.ri).copied();
            let occ = match (self.rule_next, rdate) {
                (None, None) => return None,
                (Some(r), Some(d)) if d < r.local => {
                    self.ri += 1;
                    Occurrence {
                        local: d,
                        instant: to_instant(d, self.zone),
                    }
                }
                (Some(r), _) => {
                    self.rule_next = None;
                    r
                }
                (None, Some(d)) => {
                    self.ri += 1;
                    Occurrence {
                        local: d,
                        instant: to_instant(d, self.zone),
                    }
                }
            };
            if self.last == Some(occ.local) {
                continue;
            }
            self.last = Some(occ.local);
            while self.exdates.get(self.xi).is_some_and(|x| *x < occ.local) {
                self.xi += 1;
            }
            if self.exdates.get(self.xi) == Some(&occ.local) {
                continue;
            }
            if self.end.is_some_and(|e| occ.instant > e) {
                continue;
            }
            return Some(occ);
        }
    }
}

impl Series {
    /// A fixed-mode series without exceptions.
    pub fn new(rule: Rule, dtstart: NaiveDateTime, tz: Zone) -> Self {
        Self {
            rule: Some(rule),
            dtstart,
            tz,
            exdates: Vec::new(),
            rdates: Vec::new(),
            overrides: Vec::new(),
            end_date: None,
            mode: Mode::Fixed,
        }
    }

    /// Checks the series as a whole.
    pub fn validate(&self) -> Result<(), SeriesError> {
        if self.rule.is_none() && self.rdates.is_empty() {
            return Err(SeriesError::NoOccurrences);
        }
        Ok(())
    }

    /// Sets the end date; it must be after `now` ("End date must be in the future").
    pub fn set_end_date(
        &mut self,
        end: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), SeriesError> {
        if end <= now {
            return Err(SeriesError::EndDateNotInFuture);
        }
        self.end_date = Some(end);
        Ok(())
    }

    /// True once the series can produce no further instance after `now` (end date passed,
    /// UNTIL/COUNT exhausted).
    pub fn is_completed(&self, now: DateTime<Utc>) -> bool {
        if self.end_date.is_some_and(|e| e <= now) {
            return true;
        }
        self.next_after(now).is_none()
    }

    /// The base occurrences from the start of the series.
    pub fn occurrences(&self) -> Occurrences<'_> {
        Occurrences::new(self, None)
    }

    /// The base occurrences, skipping whole periods that lie before `instant` where possible
    /// (cost independent of the series' age). Items before `instant` may still be yielded.
    pub fn occurrences_near(&self, instant: DateTime<Utc>) -> Occurrences<'_> {
        let local = to_local(instant, self.tz);
        let near = local
            .checked_sub_signed(Duration::days(MARGIN_DAYS))
            .unwrap_or(local);
        Occurrences::new(self, Some(near))
    }

    /// The first base occurrence after `dt` (at or after with `inclusive`), in generation order
    /// (python-dateutil `after`).
    pub fn after(&self, dt: DateTime<Utc>, inclusive: bool) -> Option<Occurrence> {
        self.occurrences_near(dt).find(|o| {
            if inclusive {
                o.instant >= dt
            } else {
                o.instant > dt
            }
        })
    }

    /// The last base occurrence before `dt` (at or before with `inclusive`), in generation
    /// order (python-dateutil `before`).
    pub fn before(&self, dt: DateTime<Utc>, inclusive: bool) -> Option<Occurrence> {
        let mut last = None;
        for o in self.occurrences() {
            if (inclusive && o.instant > dt) || (!inclusive && o.instant >= dt) {
                break;
            }
            last = Some(o);
        }
        last
    }

    /// Base occurrences between `a` and `b` (both exclusive, or both inclusive with
    /// `inclusive`), in generation order (python-dateutil `between`).
    pub fn between_with(
        &self,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
        inclusive: bool,
    ) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for o in self.occurrences_near(a) {
            if inclusive {
                if o.instant > b {
                    break;
                }
                if o.instant >= a {
                    out.push(o);
                }
            } else {
                if o.instant >= b {
                    break;
                }
                if o.instant > a {
                    out.push(o);
                }
            }
        }
        out
    }

    fn override_for(&self, recurrence_id: NaiveDateTime) -> Option<&Override> {
        self.overrides
            .iter()
            .find(|o| o.recurrence_id == recurrence_id)
    }

    fn instance_of(&self, occ: Occurrence) -> Instance {
        match self.override_for(occ.local) {
            Some(ov) => Instance {
                recurrence_id: occ.local,
                local: ov.start,
                start: to_instant(ov.start, self.tz),
                title: ov.title.clone(),
                edited: true,
            },
            None => Instance {
                recurrence_id: occ.local,
                local: occ.local,
                start: occ.instant,
                title: None,
                edited: false,
            },
        }
    }

    /// The next instance strictly after `instant`, with exceptions applied (moved instances
    /// count at their new time). Cost does not depend on how old the series is.
    pub fn next_instance_after(&self, instant: DateTime<Utc>) -> Option<Instance> {
        let base = self
            .occurrences_near(instant)
            .take(MAX_SCAN)
            .filter(|o| o.instant > instant && self.override_for(o.local).is_none())
            .map(|o| self.instance_of(o))
            .next();
        let moved = self
            .overrides
            .iter()
            .filter(|ov| self.is_occurrence(ov.recurrence_id))
            .map(|ov| Instance {
                recurrence_id: ov.recurrence_id,
                local: ov.start,
                start: to_instant(ov.start, self.tz),
                title: ov.title.clone(),
                edited: true,
            })
            .filter(|i| i.start > instant && self.end_date.is_none_or(|e| i.start <= e))
            .min_by_key(|i| i.start);
        match (base, moved) {
            (Some(b), Some(m)) => Some(if m.start < b.start { m } else { b }),
            (b, m) => b.or(m),
        }
    }

    /// The next occurrence strictly after `instant` (exceptions applied).
    pub fn next_after(&self, instant: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_instance_after(instant).map(|i| i.start)
    }

    /// The next `n` start instants strictly after `instant` (exceptions applied), e.g. to fill
    /// an agenda. Cost is proportional to `n`, not to the series' age.
    pub fn next_n_after(&self, instant: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let plain = self.overrides.is_empty()
            && self.rdates.is_empty()
            && self.exdates.is_empty()
            && self.end_date.is_none();
        if let (true, Some(rule)) = (plain, &self.rule) {
            // The common case: a bare rule. Straight from the expander, no merging.
            let local = to_local(instant, self.tz);
            let near = local
                .checked_sub_signed(Duration::days(MARGIN_DAYS))
                .unwrap_or(local);
            let until = UntilBound::of(self);
            let mut resolver = Resolver::new(self.tz);
            let mut out = Vec::with_capacity(n.min(4096));
            for l in RuleIter::starting_near(rule, self.dtstart, Some(near)).take(MAX_SCAN) {
                if out.len() >= n {
                    break;
                }
                let t = resolver.resolve(l);
                if UntilBound::exceeded(&until, l, t) {
                    break;
                }
                if t > instant {
                    out.push(t);
                }
            }
            return out;
        }
        if self.overrides.is_empty() {
            let mut out = Vec::with_capacity(n.min(4096));
            for o in self.occurrences_near(instant).take(MAX_SCAN) {
                if out.len() >= n {
                    break;
                }
                if o.instant > instant {
                    out.push(o.instant);
                }
            }
            return out;
        }
        let mut out: Vec<DateTime<Utc>> = self
            .occurrences_near(instant)
            .take(MAX_SCAN)
            .filter(|o| o.instant > instant || self.override_for(o.local).is_some())
            .take(n.saturating_add(self.overrides.len()))
            .map(|o| self.instance_of(o).start)
            .filter(|start| *start > instant)
            .collect();
        out.sort_unstable();
        out.truncate(n);
        out
    }

    /// Instances starting in the window `[a, b)`, sorted by start, exceptions applied (at most
    /// what [`MAX_SCAN`] base occurrences give).
    pub fn instances_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Vec<Instance> {
        self.first_instances_between(a, b, usize::MAX)
    }

    /// The first `n` instances starting in `[a, b)`, sorted by start, exceptions applied. The
    /// expansion is lazy: it stops once later occurrences can no longer come earlier, so the
    /// cost follows `n` (and at most [`MAX_SCAN`] base occurrences), not the window's length.
    pub fn first_instances_between(
        &self,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
        n: usize,
    ) -> Vec<Instance> {
        let mut out: Vec<Instance> = Vec::new();
        let mut latest: Option<DateTime<Utc>> = None;
        for o in self.occurrences_near(a).take(MAX_SCAN) {
            let settled = o.instant - Duration::days(MARGIN_DAYS);
            if settled >= b || (out.len() >= n && latest.is_some_and(|l| settled > l)) {
                break;
            }
            if self.override_for(o.local).is_some() {
                continue;
            }
            if o.instant >= a && o.instant < b {
                latest = latest.max(Some(o.instant));
                out.push(self.instance_of(o));
            }
        }
        for ov in &self.overrides {
            let start = to_instant(ov.start, self.tz);
            if start >= a
                && start < b
                && self.end_date.is_none_or(|e| start <= e)
                && self.is_occurrence(ov.recurrence_id)
            {
                out.push(Instance {
                    recurrence_id: ov.recurrence_id,
                    local: ov.start,
                    start,
                    title: ov.title.clone(),
                    edited: true,
                });
            }
        }
        out.sort_by_key(|i| (i.start, i.recurrence_id));
        out.truncate(n);
        out
    }

    /// Start instants in the window `[a, b)`, sorted, exceptions applied.
    pub fn between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        self.first_between(a, b, usize::MAX)
    }

    /// The first `n` start instants in the window `[a, b)`, sorted, exceptions applied; lazy
    /// like [`Self::first_instances_between`].
    pub fn first_between(
        &self,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
        n: usize,
    ) -> Vec<DateTime<Utc>> {
        self.first_instances_between(a, b, n)
            .into_iter()
            .map(|i| i.start)
            .collect()
    }

    /// The first `n` instances of the series, sorted by start, exceptions applied.
    pub fn take_instances(&self, n: usize) -> Vec<Instance> {
        let extra = self.overrides.len();
        let mut out: Vec<Instance> = self
            .occurrences()
            .take(n.saturating_add(extra))
            .map(|o| self.instance_of(o))
            .collect();
        out.sort_by_key(|i| (i.start, i.recurrence_id));
        out.truncate(n);
        out
    }

    /// The first `n` start instants, sorted, exceptions applied.
    pub fn take(&self, n: usize) -> Vec<DateTime<Utc>> {
        self.take_instances(n)
            .into_iter()
            .map(|i| i.start)
            .collect()
    }

    /// True if `local` is an occurrence of the base set.
    pub fn is_occurrence(&self, local: NaiveDateTime) -> bool {
        let near = local
            .checked_sub_signed(Duration::days(MARGIN_DAYS))
            .unwrap_or(local);
        Occurrences::new(self, Some(near))
            .take(MAX_SCAN)
            .map(|o| o.local)
            .find(|l| *l >= local)
            == Some(local)
    }

    fn check_occurrence(&self, recurrence_id: NaiveDateTime) -> Result<(), SeriesError> {
        if self.is_occurrence(recurrence_id) {
            Ok(())
        } else {
            Err(SeriesError::NotAnOccurrence(
                recurrence_id.format("%Y-%m-%dT%H:%M:%S").to_string(),
            ))
        }
    }
}

mod catch_up;
mod completion;
mod edits;

pub use catch_up::{catch_up, CatchUp, CatchUpPolicy, MAX_CATCH_UP};
