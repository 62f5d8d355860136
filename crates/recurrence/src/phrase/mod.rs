//! Natural language → rule (+ time of day, + start and end date), the forms people type into
//! task apps: "every other Tuesday", "every first Monday of the month at 9", "the last weekday
//! of every month", "every March and September on the 10th", "quarterly", "twice a week on
//! Monday and Thursday", "every mon, wed & fri at 6:30am until June", "every day for 10 times".
//!
//! Clauses come in any order; case, commas, `&`, hyphens and a leading "repeat"/"on"/"the" do
//! not matter. The grammar (each form with examples in docs/recurrence.md):
//!
//! ```text
//! phrase   := clause+
//! clause   := how-often | days | at <time> | <time> | starting <date> | until <date>
//!           | [for] N times | once
//! how-often:= daily | weekly | biweekly | fortnightly | monthly | quarterly | semi-annually
//!           | yearly | annually | hourly | N times a <unit> | twice a <unit>
//!           | every [other | N] <unit>             (day, week, fortnight, month, quarter, year, hour)
//!           | every [other] <days>
//! days     := [on] [the] <weekday list>            (mon, wed & fri; mon-fri; weekdays; weekends)
//!           | [on] [the] <nth list> <weekday> [of-what]       (first Monday, 2nd and 4th Tuesday)
//!           | [on] [the] <nth> weekday|workday|business day [of-what]
//!           | [on] [the] <day-of-month list> [of-what]         (1st and 15th, last day)
//!           | [in] <month list> | <month> <day> | <day> [of] <month>
//! of-what  := of [the|every|each] (month | other month | N months | quarter | <month list>)
//! date     := 2026-12-31 | Dec 31[, 2026] | 31 December [2026] | June [2027] | end of June
//!           | today | tomorrow
//! ```
//!
//! A phrase that cannot be read is refused with the word that was not understood and the
//! nearest form that would be ([`PhraseError`]).

mod complete;
mod cursor;
mod grammar;
mod lexer;
mod resolve;
mod words;

use chrono::{NaiveDate, NaiveTime};

pub use complete::{complete, Completion, MAX_TYPED_CHARS};
pub use words::{MONTH_NAMES, WEEKDAY_NAMES};

use crate::error::RuleError;
use crate::parts::{Frequency, RuleParts};
use crate::rule::Rule;
use crate::tz::Zone;
use grammar::Draft;

/// Why a phrase was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhraseError {
    /// Nothing to parse.
    #[error("the phrase is empty")]
    Empty,
    /// A word that does not fit the grammar at that point, with the nearest understood form.
    #[error("could not understand \"{word}\" in the phrase{}", suggestion.as_ref().map(|s| format!("; did you mean \"{s}\"?")).unwrap_or_else(|| "; try e.g. \"every Monday at 9\", \"every 2 weeks on Friday\" or \"monthly on the 1st\"".into()))]
    Unexpected {
        /// The word as written (lower case).
        word: String,
        /// The nearest form the grammar understands, if one is close.
        suggestion: Option<String>,
    },
    /// Words that people use for two different rules.
    #[error("\"{words}\" can mean two things: {options}")]
    Ambiguous {
        /// The words in question.
        words: String,
        /// What to say instead.
        options: &'static str,
    },
    /// Two clauses that contradict each other (`daily weekly`).
    #[error("\"{0}\" contradicts an earlier part of the phrase (say how often only once)")]
    Conflict(String),
    /// Two different times of day.
    #[error(
        "the phrase gives two times of day; a task repeats at one time (make one task per time)"
    )]
    TwoTimes,
    /// Days that do not add up to the stated rate (`twice a week on Monday`).
    #[error("{0}")]
    Rate(String),
    /// The phrase ended where more was needed.
    #[error("the phrase ends too early: expected {0}")]
    Incomplete(&'static str),
    /// A time of day that does not exist.
    #[error("\"{0}\" is not a time of day (e.g. 7:30, 17:00, 6:30am, noon)")]
    InvalidTime(String),
    /// A date that does not exist.
    #[error("\"{0}\" is not a valid date")]
    InvalidDate(String),
    /// Words where a date was expected.
    #[error(
        "could not understand \"{0}\" as a date; try e.g. \"Dec 31\", \"2026-12-31\" or \"June\""
    )]
    NotADate(String),
    /// The resulting rule is invalid.
    #[error(transparent)]
    Rule(#[from] RuleError),
}

