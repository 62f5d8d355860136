//! Expansion of a rule into wall-clock occurrences.
//!
//! This follows the RFC 5545 §3.3.10 algorithm in the same way as python-dateutil (the engine
//! our vectors come from): per period (year, month, week, day, hour, …) build the candidate
//! day set, filter it with the `BYxxx` masks, combine with the time set, apply `BYSETPOS`,
//! and yield the results that are not before DTSTART. DTSTART only provides defaults; it is
//! not an occurrence unless the rule produces it.
//!
//! Everything here is local wall-clock time (`NaiveDateTime`). Time-zone policy lives in
//! [`crate::tz`]; UNTIL (which may be an instant) is applied by [`crate::series`].
//!
//! Iteration can start at any period ([`RuleIter::starting_near`]): the period grid is derived
//! from DTSTART arithmetically, so asking for the next occurrence in 2026 of a rule that
//! started in 2019 costs the same as for a rule that started yesterday.
//!
//! Length: this file (about 1,200 lines) and three of its functions (`Params::new`, `step`,
//! `advance`) are longer than the project's limits on purpose: they mirror dateutil's
//! `rrule._iter` and `_iterinfo` step by step, so a difference from the vectors can be traced
//! line by line against that reference; cutting them would lose the correspondence.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::parts::Frequency;
use crate::rule::Rule;

const MAX_YEAR: i64 = 9999;

const fn month_lengths(leap: bool) -> [u8; 12] {
    [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ]
}

/// Per-day-of-year tables, 7 days longer than the year for weeks that cross into January.
struct Masks {
    month: [u8; 373],
    mday: [i8; 373],
    nmday: [i8; 373],
    range: [u16; 13],
}

const fn build_masks(leap: bool) -> Masks {
    let lengths = month_lengths(leap);
    let mut month = [0u8; 373];
    let mut mday = [0i8; 373];
    let mut nmday = [0i8; 373];
    let mut range = [0u16; 13];
    let mut i = 0usize;
    let mut m = 0usize;
    while m < 12 {
        range[m] = i as u16;
        let len = lengths[m];
        let mut d = 1u8;
        while d <= len {
            month[i] = (m + 1) as u8;
            mday[i] = d as i8;
            nmday[i] = d as i8 - len as i8 - 1;
            i += 1;
            d += 1;
        }
        m += 1;
    }
    range[12] = i as u16;
    // The first 7 days of the next January.
    let mut d = 1u8;
    while d <= 7 && i < 373 {
        month[i] = 1;
        mday[i] = d as i8;
        nmday[i] = d as i8 - 32;
        i += 1;
        d += 1;
    }
    Masks {
        month,
        mday,
        nmday,
        range,
    }
}

static MASKS_365: Masks = build_masks(false);
static MASKS_366: Masks = build_masks(true);

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

static LENGTHS_365: [u8; 12] = month_lengths(false);
static LENGTHS_366: [u8; 12] = month_lengths(true);

fn days_in_month(year: i64, month: i64) -> i64 {
    let lengths = if is_leap(year) {
        &LENGTHS_366
    } else {
        &LENGTHS_365
    };
    usize::try_from(month - 1)
        .ok()
        .and_then(|m| lengths.get(m))
        .map_or(31, |l| i64::from(*l))
}

/// The rule with DTSTART's defaults filled in (as python-dateutil's `rrule.__init__`).
#[derive(Debug, Clone)]
struct Params {
    freq: Frequency,
    interval: i64,
    wkst: i64,
    by_month: u16,
    by_week_no: Vec<i64>,
    by_year_day: Vec<i64>,
    by_month_day: u32,
    by_nmonth_day: u32,
    by_weekday: u8,
    by_nweekday: Vec<(i64, i64)>,
    by_hour: Vec<i64>,
    by_minute: Vec<i64>,
    by_second: Vec<i64>,
    by_set_pos: Vec<i64>,
    timeset: Vec<NaiveTime>,
    /// A `BYxxx` set became empty for this DTSTART and INTERVAL: the rule has no occurrences.
    empty: bool,
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a.abs()
}

fn wd(day: chrono::Weekday) -> i64 {
    i64::from(day.num_days_from_monday())
}

