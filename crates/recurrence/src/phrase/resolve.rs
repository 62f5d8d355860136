//! A parsed phrase in use: its English description, its dates resolved against a day, and the
//! series it starts.

use chrono::{Datelike, Days, NaiveDate, NaiveTime};

use super::{PhraseDate, PhraseRule};
use crate::describe::{describe, format_date, format_time, month_name};
use crate::error::SeriesError;
use crate::parts::Until;
use crate::rule::Rule;
use crate::series::Series;
use crate::tz::{to_instant, Zone};

impl PhraseDate {
    /// English for the date, in a form the phrase parser reads back (`Dec 31, 2026`, `June`).
    pub fn describe(&self) -> String {
        match *self {
            PhraseDate::Date(d) => format_date(d),
            PhraseDate::MonthDay { month, day } => {
                format!("{} {day}", short_month(month))
            }
            PhraseDate::Month { month, year: None } => month_name(month.into()).to_string(),
            PhraseDate::Month {
                month,
                year: Some(y),
            } => format!("{} {y}", month_name(month.into())),
            PhraseDate::InDays(0) => "today".into(),
            PhraseDate::InDays(_) => "tomorrow".into(),
        }
    }

    /// The date as an end (inclusive) resolved against `today`: a year-less date is the next
    /// such day, a month its last day.
    pub fn as_end(&self, today: NaiveDate) -> Option<NaiveDate> {
        match *self {
            PhraseDate::Date(d) => Some(d),
            PhraseDate::MonthDay { month, day } => (today.year()..today.year() + 8)
                .filter_map(|y| NaiveDate::from_ymd_opt(y, month.into(), day.into()))
                .find(|d| *d >= today),
            PhraseDate::Month { month, year } => {
                let years = match year {
                    Some(y) => y..y + 1,
                    None => today.year()..today.year() + 2,
                };
                years
                    .filter_map(|y| last_of_month(y, month))
                    .find(|d| year.is_some() || *d >= today)
            }
            PhraseDate::InDays(n) => today.checked_add_days(Days::new(n.into())),
        }
    }

    /// The date as a start resolved against `today`: a year-less date is the next such day, a
    /// month its first day (today, within that month).
    pub fn as_start(&self, today: NaiveDate) -> Option<NaiveDate> {
        match *self {
            PhraseDate::Month { month, year } => {
                let last = PhraseDate::Month { month, year }.as_end(today)?;
                let first = last.with_day(1)?;
                Some(if year.is_none() {
                    first.max(today)
                } else {
                    first
                })
            }
            other => other.as_end(today),
        }
    }
}

fn short_month(month: u8) -> &'static str {
    let name = month_name(month.into());
    name.get(..3).unwrap_or(name)
}

fn last_of_month(year: i32, month: u8) -> Option<NaiveDate> {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, u32::from(month) + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

impl PhraseRule {
    /// English for the whole phrase (rule, time, start, end date); parses back to the same
    /// value.
    pub fn describe(&self) -> String {
        let mut text = describe(&self.rule);
        if let Some(t) = self.time {
            text.push_str(" at ");
            text.push_str(&format_time(t));
        }
        if let Some(s) = self.start {
            text.push_str(" starting ");
            text.push_str(&s.describe());
        }
        if let Some(u) = self.until {
            text.push_str(" until ");
            text.push_str(&u.describe());
        }
        text
    }

    /// The end date resolved against `today` (a year-less date is the next such day).
    pub fn until_date(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.until?.as_end(today)
    }

    /// The start date resolved against `today`.
    pub fn start_date(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.start?.as_start(today)
    }

    /// Builds a series starting at the first occurrence on or after `now` (local date of `now`
    /// at the phrase's time, midnight if none), or on or after the phrase's start date. An end
    /// date (resolved from the start) becomes an inclusive UNTIL at the end of that local day
    /// and must be in the future.
    pub fn to_series(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Series, SeriesError> {
        let local_now = crate::tz::to_local(now, self.tz);
        let start = self.start_date(local_now.date());
        let anchor = start.unwrap_or(local_now.date());
        let time = self.time.unwrap_or(NaiveTime::MIN);
        let mut parts = self.rule.parts().clone();
        if let Some(end) = self.until_date(anchor) {
            let last = end.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN));
            let until_instant = to_instant(last, self.tz);
            if until_instant <= now {
                return Err(SeriesError::EndDateNotInFuture);
            }
            parts.until = Some(match self.tz {
                Zone::Floating => Until::Local(last),
                Zone::Tz(_) => Until::Utc(until_instant.naive_utc()),
            });
            parts.count = None;
        }
        let rule = Rule::from_parts(parts)?;
        let probe = Series::new(rule.clone(), anchor.and_time(time), self.tz);
        let first = if start.is_some() {
            probe.occurrences().next()
        } else {
            probe
                .after(now, true)
                .or_else(|| probe.occurrences().next())
        }
        .ok_or(SeriesError::NoOccurrences)?;
        Ok(Series::new(rule, first.local, self.tz))
    }
}
