//! Natural language → rule (+ time of day, + end date): "every 2 weeks on Monday and
//! Wednesday at 10 AM", "monthly on the 1st", "every month on the last Friday",
//! "yearly on March 3", "every weekday", "every 3 days until Dec 31".
//!
//! The grammar (case-insensitive, commas optional):
//!
//! ```text
//! phrase  := head clause*
//! head    := daily | weekly | monthly | yearly | annually | hourly
//!          | every [other | N] (day|week|month|year|hour|minute)[s]
//!          | every weekday | every weekend | every <weekday list> | every <month> <day>
//! clause  := on <weekday list> | on [the] <day-of-month list> | on [the] <nth> <weekday>
//!          | on <month> <day> | on [the] <nth> <weekday> of <month>
//!          | at <time> | [for] N times | once | until <date>
//! ```
//!
//! Length: the grammar above is one recursive-descent parser (one function per rule of it), kept
//! in one file so the grammar and its code read side by side.

use chrono::{NaiveDate, NaiveTime, Weekday};

use crate::describe::{describe, format_date, format_time, month_name};
use crate::error::{RuleError, SeriesError};
use crate::rule::{ByDay, Frequency, Rule, RuleParts, Until};
use crate::series::Series;
use crate::tz::{to_instant, Zone};

/// Why a phrase was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhraseError {
    /// Nothing to parse.
    #[error("the phrase is empty")]
    Empty,
    /// A word that does not fit the grammar at that point.
    #[error("could not understand \"{0}\" in the phrase")]
    Unexpected(String),
    /// The phrase ended where more was needed.
    #[error("the phrase ends too early: expected {0}")]
    Incomplete(&'static str),
    /// A time of day that does not exist.
    #[error("\"{0}\" is not a time of day")]
    InvalidTime(String),
    /// A date that does not exist.
    #[error("\"{0}\" is not a valid date")]
    InvalidDate(String),
    /// The resulting rule is invalid.
    #[error(transparent)]
    Rule(#[from] RuleError),
}

/// An end date as written in a phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhraseUntil {
    /// A full date (`until Dec 31, 2026`).
    Date(NaiveDate),
    /// Month and day without a year (`until Dec 31`): the next such day.
    MonthDay {
        /// 1–12
        month: u32,
        /// 1–31
        day: u32,
    },
}

/// The result of [`parse_phrase`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhraseRule {
    /// The rule (without UNTIL; see `until`).
    pub rule: Rule,
    /// Time of day, if the phrase gave one (`at 10 AM`).
    pub time: Option<NaiveTime>,
    /// The end date, if the phrase gave one (inclusive, local date).
    pub until: Option<PhraseUntil>,
    /// The zone the phrase is interpreted in.
    pub tz: Zone,
}

impl PhraseRule {
    /// English for the whole phrase (rule, time, end date); parses back to the same value.
    pub fn describe(&self) -> String {
        let mut text = describe(&self.rule);
        if let Some(t) = self.time {
            text.push_str(" at ");
            text.push_str(&format_time(t));
        }
        match self.until {
            Some(PhraseUntil::Date(d)) => text.push_str(&format!(" until {}", format_date(d))),
            Some(PhraseUntil::MonthDay { month, day }) => {
                text.push_str(&format!(" until {} {day}", &month_name(month)[..3]))
            }
            None => {}
        }
        text
    }

    /// The end date resolved against `today` (a year-less date is the next such day).
    pub fn until_date(&self, today: NaiveDate) -> Option<NaiveDate> {
        match self.until? {
            PhraseUntil::Date(d) => Some(d),
            PhraseUntil::MonthDay { month, day } => {
                use chrono::Datelike;
                (today.year()..today.year() + 8)
                    .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
                    .find(|d| *d >= today)
            }
        }
    }