impl Params {
    #[allow(
        clippy::too_many_lines,
        reason = "mirrors dateutil's rrule set-up (module doc)"
    )]
    fn new(rule: &Rule, dtstart: NaiveDateTime) -> Self {
        let p = rule.parts();
        let freq = p.freq;
        let interval = i64::from(p.interval);
        let mut by_month: u16 = p.by_month.iter().fold(0, |acc, m| acc | (1 << m));
        let mut by_month_day: u32 = 0;
        let mut by_nmonth_day: u32 = 0;
        for d in &p.by_month_day {
            if *d > 0 {
                by_month_day |= 1 << d;
            } else {
                by_nmonth_day |= 1 << (-i32::from(*d));
            }
        }
        let mut by_weekday: u8 = 0;
        let mut by_nweekday = Vec::new();
        for d in &p.by_day {
            match d.ordinal {
                Some(n) if freq <= Frequency::Monthly => {
                    by_nweekday.push((wd(d.weekday), i64::from(n)))
                }
                _ => by_weekday |= 1 << wd(d.weekday),
            }
        }
        by_nweekday.sort_unstable();
        by_nweekday.dedup();
        if p.by_week_no.is_empty()
            && p.by_year_day.is_empty()
            && p.by_month_day.is_empty()
            && p.by_day.is_empty()
        {
            match freq {
                Frequency::Yearly => {
                    if by_month == 0 {
                        by_month = 1 << dtstart.month();
                    }
                    by_month_day = 1 << dtstart.day();
                }
                Frequency::Monthly => by_month_day = 1 << dtstart.day(),
                Frequency::Weekly => by_weekday = 1 << wd(dtstart.weekday()),
                _ => {}
            }
        }
        let mut empty = false;
        let mut by_set = |given: &[u8], start: u32, base: i64, fine: Frequency| -> Vec<i64> {
            if given.is_empty() {
                if freq < fine {
                    vec![i64::from(start)]
                } else {
                    Vec::new()
                }
            } else if freq == fine {
                let g = gcd(interval, base);
                let v: Vec<i64> = given
                    .iter()
                    .map(|x| i64::from(*x))
                    .filter(|x| g == 1 || (x - i64::from(start)).rem_euclid(g) == 0)
                    .collect();
                if v.is_empty() {
                    empty = true;
                }
                v
            } else {
                given.iter().map(|x| i64::from(*x)).collect()
            }
        };
        let by_hour = by_set(&p.by_hour, dtstart.hour(), 24, Frequency::Hourly);
        let by_minute = by_set(&p.by_minute, dtstart.minute(), 60, Frequency::Minutely);
        let by_second = by_set(&p.by_second, dtstart.second(), 60, Frequency::Secondly);
        let mut params = Self {
            freq,
            interval,
            wkst: wd(p.wkst),
            by_month,
            by_week_no: p.by_week_no.iter().map(|x| i64::from(*x)).collect(),
            by_year_day: p.by_year_day.iter().map(|x| i64::from(*x)).collect(),
            by_month_day,
            by_nmonth_day,
            by_weekday,
            by_nweekday,
            by_hour,
            by_minute,
            by_second,
            by_set_pos: p.by_set_pos.iter().map(|x| i64::from(*x)).collect(),
            timeset: Vec::new(),
            empty,
        };
        if freq < Frequency::Hourly {
            let mut ts = Vec::new();
            for h in &params.by_hour {
                for m in &params.by_minute {
                    for s in &params.by_second {
                        if let Some(t) = hms(*h, *m, *s) {
                            ts.push(t);
                        }
                    }
                }
            }
            ts.sort_unstable();
            ts.dedup();
            params.timeset = ts;
        }
        params.empty |= params.never_matches();
        params
    }

    /// Rules that can be seen to produce nothing at all. Without this check such a rule
    /// (e.g. `FREQ=MINUTELY;BYSETPOS=2`, whose one-minute periods hold one candidate) would
    /// be walked period by period up to year 9999 before ending empty.
    fn never_matches(&self) -> bool {
        if !self.by_set_pos.is_empty() {
            let ts = self.timeset.len() as i64;
            let max_set = match self.freq {
                Frequency::Yearly => 366 * ts,
                Frequency::Monthly => 31 * ts,
                Frequency::Weekly => 7 * ts,
                Frequency::Daily => ts,
                Frequency::Hourly => (self.by_minute.len() * self.by_second.len()) as i64,
                Frequency::Minutely => self.by_second.len().max(1) as i64,
                Frequency::Secondly => 1,
            };
            if self.by_set_pos.iter().all(|p| p.abs() > max_set) {
                return true;
            }
        }
        if self.by_month_day != 0 && self.by_nmonth_day == 0 {
            // Smallest requested day of month vs. the longest allowed month (30 February).
            let smallest = self.by_month_day.trailing_zeros();
            let longest = (1..=12u32)
                .filter(|m| self.by_month == 0 || self.by_month & (1 << m) != 0)
                .map(|m| u32::from(LENGTHS_366[(m - 1) as usize]))
                .max()
                .unwrap_or(31);
            if smallest > longest {
                return true;
            }
        }
        if self.freq < Frequency::Hourly && self.timeset.is_empty() {
            return true;
        }
        false
    }
}

fn hms(h: i64, m: i64, s: i64) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(
        u32::try_from(h).ok()?,
        u32::try_from(m).ok()?,
        u32::try_from(s).ok()?,
    )
}