impl PhraseError {
    /// The refusal for a word, with the nearest known word as suggestion.
    pub(crate) fn unexpected(word: &str) -> Self {
        Self::Unexpected {
            word: word.to_string(),
            suggestion: words::nearest(word).map(str::to_string),
        }
    }
}

/// A weekday as people write it (`monday`, `mon`, `mondays`, `thurs`; lower case).
#[must_use]
pub fn weekday_word(w: &str) -> Option<chrono::Weekday> {
    words::weekday(w)
}

/// A month as people write it (`march`, `mar`, `sept`; lower case), 1–12.
#[must_use]
pub fn month_word(w: &str) -> Option<u8> {
    words::month(w)
}

/// A date as written in a phrase (`until …`, `starting …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhraseDate {
    /// A full date (`until Dec 31, 2026`).
    Date(NaiveDate),
    /// Month and day without a year (`until Dec 31`): the next such day.
    MonthDay {
        /// 1–12
        month: u8,
        /// 1–31
        day: u8,
    },
    /// A whole month (`until June`, `starting March 2027`): its last day as an end, its first
    /// as a start.
    Month {
        /// 1–12
        month: u8,
        /// The year, if given; else the next such month.
        year: Option<i32>,
    },
    /// `today` (0) or `tomorrow` (1).
    InDays(u8),
}

/// Everyday phrases of every form of the grammar (benchmarks, examples).
pub const EXAMPLES: [&str; 16] = [
    "every other Tuesday at 7:30",
    "every first Monday of the month at 9",
    "the last weekday of every month",
    "last day of the month",
    "every March and September on the 10th",
    "quarterly on the 1st",
    "biweekly on Friday",
    "twice a week on Monday and Thursday",
    "every mon, wed & fri at 6:30am",
    "every weekday at noon until June",
    "every day starting March 10 for 10 times",
    "On the 2nd Tuesday of every month at 17:00",
    "semi-annually",
    "every 3 weeks on Sat and Sun",
    "yearly on the fourth Thursday of November",
    "every 15th until 2027-12-31",
];

/// The former name of [`PhraseDate`].
pub type PhraseUntil = PhraseDate;

/// The result of [`parse_phrase`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhraseRule {
    /// The rule (COUNT included; without UNTIL, see `until`).
    pub rule: Rule,
    /// Time of day, if the phrase gave one (`at 10 AM`).
    pub time: Option<NaiveTime>,
    /// The end date, if the phrase gave one (inclusive, local date).
    pub until: Option<PhraseDate>,
    /// The start date, if the phrase gave one (`starting Jan 5`).
    pub start: Option<PhraseDate>,
    /// The zone the phrase is interpreted in.
    pub tz: Zone,
}

/// Parses an English recurrence phrase in the zone `tz` (the zone only matters later, when
/// the phrase becomes a series with [`PhraseRule::to_series`]).
///
/// ```
/// use recurrence::{parse_phrase, Zone};
/// let p = parse_phrase("every 2 weeks on Monday and Wednesday at 10 AM", Zone::UTC).unwrap();
/// assert_eq!(p.rule.to_canonical_string(), "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE");
/// assert_eq!(p.describe(), "every 2 weeks on Monday and Wednesday at 10 AM");
/// let p = parse_phrase("The last weekday of every month", Zone::UTC).unwrap();
/// assert_eq!(p.rule.to_canonical_string(), "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1");
/// ```
pub fn parse_phrase(text: &str, tz: Zone) -> Result<PhraseRule, PhraseError> {
    let toks = lexer::tokenize(text)?;
    if toks.is_empty() {
        return Err(PhraseError::Empty);
    }
    let mut cursor = cursor::Cursor::new(toks);
    let draft = grammar::clauses(&mut cursor)?;
    let time = draft.time;
    let until = draft.until;
    let start = draft.start;
    let rule = Rule::from_parts(into_parts(draft)?)?;
    Ok(PhraseRule {
        rule,
        time,
        until,
        start,
        tz,
    })
}