    /// Builds a series starting at the first occurrence on or after `now` (local date of `now`
    /// at the phrase's time, midnight if none). An end date becomes an inclusive UNTIL at the
    /// end of that local day and must be in the future.
    pub fn to_series(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Series, SeriesError> {
        let local_now = crate::tz::to_local(now, self.tz);
        let today = local_now.date();
        let time = self.time.unwrap_or(NaiveTime::MIN);
        let mut parts = self.rule.parts().clone();
        if let Some(end) = self.until_date(today) {
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
        let probe = Series::new(rule.clone(), today.and_time(time), self.tz);
        let first = probe
            .after(now, true)
            .or_else(|| probe.occurrences().next())
            .ok_or(SeriesError::NoOccurrences)?;
        Ok(Series::new(rule, first.local, self.tz))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Num(u32),
    /// `1st`, `2nd`, …
    Ordinal(u32),
    Time(NaiveTime),
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Tok>, PhraseError> {
    let lower = text.to_lowercase().replace(',', " , ");
    let mut out = Vec::new();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].trim_matches('.');
        i += 1;
        if w.is_empty() {
            continue;
        }
        if w == "," {
            out.push(Tok::Comma);
            continue;
        }
        // Times: 10am, 10:30pm, 14:00, "10 am", "10:30 a.m."
        let (core, mut ampm) = split_ampm(w);
        if ampm.is_none() {
            if let Some(next) = words.get(i) {
                let n = next.trim_end_matches('.');
                if matches!(n, "am" | "pm" | "a.m" | "p.m")
                    && (core.contains(':') || core.parse::<u32>().is_ok())
                {
                    ampm = Some(n.starts_with('p'));
                    i += 1;
                }
            }
        }
        if ampm.is_some()
            || (core.contains(':')
                && core
                    .split(':')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
        {
            out.push(Tok::Time(
                parse_time(core, ampm).ok_or_else(|| PhraseError::InvalidTime(w.to_string()))?,
            ));
            continue;
        }
        if let Ok(n) = core.parse::<u32>() {
            out.push(Tok::Num(n));
            continue;
        }
        if let Some(n) = parse_ordinal_number(core) {
            out.push(Tok::Ordinal(n));
            continue;
        }
        if core == "noon" {
            out.push(Tok::Time(
                NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN),
            ));
            continue;
        }
        if core == "midnight" {
            out.push(Tok::Time(NaiveTime::MIN));
            continue;
        }
        // ISO date 2026-12-31
        if let Ok(d) = NaiveDate::parse_from_str(core, "%Y-%m-%d") {
            out.push(Tok::Word(format!("@{}", d.format("%Y-%m-%d"))));
            continue;
        }
        out.push(Tok::Word(core.to_string()));
    }
    Ok(out)
}

fn split_ampm(w: &str) -> (&str, Option<bool>) {
    for (suffix, pm) in [("a.m", false), ("p.m", true), ("am", false), ("pm", true)] {
        if let Some(core) = w.strip_suffix(suffix) {
            if !core.is_empty() && core.bytes().all(|b| b.is_ascii_digit() || b == b':') {
                return (core, Some(pm));
            }
        }
    }
    (w, None)
}

fn parse_time(core: &str, pm: Option<bool>) -> Option<NaiveTime> {
    let (h, m) = match core.split_once(':') {
        Some((h, m)) => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        None => (core.parse::<u32>().ok()?, 0),
    };
    let h = match pm {
        None => h,
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(false) => h % 12,
        Some(true) => h % 12 + 12,
    };
    NaiveTime::from_hms_opt(h, m, 0)
}

fn parse_ordinal_number(w: &str) -> Option<u32> {
    for suffix in ["st", "nd", "rd", "th"] {
        if let Some(n) = w.strip_suffix(suffix) {
            if let Ok(n) = n.parse::<u32>() {
                return Some(n);
            }
        }
    }
    None
}

fn weekday_word(w: &str) -> Option<Weekday> {
    let w = w.strip_suffix('s').filter(|s| s.len() >= 5).unwrap_or(w);
    Some(match w {
        "monday" | "mon" | "mo" => Weekday::Mon,
        "tuesday" | "tue" | "tues" | "tu" => Weekday::Tue,
        "wednesday" | "wed" | "we" => Weekday::Wed,
        "thursday" | "thu" | "thur" | "thurs" | "th" => Weekday::Thu,
        "friday" | "fri" | "fr" => Weekday::Fri,
        "saturday" | "sat" | "sa" => Weekday::Sat,
        "sunday" | "sun" | "su" => Weekday::Sun,
        _ => return None,
    })
}

fn month_word(w: &str) -> Option<u32> {
    const NAMES: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if w.len() < 3 {
        return None;
    }
    let w = if w == "sept" { "sep" } else { w };
    NAMES
        .iter()
        .position(|n| *n == w || (w.len() == 3 && n.starts_with(w)))
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn ordinal_word(w: &str) -> Option<i8> {
    Some(match w {
        "first" => 1,
        "second" => 2,
        "third" => 3,
        "fourth" => 4,
        "fifth" => 5,
        "last" => -1,
        _ => return None,
    })
}

fn unit_word(w: &str) -> Option<Frequency> {
    let w = w.strip_suffix('s').unwrap_or(w);
    Some(match w {
        "day" => Frequency::Daily,
        "week" => Frequency::Weekly,
        "month" => Frequency::Monthly,
        "year" => Frequency::Yearly,
        "hour" => Frequency::Hourly,
        "minute" => Frequency::Minutely,
        _ => return None,
    })
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn peek_word(&self) -> Option<&str> {
        match self.peek() {
            Some(Tok::Word(w)) => Some(w.as_str()),
            _ => None,
        }
    }

    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.peek_word() == Some(w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_separators(&mut self) -> bool {
        let mut any = false;
        while matches!(self.peek(), Some(Tok::Comma)) || self.peek_word() == Some("and") {
            self.pos += 1;
            any = true;
        }
        any
    }

    fn unexpected(&self) -> PhraseError {
        match self.peek() {
            None => PhraseError::Incomplete("more words"),
            Some(t) => PhraseError::Unexpected(tok_text(t)),
        }
    }

    /// A list of weekdays separated by commas and "and".
    fn weekdays(&mut self) -> Vec<Weekday> {
        let mut out = Vec::new();
        loop {
            let save = self.pos;
            if !out.is_empty() && !self.eat_separators() {
                break;
            }
            match self.peek_word().and_then(weekday_word) {
                Some(d) => {
                    self.pos += 1;
                    out.push(d);
                }
                None => {
                    self.pos = save;
                    break;
                }
            }
        }
        out
    }

    /// `1st, 15th and last day`
    fn month_days(&mut self) -> Result<Vec<i8>, PhraseError> {
        let mut out = Vec::new();
        loop {
            let save = self.pos;
            if !out.is_empty() && !self.eat_separators() {
                break;
            }
            self.eat_word("the");
            match self.peek().cloned() {
                Some(Tok::Ordinal(n)) | Some(Tok::Num(n))
                    if (1..=31).contains(&n)
                        && !matches!(
                            self.toks.get(self.pos + 1),
                            Some(Tok::Word(w)) if w == "times" || w == "occurrences"
                        ) =>
                {
                    self.pos += 1;
                    out.push(i8::try_from(n).map_err(|_| PhraseError::Unexpected(n.to_string()))?);
                    self.eat_word("day");
                }
                Some(Tok::Word(w))
                    if w == "last"
                        && self.toks.get(self.pos + 1) == Some(&Tok::Word("day".into())) =>
                {
                    self.pos += 2;
                    out.push(-1);
                }
                _ => {
                    self.pos = save;
                    break;
                }
            }
        }
        Ok(out)
    }

    /// `first Monday and last Friday`
    fn nth_weekdays(&mut self) -> Vec<ByDay> {
        let mut out = Vec::new();
        loop {
            let save = self.pos;
            if !out.is_empty() && !self.eat_separators() {
                break;
            }
            self.eat_word("the");
            let n = match self.peek().cloned() {
                Some(Tok::Word(w)) => ordinal_word(&w),
                Some(Tok::Ordinal(n)) => i8::try_from(n).ok().filter(|n| (1..=5).contains(n)),
                _ => None,
            };
            let day = self.toks.get(self.pos + 1).and_then(|t| match t {
                Tok::Word(w) => weekday_word(w),
                _ => None,
            });
            match (n, day) {
                (Some(n), Some(d)) => {
                    self.pos += 2;
                    out.push(ByDay::nth(n, d));
                }
                _ => {
                    self.pos = save;
                    break;
                }
            }
        }
        out
    }

    /// `March 3` or `3 March` (no year).
    fn month_and_day(&mut self) -> Option<(u32, u32)> {
        let save = self.pos;
        match (self.bump(), self.bump()) {
            (Some(Tok::Word(m)), Some(Tok::Num(d) | Tok::Ordinal(d)))
                if month_word(&m).is_some() =>
            {
                return month_word(&m).map(|m| (m, d));
            }
            (Some(Tok::Num(d) | Tok::Ordinal(d)), Some(Tok::Word(m)))
                if month_word(&m).is_some() =>
            {
                return month_word(&m).map(|m| (m, d));
            }
            _ => {}
        }
        self.pos = save;
        None
    }

    fn until(&mut self) -> Result<PhraseUntil, PhraseError> {
        if let Some(Tok::Word(w)) = self.peek().cloned() {
            if let Some(iso) = w.strip_prefix('@') {
                self.pos += 1;
                return NaiveDate::parse_from_str(iso, "%Y-%m-%d")
                    .map(PhraseUntil::Date)
                    .map_err(|_| PhraseError::InvalidDate(iso.to_string()));
            }
        }
        let (month, day) = self.month_and_day().ok_or(PhraseError::Incomplete(
            "a date after \"until\" (e.g. Dec 31)",
        ))?;
        let save = self.pos;
        let _ = self.eat_separators();
        if let Some(Tok::Num(y)) = self.peek().cloned() {
            if (1000..=9999).contains(&y) {
                self.pos += 1;
                let year = i32::try_from(y).map_err(|_| PhraseError::InvalidDate(y.to_string()))?;
                return NaiveDate::from_ymd_opt(year, month, day)
                    .map(PhraseUntil::Date)
                    .ok_or_else(|| PhraseError::InvalidDate(format!("{year}-{month}-{day}")));
            }
        }
        self.pos = save;
        if NaiveDate::from_ymd_opt(2000, month, day).is_none() {
            return Err(PhraseError::InvalidDate(format!(
                "{} {day}",
                month_name(month)
            )));
        }
        Ok(PhraseUntil::MonthDay { month, day })
    }
}

fn tok_text(t: &Tok) -> String {
    match t {
        Tok::Word(w) => w.trim_start_matches('@').to_string(),
        Tok::Num(n) => n.to_string(),
        Tok::Ordinal(n) => crate::describe::ordinal_suffix(*n),
        Tok::Time(t) => format_time(*t),
        Tok::Comma => ",".into(),
    }
}

/// Parses an English recurrence phrase in the zone `tz` (the zone only matters later, when
/// the phrase becomes a series with [`PhraseRule::to_series`]).
///
/// ```
/// use recurrence::{parse_phrase, Zone};
/// let p = parse_phrase("every 2 weeks on Monday and Wednesday at 10 AM", Zone::UTC).unwrap();
/// assert_eq!(p.rule.to_canonical_string(), "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE");
/// assert_eq!(p.describe(), "every 2 weeks on Monday and Wednesday at 10 AM");
/// ```
pub fn parse_phrase(text: &str, tz: Zone) -> Result<PhraseRule, PhraseError> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err(PhraseError::Empty);
    }
    let mut p = Parser { toks, pos: 0 };
    p.eat_word("repeat");
    p.eat_word("repeats");
    let mut parts;
    match p.bump() {
        Some(Tok::Word(w)) => match w.as_str() {
            "daily" => parts = RuleParts::new(Frequency::Daily),
            "weekly" => parts = RuleParts::new(Frequency::Weekly),
            "monthly" => parts = RuleParts::new(Frequency::Monthly),
            "yearly" | "annually" => parts = RuleParts::new(Frequency::Yearly),
            "hourly" => parts = RuleParts::new(Frequency::Hourly),
            "every" | "each" => {
                parts = every_head(&mut p)?;
            }
            _ => return Err(PhraseError::Unexpected(w)),
        },
        Some(t) => return Err(PhraseError::Unexpected(tok_text(&t))),
        None => return Err(PhraseError::Empty),
    }
    let mut time = None;
    let mut until = None;
    loop {
        p.eat_separators();
        let Some(tok) = p.peek().cloned() else {
            break;
        };
        match tok {
            Tok::Word(w) if w == "on" || w == "the" => {
                p.pos += 1;
                on_clause(&mut p, &mut parts)?;
            }
            Tok::Word(w) if w == "at" => {
                p.pos += 1;
                match p.bump() {
                    Some(Tok::Time(t)) => time = Some(t),
                    Some(Tok::Num(h)) if h <= 23 => {
                        time = NaiveTime::from_hms_opt(h, 0, 0);
                    }
                    Some(t) => return Err(PhraseError::InvalidTime(tok_text(&t))),
                    None => return Err(PhraseError::Incomplete("a time after \"at\"")),
                }
            }
            Tok::Time(t) => {
                p.pos += 1;
                time = Some(t);
            }
            Tok::Word(w) if w == "until" || w == "till" || w == "through" => {
                p.pos += 1;
                until = Some(p.until()?);
            }
            Tok::Word(w) if w == "once" => {
                p.pos += 1;
                parts.count = Some(1);
            }
            Tok::Word(w) if w == "for" => {
                p.pos += 1;
                count_clause(&mut p, &mut parts)?;
            }
            Tok::Num(_) => count_clause(&mut p, &mut parts)?,
            _ => return Err(p.unexpected()),
        }
    }
    let rule = Rule::from_parts(parts)?;
    Ok(PhraseRule {
        rule,
        time,
        until,
        tz,
    })
}

fn count_clause(p: &mut Parser, parts: &mut RuleParts) -> Result<(), PhraseError> {
    match (p.bump(), p.bump()) {
        (Some(Tok::Num(n)), Some(Tok::Word(w))) if w == "times" || w == "occurrences" => {
            parts.count = Some(n);
            Ok(())
        }
        _ => Err(PhraseError::Incomplete("a number of times (e.g. 5 times)")),
    }
}

fn every_head(p: &mut Parser) -> Result<RuleParts, PhraseError> {
    // every other week / every 2 weeks
    let mut interval = 1;
    if p.eat_word("other") {
        interval = 2;
    } else if let Some(Tok::Num(n)) = p.peek().cloned() {
        p.pos += 1;
        interval = n;
    }
    let word = p.peek_word().map(str::to_string);
    if let Some(w) = &word {
        if let Some(freq) = unit_word(w) {
            p.pos += 1;
            let mut parts = RuleParts::new(freq);
            parts.interval = interval;
            return Ok(parts);
        }
    }
    if interval != 1 {
        return Err(p.unexpected());
    }
    match word.as_deref() {
        Some("weekday") | Some("weekdays") => {
            p.pos += 1;
            let mut parts = RuleParts::new(Frequency::Weekly);
            parts.by_day = crate::presets::workweek();
            return Ok(parts);
        }
        Some("weekend") | Some("weekends") => {
            p.pos += 1;
            let mut parts = RuleParts::new(Frequency::Weekly);
            parts.by_day = vec![ByDay::every(Weekday::Sat), ByDay::every(Weekday::Sun)];
            return Ok(parts);
        }
        _ => {}
    }
    let days = p.weekdays();
    if !days.is_empty() {
        let mut parts = RuleParts::new(Frequency::Weekly);
        parts.by_day = days.into_iter().map(ByDay::every).collect();
        return Ok(parts);
    }
    if let Some((m, d)) = p.month_and_day() {
        return yearly_on(m, d);
    }
    Err(p.unexpected())
}

fn yearly_on(month: u32, day: u32) -> Result<RuleParts, PhraseError> {
    if NaiveDate::from_ymd_opt(2000, month, day).is_none() {
        return Err(PhraseError::InvalidDate(format!(
            "{} {day}",
            month_name(month)
        )));
    }
    let mut parts = RuleParts::new(Frequency::Yearly);
    parts.by_month = vec![u8::try_from(month).unwrap_or(1)];
    parts.by_month_day = vec![i8::try_from(day).unwrap_or(1)];
    Ok(parts)
}

fn on_clause(p: &mut Parser, parts: &mut RuleParts) -> Result<(), PhraseError> {
    let days = p.weekdays();
    if !days.is_empty() {
        if parts.freq == Frequency::Daily && parts.interval == 1 {
            parts.freq = Frequency::Weekly;
        }
        parts.by_day.extend(days.into_iter().map(ByDay::every));
        return Ok(());
    }
    let nth = p.nth_weekdays();
    if !nth.is_empty() {
        parts.by_day.extend(nth);
        if p.eat_word("of") {
            p.eat_word("the");
            if let Some(m) = p.peek_word().and_then(month_word) {
                p.pos += 1;
                parts.by_month.push(u8::try_from(m).unwrap_or(1));
                if parts.freq == Frequency::Monthly && parts.interval == 1 {
                    parts.freq = Frequency::Yearly;
                }
            } else if !p.eat_word("month") {
                return Err(PhraseError::Incomplete("a month after \"of\""));
            }
        }
        return Ok(());
    }
    if let Some((m, d)) = p.month_and_day() {
        let on = yearly_on(m, d)?;
        parts.by_month.extend(on.by_month);
        parts.by_month_day.extend(on.by_month_day);
        return Ok(());
    }
    let mdays = p.month_days()?;
    if !mdays.is_empty() {
        parts.by_month_day.extend(mdays);
        if p.eat_word("of") {
            p.eat_word("the");
            p.eat_word("month");
        }
        return Ok(());
    }
    Err(p.unexpected())
}