/// Year/month dependent masks (python-dateutil's `_iterinfo`).
struct YearInfo {
    last_year: Option<i64>,
    last_month: Option<i64>,
    year_len: i64,
    next_year_len: i64,
    year_weekday: i64,
    masks: &'static Masks,
    wno_mask: Vec<bool>,
    nwday_mask: Vec<bool>,
    has_nwday_mask: bool,
}

impl YearInfo {
    fn new() -> Self {
        Self {
            last_year: None,
            last_month: None,
            year_len: 365,
            next_year_len: 365,
            year_weekday: 0,
            masks: &MASKS_365,
            wno_mask: Vec::new(),
            nwday_mask: Vec::new(),
            has_nwday_mask: false,
        }
    }

    #[inline]
    fn wday(&self, i: i64) -> i64 {
        (self.year_weekday + i).rem_euclid(7)
    }

    fn rebuild(&mut self, p: &Params, year: i64, month: i64) {
        if self.last_year != Some(year) {
            let leap = is_leap(year);
            self.year_len = if leap { 366 } else { 365 };
            self.next_year_len = if is_leap(year + 1) { 366 } else { 365 };
            self.year_weekday = weekday_of_jan1(year);
            self.masks = if leap { &MASKS_366 } else { &MASKS_365 };
            if !p.by_week_no.is_empty() {
                self.build_wno_mask(p, year);
            }
        }
        if !p.by_nweekday.is_empty()
            && (self.last_month != Some(month) || self.last_year != Some(year))
        {
            let mut ranges: Vec<(i64, i64)> = Vec::new();
            let r = &self.masks.range;
            let range_of = |m: i64| -> Option<(i64, i64)> {
                let m = usize::try_from(m - 1).ok()?;
                Some((i64::from(*r.get(m)?), i64::from(*r.get(m + 1)?)))
            };
            match p.freq {
                Frequency::Yearly => {
                    if p.by_month != 0 {
                        for m in 1..=12 {
                            if p.by_month & (1 << m) != 0 {
                                ranges.extend(range_of(m));
                            }
                        }
                    } else {
                        ranges.push((0, self.year_len));
                    }
                }
                Frequency::Monthly => ranges.extend(range_of(month)),
                _ => {}
            }
            if !ranges.is_empty() {
                self.nwday_mask.clear();
                self.nwday_mask.resize(self.year_len as usize, false);
                self.has_nwday_mask = true;
                for (first, last) in ranges {
                    let last = last - 1;
                    for (wday, n) in &p.by_nweekday {
                        let mut i;
                        if *n < 0 {
                            i = last + (n + 1) * 7;
                            i -= (self.wday(i) - wday).rem_euclid(7);
                        } else {
                            i = first + (n - 1) * 7;
                            i += (7 - self.wday(i) + wday).rem_euclid(7);
                        }
                        if first <= i && i <= last {
                            if let Some(slot) = self.nwday_mask.get_mut(i as usize) {
                                *slot = true;
                            }
                        }
                    }
                }
            }
        }
        self.last_year = Some(year);
        self.last_month = Some(month);
    }

    fn build_wno_mask(&mut self, p: &Params, year: i64) {
        let len = (self.year_len + 7) as usize;
        self.wno_mask.clear();
        self.wno_mask.resize(len, false);
        let wkst = p.wkst;
        let mut no1wkst = (7 - self.year_weekday + wkst).rem_euclid(7);
        let firstwkst = no1wkst;
        let wyearlen = if no1wkst >= 4 {
            no1wkst = 0;
            self.year_len + (self.year_weekday - wkst).rem_euclid(7)
        } else {
            self.year_len - no1wkst
        };
        let numweeks = wyearlen.div_euclid(7) + wyearlen.rem_euclid(7) / 4;
        let mark_week = |mask: &mut Vec<bool>, start: i64, info: &YearInfo| {
            let mut i = start;
            for _ in 0..7 {
                if let Some(slot) = usize::try_from(i).ok().and_then(|k| mask.get_mut(k)) {
                    *slot = true;
                }
                i += 1;
                if info.wday(i) == wkst {
                    break;
                }
            }
        };
        let mut mask = std::mem::take(&mut self.wno_mask);
        for n0 in &p.by_week_no {
            let mut n = *n0;
            if n < 0 {
                n += numweeks + 1;
            }
            if !(0 < n && n <= numweeks) {
                continue;
            }
            let i = if n > 1 {
                let mut i = no1wkst + (n - 1) * 7;
                if no1wkst != firstwkst {
                    i -= 7 - firstwkst;
                }
                i
            } else {
                no1wkst
            };
            mark_week(&mut mask, i, self);
        }
        if p.by_week_no.contains(&1) {
            let mut i = no1wkst + numweeks * 7;
            if no1wkst != firstwkst {
                i -= 7 - firstwkst;
            }
            if i < self.year_len {
                mark_week(&mut mask, i, self);
            }
        }
        if no1wkst != 0 {
            let lnumweeks = if !p.by_week_no.contains(&-1) {
                let lyearweekday = weekday_of_jan1(year - 1);
                let lno1wkst = (7 - lyearweekday + wkst).rem_euclid(7);
                let lyearlen = if is_leap(year - 1) { 366 } else { 365 };
                if lno1wkst >= 4 {
                    52 + (lyearlen + (lyearweekday - wkst).rem_euclid(7)).rem_euclid(7) / 4
                } else {
                    52 + (self.year_len - no1wkst).rem_euclid(7) / 4
                }
            } else {
                -1
            };
            if p.by_week_no.contains(&lnumweeks) {
                for slot in mask.iter_mut().take(no1wkst as usize) {
                    *slot = true;
                }
            }
        }
        self.wno_mask = mask;
    }
}