/// Parses a date as the phrase grammar writes it (`Dec 31`, `2026-12-31`, `June`, `the end of
/// June`, `31 December 2026`, `tomorrow`); the whole text must be the date.
///
/// ```
/// use recurrence::phrase::{parse_date, PhraseDate};
/// assert_eq!(parse_date("the end of June"), Ok(PhraseDate::Month { month: 6, year: None }));
/// ```
pub fn parse_date(text: &str) -> Result<PhraseDate, PhraseError> {
    let toks = lexer::tokenize(text)?;
    if toks.is_empty() {
        return Err(PhraseError::Empty);
    }
    let mut cursor = cursor::Cursor::new(toks);
    let date = cursor.date()?;
    if !cursor.done() {
        return Err(cursor.unexpected());
    }
    Ok(date)
}

/// The draft's frequency (stated, or implied by its days) and parts.
fn into_parts(d: Draft) -> Result<RuleParts, PhraseError> {
    let implied = if let Some((_, f)) = d.per_period {
        Some(f)
    } else if !d.by_month.is_empty() {
        Some(Frequency::Yearly)
    } else if d.by_day.iter().any(|b| b.ordinal.is_some())
        || !d.by_month_day.is_empty()
        || !d.by_set_pos.is_empty()
    {
        Some(Frequency::Monthly)
    } else if !d.by_day.is_empty() {
        Some(Frequency::Weekly)
    } else {
        None
    };
    let mut freq = d.freq.or(implied).ok_or(PhraseError::Incomplete(
        "how often it repeats (e.g. \"every week\", \"daily\", \"on Mondays\")",
    ))?;
    let mut interval = d.interval.unwrap_or(1);
    let plain_days = !d.by_day.is_empty() && d.by_day.iter().all(|b| b.ordinal.is_none());
    if freq == Frequency::Daily && interval == 1 && plain_days {
        freq = Frequency::Weekly;
    }
    if let Some((n, f)) = d.per_period {
        (freq, interval) = check_rate(&d, n, f, freq, interval)?;
    }
    let mut parts = RuleParts::new(freq);
    parts.interval = interval;
    parts.count = d.count;
    parts.by_day = d.by_day;
    parts.by_month_day = d.by_month_day;
    parts.by_month = d.by_month;
    parts.by_set_pos = d.by_set_pos;
    Ok(parts)
}

/// `twice a week on Monday and Thursday`: the days must give the stated number a period.
fn check_rate(
    d: &Draft,
    n: u32,
    per: Frequency,
    freq: Frequency,
    interval: u32,
) -> Result<(Frequency, u32), PhraseError> {
    let unit = crate::describe::unit_name(per);
    if d.freq.is_some() && (freq != per || interval != 1) {
        return Err(PhraseError::Conflict(format!("times a {unit}")));
    }
    let by_days = d.by_day.len() + d.by_month_day.len();
    let per_period = match per {
        Frequency::Yearly if !d.by_month.is_empty() => d.by_month.len() * by_days.max(1),
        _ if !d.by_set_pos.is_empty() => d.by_set_pos.len(),
        _ => by_days,
    };
    let n_usize = usize::try_from(n).unwrap_or(usize::MAX);
    match (per, per_period) {
        (_, 0) if n == 1 => Ok((per, 1)),
        (Frequency::Yearly, 0) if n == 2 => Ok((Frequency::Monthly, 6)),
        (_, 0) => Err(PhraseError::Rate(format!(
            "say on which days it repeats {n} times a {unit} (e.g. \"twice a week on Monday and Thursday\", \"twice a month on the 1st and 15th\")"
        ))),
        (_, k) if k == n_usize => Ok((per, 1)),
        (_, k) => Err(PhraseError::Rate(format!(
            "{n} times a {unit}, but the phrase names {k} day{}",
            if k == 1 { "" } else { "s" }
        ))),
    }
}
