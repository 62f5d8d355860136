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