/// Day of week (Monday = 0) of 1 January of `year`.
fn weekday_of_jan1(year: i64) -> i64 {
    i32::try_from(year)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, 1, 1))
        .map_or(0, |d| wd(d.weekday()))
}

fn day_of_year(year: i64, month: i64, day: i64) -> Option<i64> {
    let d = NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    )?;
    Some(i64::from(d.ordinal0()))
}

/// Iterator over the wall-clock occurrences of a rule, in order.
pub struct RuleIter {
    p: Params,
    dtstart: NaiveDateTime,
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    weekday: i64,
    info: YearInfo,
    timeset: Vec<NaiveTime>,
    count: Option<u32>,
    days: Vec<i64>,
    buffer: Vec<NaiveDateTime>,
    pos: usize,
    finished: bool,
    fast: Option<Fast>,
}

/// State of the fast path for DAILY/WEEKLY rules whose only day filter is a set of weekdays
/// (the common task rules). It yields exactly what [`RuleIter::step`] would, day by day,
/// without building day sets.
#[derive(Debug, Clone, Copy)]
struct Fast {
    /// The day being emitted.
    date: NaiveDate,
    /// Weekly: first day of the current period's week (a WKST day).
    week_start: NaiveDate,
    /// Index into the time set of the next time to emit on `date`.
    ti: usize,
    /// Whether `date` passes the weekday filter.
    day_ok: bool,
    /// Weekday of `date` (Monday = 0).
    wday: u8,
    /// Days from one period to the next (INTERVAL, or 7 × INTERVAL for WEEKLY).
    step_days: u64,
    /// `step_days % 7`.
    step_wday: u8,
    /// Allowed weekdays by position in the week (bit 0 = WKST).
    rel_mask: u8,
}

impl RuleIter {
    /// Iterates a rule from DTSTART (local wall time).
    pub fn new(rule: &Rule, dtstart: NaiveDateTime) -> Self {
        Self::starting_near(rule, dtstart, None)
    }

    /// Iterates a rule with the general period-by-period algorithm only (no fast path).
    /// Used to check that the fast path yields the same occurrences.
    #[doc(hidden)]
    pub fn general(rule: &Rule, dtstart: NaiveDateTime) -> Self {
        let mut it = Self::new(rule, dtstart);
        it.fast = None;
        it
    }

    /// Iterates a rule, skipping whole periods that end before `target` when that is
    /// possible without changing the result (the rule has no COUNT). The first item yielded
    /// is then no later than the first occurrence at or after `target`, and the cost does not
    /// depend on how far DTSTART lies in the past.
    pub fn starting_near(
        rule: &Rule,
        dtstart: NaiveDateTime,
        target: Option<NaiveDateTime>,
    ) -> Self {
        let dtstart = dtstart.with_nanosecond(0).unwrap_or(dtstart);
        let p = Params::new(rule, dtstart);
        let mut it = Self {
            finished: p.empty,
            p,
            dtstart,
            year: i64::from(dtstart.year()),
            month: i64::from(dtstart.month()),
            day: i64::from(dtstart.day()),
            hour: i64::from(dtstart.hour()),
            minute: i64::from(dtstart.minute()),
            second: i64::from(dtstart.second()),
            weekday: wd(dtstart.weekday()),
            info: YearInfo::new(),
            timeset: Vec::new(),
            count: rule.count(),
            days: Vec::with_capacity(31),
            buffer: Vec::with_capacity(8),
            pos: 0,
            fast: None,
        };
        if let Some(target) = target {
            if it.count.is_none() && target > dtstart {
                it.skip_to(target);
            }
        }
        it.init_timeset();
        let (y, m) = (it.year, it.month);
        it.info.rebuild(&it.p, y, m);
        it.fast = it.fast_start();
        it
    }

