//! Error types. Every message is written for the person who typed the rule.

use crate::parts::Frequency;

/// Why an RRULE text or a set of rule parts was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The text was empty.
    #[error("the rule is empty")]
    Empty,
    /// No `FREQ` part.
    #[error("FREQ is required")]
    MissingFreq,
    /// A part name outside RFC 5545 §3.3.10.
    #[error("unknown rule part {0}")]
    UnknownPart(String),
    /// The same part appears twice.
    #[error("rule part {0} is given more than once")]
    DuplicatePart(String),
    /// A part without `=value`.
    #[error("rule part {0} has no value")]
    MissingValue(String),
    /// `FREQ` is not one of the seven frequencies.
    #[error(
        "FREQ must be one of SECONDLY, MINUTELY, HOURLY, DAILY, WEEKLY, MONTHLY, YEARLY (got {0})"
    )]
    InvalidFreq(String),
    /// `INTERVAL` is zero, negative or not a number.
    #[error("INTERVAL must be a positive integer")]
    InvalidInterval,
    /// `COUNT` is zero, negative or not a number.
    #[error("COUNT must be a positive integer")]
    InvalidCount,
    /// `UNTIL` is not a DATE or DATE-TIME.
    #[error(
        "UNTIL must be a date (YYYYMMDD) or a date-time (YYYYMMDDTHHMMSS, optionally ending in Z)"
    )]
    InvalidUntil,
    /// `COUNT` and `UNTIL` together.
    #[error("COUNT and UNTIL cannot both be set")]
    CountAndUntil,
    /// A list value that is not a number or outside the part's range.
    #[error("{part} values must be {range} (got {value})")]
    OutOfRange {
        /// The rule part, e.g. `BYMONTHDAY`.
        part: &'static str,
        /// The offending value as written.
        value: String,
        /// The allowed range in words.
        range: &'static str,
    },
    /// A `BYDAY`/`WKST` value that is not a weekday.
    #[error("{part} value {value} is not a weekday (expected MO, TU, WE, TH, FR, SA or SU, optionally with a number such as 1MO or -1FR in BYDAY)")]
    InvalidWeekday {
        /// `BYDAY` or `WKST`.
        part: &'static str,
        /// The offending value.
        value: String,
    },
    /// `BYWEEKNO` with a frequency other than `YEARLY`.
    #[error("BYWEEKNO is only valid with FREQ=YEARLY")]
    ByWeekNoNotYearly,
    /// `BYYEARDAY` with `DAILY`, `WEEKLY` or `MONTHLY`.
    #[error("BYYEARDAY is not valid with FREQ={0}")]
    ByYearDayWithFreq(Frequency),
    /// `BYMONTHDAY` with `WEEKLY`.
    #[error("BYMONTHDAY is not valid with FREQ=WEEKLY")]
    ByMonthDayWeekly,
    /// `BYDAY=1MO` style values outside `MONTHLY`/`YEARLY`.
    #[error("numeric BYDAY prefix ({value}) is only valid with FREQ=MONTHLY or FREQ=YEARLY (got FREQ={freq})")]
    NumericByDay {
        /// The offending value, e.g. `1TU`.
        value: String,
        /// The rule's frequency.
        freq: Frequency,
    },
    /// `BYDAY=1MO` together with `BYWEEKNO`.
    #[error("numeric BYDAY prefix ({0}) cannot be combined with BYWEEKNO")]
    NumericByDayWithWeekNo(String),
    /// `BYSETPOS` without any other `BYxxx` part.
    #[error("BYSETPOS must be used together with another BYxxx rule part")]
    BySetPosAlone,
}

/// Why a series (DTSTART + rule + exceptions) was rejected or an operation on it failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeriesError {
    /// The rule itself is invalid.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// An end date at or before `now`.
    #[error("End date must be in the future")]
    EndDateNotInFuture,
    /// The given RECURRENCE-ID is not an instance of the series.
    #[error("{0} is not an occurrence of this series")]
    NotAnOccurrence(String),
    /// A series needs a rule or at least one RDATE.
    #[error("a series needs an RRULE or at least one RDATE")]
    NoOccurrences,
}

/// Why an iCalendar text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IcalError {
    /// The RRULE is invalid.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The series is invalid.
    #[error(transparent)]
    Series(#[from] SeriesError),
    /// No DTSTART line.
    #[error("DTSTART is required")]
    MissingDtstart,
    /// A property appears more than once where only one is allowed.
    #[error("more than one {0} is not supported (RFC 5545: {0} SHOULD NOT occur more than once)")]
    Repeated(&'static str),
    /// EXRULE (RFC 2445 only).
    #[error("EXRULE is not part of RFC 5545 (deprecated since RFC 2445); use EXDATE")]
    Exrule,
    /// A date or date-time that cannot be read.
    #[error("invalid date-time {0} (expected YYYYMMDD or YYYYMMDDTHHMMSS[Z])")]
    InvalidDateTime(String),
    /// A TZID that is not an IANA zone name.
    #[error("unknown time zone {0}")]
    UnknownTimeZone(String),
    /// A line that is not `NAME[;PARAMS]:VALUE`.
    #[error("malformed line: {0}")]
    Malformed(String),
    /// No VTODO component.
    #[error("no VTODO component found")]
    NoVtodo,
}
