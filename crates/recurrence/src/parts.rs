//! The parts of a recurrence rule (`FREQ`, `INTERVAL`, `BYxxx`, …) as plain data: what the
//! parser produces, the validator checks and the writer prints. [`crate::Rule`] wraps parts that
//! passed validation.

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime, Weekday};

/// `FREQ`: the unit of the recurrence period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Frequency {
    /// `YEARLY`
    Yearly,
    /// `MONTHLY`
    Monthly,
    /// `WEEKLY`
    Weekly,
    /// `DAILY`
    Daily,
    /// `HOURLY`
    Hourly,
    /// `MINUTELY`
    Minutely,
    /// `SECONDLY`
    Secondly,
}

impl Frequency {
    /// The RFC 5545 keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yearly => "YEARLY",
            Self::Monthly => "MONTHLY",
            Self::Weekly => "WEEKLY",
            Self::Daily => "DAILY",
            Self::Hourly => "HOURLY",
            Self::Minutely => "MINUTELY",
            Self::Secondly => "SECONDLY",
        }
    }

    /// Parses the RFC 5545 keyword (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.to_ascii_uppercase().as_str() {
            "YEARLY" => Self::Yearly,
            "MONTHLY" => Self::Monthly,
            "WEEKLY" => Self::Weekly,
            "DAILY" => Self::Daily,
            "HOURLY" => Self::Hourly,
            "MINUTELY" => Self::Minutely,
            "SECONDLY" => Self::Secondly,
            _ => return None,
        })
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `BYDAY` entry: a weekday with an optional ordinal (`-1FR` = last Friday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByDay {
    /// `Some(n)` for the n-th (negative: from the end) weekday of the month or year.
    pub ordinal: Option<i8>,
    /// The weekday.
    pub weekday: Weekday,
}

impl ByDay {
    /// A plain weekday (`MO`).
    pub fn every(weekday: Weekday) -> Self {
        Self {
            ordinal: None,
            weekday,
        }
    }

    /// An ordinal weekday (`2MO`, `-1FR`).
    pub fn nth(ordinal: i8, weekday: Weekday) -> Self {
        Self {
            ordinal: Some(ordinal),
            weekday,
        }
    }

    fn sort_key(&self) -> (u32, i16) {
        (
            self.weekday.num_days_from_monday(),
            self.ordinal.map_or(i16::MIN, i16::from),
        )
    }
}

impl PartialOrd for ByDay {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ByDay {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl fmt::Display for ByDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.ordinal {
            write!(f, "{n}")?;
        }
        f.write_str(weekday_code(self.weekday))
    }
}

/// The two-letter RFC 5545 code of a weekday.
pub fn weekday_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

/// `UNTIL`: the inclusive end of the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Until {
    /// `UNTIL=20261231` (a DATE; compared as midnight at the start of that day).
    Date(NaiveDate),
    /// `UNTIL=20261231T235959` (floating local time).
    Local(NaiveDateTime),
    /// `UNTIL=20261231T235959Z` (an instant, UTC).
    Utc(NaiveDateTime),
}

/// The parts of a rule, unvalidated. Turn them into a [`Rule`] with [`Rule::from_parts`].
///
/// List parts are sets: validation sorts them and drops duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleParts {
    /// `FREQ`
    pub freq: Frequency,
    /// `INTERVAL` (≥ 1; 1 is the default).
    pub interval: u32,
    /// `COUNT`
    pub count: Option<u32>,
    /// `UNTIL`
    pub until: Option<Until>,
    /// `BYSECOND` (0–60)
    pub by_second: Vec<u8>,
    /// `BYMINUTE` (0–59)
    pub by_minute: Vec<u8>,
    /// `BYHOUR` (0–23)
    pub by_hour: Vec<u8>,
    /// `BYDAY`
    pub by_day: Vec<ByDay>,
    /// `BYMONTHDAY` (±1–31)
    pub by_month_day: Vec<i8>,
    /// `BYYEARDAY` (±1–366)
    pub by_year_day: Vec<i16>,
    /// `BYWEEKNO` (±1–53)
    pub by_week_no: Vec<i8>,
    /// `BYMONTH` (1–12)
    pub by_month: Vec<u8>,
    /// `BYSETPOS` (±1–366)
    pub by_set_pos: Vec<i16>,
    /// `WKST` (Monday is the default).
    pub wkst: Weekday,
}

impl RuleParts {
    /// Parts with only `FREQ` set.
    pub fn new(freq: Frequency) -> Self {
        Self {
            freq,
            interval: 1,
            count: None,
            until: None,
            by_second: Vec::new(),
            by_minute: Vec::new(),
            by_hour: Vec::new(),
            by_day: Vec::new(),
            by_month_day: Vec::new(),
            by_year_day: Vec::new(),
            by_week_no: Vec::new(),
            by_month: Vec::new(),
            by_set_pos: Vec::new(),
            wkst: Weekday::Mon,
        }
    }

    /// True if any `BYxxx` part other than `BYSETPOS` is set.
    pub fn has_by_parts(&self) -> bool {
        !(self.by_second.is_empty()
            && self.by_minute.is_empty()
            && self.by_hour.is_empty()
            && self.by_day.is_empty()
            && self.by_month_day.is_empty()
            && self.by_year_day.is_empty()
            && self.by_week_no.is_empty()
            && self.by_month.is_empty())
    }
}

/// The values a numeric `BYxxx` part allows (RFC 5545 §3.3.10), shared by the parser and the
/// validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartRange {
    /// The part's name.
    pub name: &'static str,
    /// Smallest value.
    pub min: i32,
    /// Largest value.
    pub max: i32,
    /// True when 0 is excluded (the negative values count from the end).
    pub nonzero: bool,
    /// The range in words, for errors.
    pub text: &'static str,
}

impl PartRange {
    /// True if `v` is allowed.
    pub fn allows(&self, v: i32) -> bool {
        (self.min..=self.max).contains(&v) && !(self.nonzero && v == 0)
    }
}

const fn range(
    name: &'static str,
    min: i32,
    max: i32,
    nonzero: bool,
    text: &'static str,
) -> PartRange {
    PartRange {
        name,
        min,
        max,
        nonzero,
        text,
    }
}

/// `BYSECOND`.
pub const BYSECOND: PartRange = range("BYSECOND", 0, 60, false, "0 to 60");
/// `BYMINUTE`.
pub const BYMINUTE: PartRange = range("BYMINUTE", 0, 59, false, "0 to 59");
/// `BYHOUR`.
pub const BYHOUR: PartRange = range("BYHOUR", 0, 23, false, "0 to 23");
/// `BYMONTH`.
pub const BYMONTH: PartRange = range("BYMONTH", 1, 12, false, "1 to 12");
/// `BYMONTHDAY`.
pub const BYMONTHDAY: PartRange = range("BYMONTHDAY", -31, 31, true, "1 to 31 or -31 to -1");
/// `BYYEARDAY`.
pub const BYYEARDAY: PartRange = range("BYYEARDAY", -366, 366, true, "1 to 366 or -366 to -1");
/// `BYWEEKNO`.
pub const BYWEEKNO: PartRange = range("BYWEEKNO", -53, 53, true, "1 to 53 or -53 to -1");
/// `BYSETPOS`.
pub const BYSETPOS: PartRange = range("BYSETPOS", -366, 366, true, "1 to 366 or -366 to -1");