    fn fast_start(&self) -> Option<Fast> {
        let p = &self.p;
        let simple = matches!(p.freq, Frequency::Daily | Frequency::Weekly)
            && p.by_month == 0
            && p.by_week_no.is_empty()
            && p.by_year_day.is_empty()
            && p.by_month_day == 0
            && p.by_nmonth_day == 0
            && p.by_nweekday.is_empty()
            && p.by_set_pos.is_empty()
            && !self.timeset.is_empty();
        if !simple || self.finished {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(
            i32::try_from(self.year).ok()?,
            u32::try_from(self.month).ok()?,
            u32::try_from(self.day).ok()?,
        )?;
        let back = (wd(date.weekday()) - p.wkst).rem_euclid(7);
        let week_start = date.checked_sub_days(chrono::Days::new(back.unsigned_abs()))?;
        let interval = u64::try_from(p.interval).ok()?;
        let wday = date.weekday().num_days_from_monday() as u8;
        let step_days = if p.freq == Frequency::Daily {
            interval
        } else {
            interval.checked_mul(7)?
        };
        let rel_mask = (0..7u8)
            .filter(|k| {
                let day = (p.wkst as u8 + k) % 7;
                p.by_weekday == 0 || p.by_weekday & (1 << day) != 0
            })
            .fold(0u8, |m, k| m | (1 << k));
        Some(Fast {
            date,
            week_start,
            rel_mask,
            ti: 0,
            day_ok: p.by_weekday == 0 || p.by_weekday & (1 << wday) != 0,
            wday,
            step_days,
            step_wday: (step_days % 7) as u8,
        })
    }

    /// The next occurrence on the fast path; `None` when the rule is exhausted.
    fn fast_next(&mut self) -> Option<NaiveDateTime> {
        let Self {
            fast,
            timeset,
            dtstart,
            count,
            p,
            finished,
            ..
        } = self;
        let f = fast.as_mut()?;
        loop {
            if f.day_ok {
                if let Some(time) = timeset.get(f.ti) {
                    f.ti += 1;
                    let res = f.date.and_time(*time);
                    if res < *dtstart {
                        continue;
                    }
                    if let Some(c) = count.as_mut() {
                        if *c == 0 {
                            *fast = None;
                            *finished = true;
                            return None;
                        }
                        *c -= 1;
                    }
                    return Some(res);
                }
            }
            // Next day.
            f.ti = 0;
            let next = if p.freq == Frequency::Daily {
                f.wday = (f.wday + f.step_wday) % 7;
                f.date.checked_add_days(chrono::Days::new(f.step_days))
            } else {
                // Jump straight to the next allowed weekday of this week, or of the next period.
                let wkst = p.wkst as u8;
                let rel = (f.wday + 7 - wkst) % 7;
                let later = u32::from(f.rel_mask) >> (rel + 1);
                if later != 0 {
                    let k = later.trailing_zeros() + 1;
                    f.wday = (f.wday + k as u8) % 7;
                    f.date.checked_add_days(chrono::Days::new(u64::from(k)))
                } else {
                    let first = f.rel_mask.trailing_zeros();
                    f.week_start = f
                        .week_start
                        .checked_add_days(chrono::Days::new(f.step_days))?;
                    f.wday = (wkst + first as u8) % 7;
                    f.week_start
                        .checked_add_days(chrono::Days::new(u64::from(first)))
                }
            };
            match next {
                Some(d) if i64::from(d.year()) <= MAX_YEAR => {
                    f.date = d;
                    f.day_ok = p.by_weekday == 0 || p.by_weekday & (1 << f.wday) != 0;
                }
                _ => {
                    *fast = None;
                    *finished = true;
                    return None;
                }
            }
        }
    }

    /// Moves the period counter to the period of the DTSTART grid that contains `target`.
    fn skip_to(&mut self, target: NaiveDateTime) {
        let start = self.dtstart;
        let interval = self.p.interval;
        let set_date = |it: &mut Self, d: NaiveDate| {
            it.year = i64::from(d.year());
            it.month = i64::from(d.month());
            it.day = i64::from(d.day());
            it.weekday = wd(d.weekday());
        };
        match self.p.freq {
            Frequency::Yearly => {
                let k = (i64::from(target.year()) - i64::from(start.year())).div_euclid(interval);
                if k > 0 {
                    self.year = i64::from(start.year()) + k * interval;
                }
            }
            Frequency::Monthly => {
                let m0 = i64::from(start.year()) * 12 + i64::from(start.month0());
                let mt = i64::from(target.year()) * 12 + i64::from(target.month0());
                let k = (mt - m0).div_euclid(interval);
                if k > 0 {
                    let m = m0 + k * interval;
                    self.year = m.div_euclid(12);
                    self.month = m.rem_euclid(12) + 1;
                }
            }
            Frequency::Weekly => {
                let week_start = |d: NaiveDate| {
                    d - Duration::days((wd(d.weekday()) - self.p.wkst).rem_euclid(7))
                };
                let ws0 = week_start(start.date());
                let wst = week_start(target.date());
                let k = ((wst - ws0).num_days() / 7).div_euclid(interval);
                if k > 0 {
                    if let Some(d) = Duration::try_days(k * interval * 7)
                        .and_then(|delta| ws0.checked_add_signed(delta))
                    {
                        set_date(self, d);
                    }
                }
            }
            Frequency::Daily => {
                let k = (target.date() - start.date())
                    .num_days()
                    .div_euclid(interval);
                if k > 0 {
                    if let Some(d) = Duration::try_days(k * interval)
                        .and_then(|delta| start.date().checked_add_signed(delta))
                    {
                        set_date(self, d);
                    }
                }
            }
            Frequency::Hourly | Frequency::Minutely | Frequency::Secondly => {
                let unit = match self.p.freq {
                    Frequency::Hourly => 3600,
                    Frequency::Minutely => 60,
                    _ => 1,
                };
                let floor = |t: NaiveDateTime| -> i64 {
                    let secs = t.and_utc().timestamp();
                    secs.div_euclid(unit)
                };
                let k = (floor(target) - floor(start)).div_euclid(interval);
                if k > 0 {
                    let secs = start.and_utc().timestamp() + k * interval * unit;
                    if let Some(t) = chrono::DateTime::from_timestamp(secs, 0) {
                        let t = t.naive_utc();
                        set_date(self, t.date());
                        self.hour = i64::from(t.hour());
                        self.minute = i64::from(t.minute());
                        self.second = i64::from(t.second());
                    }
                }
            }
        }
    }

    fn init_timeset(&mut self) {
        let p = &self.p;
        if p.freq < Frequency::Hourly {
            self.timeset.clone_from(&p.timeset);
            return;
        }
        let skip = (!p.by_hour.is_empty() && !p.by_hour.contains(&self.hour))
            || (p.freq >= Frequency::Minutely
                && !p.by_minute.is_empty()
                && !p.by_minute.contains(&self.minute))
            || (p.freq >= Frequency::Secondly
                && !p.by_second.is_empty()
                && !p.by_second.contains(&self.second));
        if skip {
            self.timeset.clear();
        } else {
            self.sub_daily_timeset();
        }
    }

    /// The time set of the current hour/minute/second period.
    fn sub_daily_timeset(&mut self) {
        self.timeset.clear();
        let (h, m, s) = (self.hour, self.minute, self.second);
        match self.p.freq {
            Frequency::Hourly => {
                for mi in &self.p.by_minute {
                    for se in &self.p.by_second {
                        if let Some(t) = hms(h, *mi, *se) {
                            self.timeset.push(t);
                        }
                    }
                }
                self.timeset.sort_unstable();
            }
            Frequency::Minutely => {
                for se in &self.p.by_second {
                    if let Some(t) = hms(h, m, *se) {
                        self.timeset.push(t);
                    }
                }
                self.timeset.sort_unstable();
            }
            _ => {
                if let Some(t) = hms(h, m, s) {
                    self.timeset.push(t);
                }
            }
        }
    }

    /// Whether day `i` of the year (weekday `wday`, Monday = 0) passes the day filters.
    #[inline]
    fn keep(&self, i: i64, wday: i64) -> bool {
        let p = &self.p;
        let info = &self.info;
        let Ok(k) = usize::try_from(i) else {
            return false;
        };
        let masks = info.masks;
        if p.by_month != 0 {
            match masks.month.get(k) {
                Some(m) if p.by_month & (1 << m) != 0 => {}
                _ => return false,
            }
        }
        if !p.by_week_no.is_empty() && !info.wno_mask.get(k).copied().unwrap_or(false) {
            return false;
        }
        if p.by_weekday != 0 && p.by_weekday & (1 << wday) == 0 {
            return false;
        }
        if info.has_nwday_mask && !info.nwday_mask.get(k).copied().unwrap_or(false) {
            return false;
        }
        if p.by_month_day != 0 || p.by_nmonth_day != 0 {
            let (Some(mday), Some(nmday)) = (masks.mday.get(k), masks.nmday.get(k)) else {
                return false;
            };
            if p.by_month_day & (1 << mday) == 0 && p.by_nmonth_day & (1 << (-nmday)) == 0 {
                return false;
            }
        }
        if !p.by_year_day.is_empty() {
            let yl = info.year_len;
            let ok = if i < yl {
                p.by_year_day.contains(&(i + 1)) || p.by_year_day.contains(&(i - yl))
            } else {
                p.by_year_day.contains(&(i + 1 - yl))
                    || p.by_year_day.contains(&(i - yl - info.next_year_len))
            };
            if !ok {
                return false;
            }
        }
        true
    }

    fn date_of(&self, i: i64) -> Option<NaiveDate> {
        let yl = self.info.year_len;
        let (y, d) = if i < yl {
            (self.year, i)
        } else {
            (self.year + 1, i - yl)
        };
        NaiveDate::from_yo_opt(i32::try_from(y).ok()?, u32::try_from(d + 1).ok()?)
    }

    /// Emits one candidate; returns false when COUNT is exhausted.
    fn emit(&mut self, res: NaiveDateTime) -> bool {
        if res >= self.dtstart {
            if let Some(c) = self.count.as_mut() {
                if *c == 0 {
                    return false;
                }
                *c -= 1;
            }
            self.buffer.push(res);
        }
        true
    }

    /// Expands the current period into `buffer`, then advances to the next period.
    #[allow(
        clippy::too_many_lines,
        reason = "mirrors dateutil's rrule._iter (module doc)"
    )]
    fn step(&mut self) {
        let (start, end) = match self.p.freq {
            Frequency::Yearly => (0, self.info.year_len),
            Frequency::Monthly => {
                let r = &self.info.masks.range;
                let m = usize::try_from(self.month - 1).unwrap_or(0).min(11);
                (i64::from(r[m]), i64::from(r[m + 1]))
            }
            Frequency::Weekly => {
                let Some(mut i) = day_of_year(self.year, self.month, self.day) else {
                    self.finished = true;
                    return;
                };
                let start = i;
                let mut w = self.info.wday(i);
                for _ in 0..7 {
                    i += 1;
                    w = if w == 6 { 0 } else { w + 1 };
                    if w == self.p.wkst {
                        break;
                    }
                }
                (start, i)
            }
            _ => {
                let Some(i) = day_of_year(self.year, self.month, self.day) else {
                    self.finished = true;
                    return;
                };
                (i, i + 1)
            }
        };
        let mut days = std::mem::take(&mut self.days);
        days.clear();
        let mut filtered = false;
        let mut w = self.info.wday(start);
        for i in start..end {
            if self.keep(i, w) {
                days.push(i);
            } else {
                filtered = true;
            }
            w = if w == 6 { 0 } else { w + 1 };
        }
        let timeset = std::mem::take(&mut self.timeset);
        let mut go_on = true;
        if !self.p.by_set_pos.is_empty() && !timeset.is_empty() {
            let n_t = timeset.len() as i64;
            let n_d = days.len() as i64;
            let mut poslist: Vec<NaiveDateTime> = Vec::with_capacity(self.p.by_set_pos.len());
            for pos in &self.p.by_set_pos {
                let (daypos, timepos) = if *pos < 0 {
                    (pos.div_euclid(n_t), pos.rem_euclid(n_t))
                } else {
                    ((pos - 1).div_euclid(n_t), (pos - 1).rem_euclid(n_t))
                };
                let idx = if daypos < 0 { n_d + daypos } else { daypos };
                if idx < 0 || idx >= n_d {
                    continue;
                }
                let (Some(day), Some(time)) = (
                    days.get(idx as usize).and_then(|i| self.date_of(*i)),
                    timeset.get(timepos as usize),
                ) else {
                    continue;
                };
                let res = day.and_time(*time);
                if !poslist.contains(&res) {
                    poslist.push(res);
                }
            }
            poslist.sort_unstable();
            for res in poslist {
                if !self.emit(res) {
                    go_on = false;
                    break;
                }
            }
        } else {
            'outer: for i in &days {
                let Some(date) = self.date_of(*i) else {
                    continue;
                };
                for time in &timeset {
                    if !self.emit(date.and_time(*time)) {
                        go_on = false;
                        break 'outer;
                    }
                }
            }
        }
        self.timeset = timeset;
        self.days = days;
        if !go_on {
            self.finished = true;
            return;
        }
        self.advance(filtered);
    }

    fn mod_distance(&self, mut value: i64, by: &[i64], base: i64) -> Option<(i64, i64)> {
        let mut acc = 0;
        for _ in 0..base {
            let v = value + self.p.interval;
            acc += v.div_euclid(base);
            value = v.rem_euclid(base);
            if by.contains(&value) {
                return Some((acc, value));
            }
        }
        None
    }

    #[allow(
        clippy::too_many_lines,
        reason = "mirrors dateutil's period advance (module doc)"
    )]
    fn advance(&mut self, filtered: bool) {
        let interval = self.p.interval;
        let mut fixday = false;
        match self.p.freq {
            Frequency::Yearly => {
                self.year += interval;
                if self.year > MAX_YEAR {
                    self.finished = true;
                    return;
                }
                let (y, m) = (self.year, self.month);
                self.info.rebuild(&self.p, y, m);
            }
            Frequency::Monthly => {
                self.month += interval;
                if self.month > 12 {
                    let (div, rem) = (self.month.div_euclid(12), self.month.rem_euclid(12));
                    self.month = rem;
                    self.year += div;
                    if self.month == 0 {
                        self.month = 12;
                        self.year -= 1;
                    }
                    if self.year > MAX_YEAR {
                        self.finished = true;
                        return;
                    }
                }
                let (y, m) = (self.year, self.month);
                self.info.rebuild(&self.p, y, m);
            }
            Frequency::Weekly => {
                let wkst = self.p.wkst;
                if wkst > self.weekday {
                    self.day += -(self.weekday + 1 + (6 - wkst)) + interval * 7;
                } else {
                    self.day += -(self.weekday - wkst) + interval * 7;
                }
                self.weekday = wkst;
                fixday = true;
            }
            Frequency::Daily => {
                self.day += interval;
                fixday = true;
            }
            Frequency::Hourly => {
                if filtered {
                    self.hour += ((23 - self.hour).div_euclid(interval)) * interval;
                }
                let (ndays, hour) = if self.p.by_hour.is_empty() {
                    (
                        (self.hour + interval).div_euclid(24),
                        (self.hour + interval).rem_euclid(24),
                    )
                } else {
                    match self.mod_distance(self.hour, &self.p.by_hour, 24) {
                        Some(x) => x,
                        None => {
                            self.finished = true;
                            return;
                        }
                    }
                };
                self.hour = hour;
                if ndays != 0 {
                    self.day += ndays;
                    fixday = true;
                }
                self.sub_daily_timeset();
            }
            Frequency::Minutely => {
                if filtered {
                    self.minute +=
                        ((1439 - (self.hour * 60 + self.minute)).div_euclid(interval)) * interval;
                }
                let rep = 24 * 60;
                let mut valid = false;
                for _ in 0..(rep / gcd(interval, rep)) {
                    let (nhours, minute) = if self.p.by_minute.is_empty() {
                        (
                            (self.minute + interval).div_euclid(60),
                            (self.minute + interval).rem_euclid(60),
                        )
                    } else {
                        match self.mod_distance(self.minute, &self.p.by_minute, 60) {
                            Some(x) => x,
                            None => break,
                        }
                    };
                    self.minute = minute;
                    let h = self.hour + nhours;
                    let div = h.div_euclid(24);
                    self.hour = h.rem_euclid(24);
                    if div != 0 {
                        self.day += div;
                        fixday = true;
                    }
                    if self.p.by_hour.is_empty() || self.p.by_hour.contains(&self.hour) {
                        valid = true;
                        break;
                    }
                }
                if !valid {
                    self.finished = true;
                    return;
                }
                self.sub_daily_timeset();
            }
            Frequency::Secondly => {
                if filtered {
                    self.second += ((86399 - (self.hour * 3600 + self.minute * 60 + self.second))
                        .div_euclid(interval))
                        * interval;
                }
                let rep = 24 * 3600;
                let mut valid = false;
                for _ in 0..(rep / gcd(interval, rep)) {
                    let (nminutes, second) = if self.p.by_second.is_empty() {
                        (
                            (self.second + interval).div_euclid(60),
                            (self.second + interval).rem_euclid(60),
                        )
                    } else {
                        match self.mod_distance(self.second, &self.p.by_second, 60) {
                            Some(x) => x,
                            None => break,
                        }
                    };
                    self.second = second;
                    let m = self.minute + nminutes;
                    let div = m.div_euclid(60);
                    self.minute = m.rem_euclid(60);
                    if div != 0 {
                        let h = self.hour + div;
                        let div = h.div_euclid(24);
                        self.hour = h.rem_euclid(24);
                        if div != 0 {
                            self.day += div;
                            fixday = true;
                        }
                    }
                    if (self.p.by_hour.is_empty() || self.p.by_hour.contains(&self.hour))
                        && (self.p.by_minute.is_empty() || self.p.by_minute.contains(&self.minute))
                        && (self.p.by_second.is_empty() || self.p.by_second.contains(&self.second))
                    {
                        valid = true;
                        break;
                    }
                }
                if !valid {
                    self.finished = true;
                    return;
                }
                self.sub_daily_timeset();
            }
        }
        if fixday && self.day > 28 {
            let mut dim = days_in_month(self.year, self.month);
            if self.day > dim {
                while self.day > dim {
                    self.day -= dim;
                    self.month += 1;
                    if self.month == 13 {
                        self.month = 1;
                        self.year += 1;
                        if self.year > MAX_YEAR {
                            self.finished = true;
                            return;
                        }
                    }
                    dim = days_in_month(self.year, self.month);
                }
                let (y, m) = (self.year, self.month);
                self.info.rebuild(&self.p, y, m);
            }
        }
    }
}

impl Iterator for RuleIter {
    type Item = NaiveDateTime;

    fn next(&mut self) -> Option<NaiveDateTime> {
        if self.fast.is_some() {
            return self.fast_next();
        }
        loop {
            if let Some(v) = self.buffer.get(self.pos) {
                self.pos += 1;
                return Some(*v);
            }
            if self.finished {
                return None;
            }
            self.buffer.clear();
            self.pos = 0;
            self.step();
        }
    }
}
