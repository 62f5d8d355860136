//! RRULE text → [`RuleParts`] (syntax only; combinations are checked in `validate`).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Weekday};

use crate::error::RuleError;
use crate::parts::{
    ByDay, Frequency, PartRange, RuleParts, Until, BYHOUR, BYMINUTE, BYMONTH, BYMONTHDAY, BYSECOND,
    BYSETPOS, BYWEEKNO, BYYEARDAY,
};

/// Parses the text of an RRULE value (the `RRULE:` prefix is optional, names are
/// case-insensitive) into parts. Does not check RFC combination rules.
pub fn parse_parts(text: &str) -> Result<RuleParts, RuleError> {
    let mut body = text.trim();
    if body.len() >= 6 && body.is_char_boundary(6) && body[..6].eq_ignore_ascii_case("RRULE:") {
        body = body[6..].trim_start();
    }
    if body.is_empty() {
        return Err(RuleError::Empty);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut freq = None;
    let mut parts = RuleParts::new(Frequency::Yearly);
    for raw in body.split(';').map(str::trim).filter(|r| !r.is_empty()) {
        let (name, value) = name_and_value(raw)?;
        if seen.contains(&name) {
            return Err(RuleError::DuplicatePart(name));
        }
        if name == "FREQ" {
            freq = Some(
                Frequency::parse(value).ok_or_else(|| RuleError::InvalidFreq(value.to_string()))?,
            );
        } else {
            set_part(&mut parts, &name, value)?;
        }
        seen.push(name);
    }
    parts.freq = freq.ok_or(RuleError::MissingFreq)?;
    Ok(parts)
}

/// `NAME=value` of a known part, the name upper-cased and the value not empty.
fn name_and_value(raw: &str) -> Result<(String, &str), RuleError> {
    let (name, value) = match raw.split_once('=') {
        Some((n, v)) => (n.trim().to_ascii_uppercase(), v.trim()),
        None => {
            let name = raw.to_ascii_uppercase();
            return Err(if is_known(&name) {
                RuleError::MissingValue(name)
            } else {
                RuleError::UnknownPart(name)
            });
        }
    };
    if !is_known(&name) {
        return Err(RuleError::UnknownPart(name));
    }
    if value.is_empty() {
        return Err(RuleError::MissingValue(name));
    }
    Ok((name, value))
}

/// Sets the part `name` (any but `FREQ`) from its value.
fn set_part(parts: &mut RuleParts, name: &str, value: &str) -> Result<(), RuleError> {
    match name {
        "INTERVAL" => parts.interval = parse_positive(value).ok_or(RuleError::InvalidInterval)?,
        "COUNT" => parts.count = Some(parse_positive(value).ok_or(RuleError::InvalidCount)?),
        "UNTIL" => parts.until = Some(parse_until(value).ok_or(RuleError::InvalidUntil)?),
        "BYSECOND" => parts.by_second = list(value, BYSECOND)?,
        "BYMINUTE" => parts.by_minute = list(value, BYMINUTE)?,
        "BYHOUR" => parts.by_hour = list(value, BYHOUR)?,
        "BYMONTHDAY" => parts.by_month_day = list(value, BYMONTHDAY)?,
        "BYYEARDAY" => parts.by_year_day = list(value, BYYEARDAY)?,
        "BYWEEKNO" => parts.by_week_no = list(value, BYWEEKNO)?,
        "BYMONTH" => parts.by_month = list(value, BYMONTH)?,
        "BYSETPOS" => parts.by_set_pos = list(value, BYSETPOS)?,
        "BYDAY" => {
            parts.by_day = value
                .split(',')
                .map(parse_by_day)
                .collect::<Result<Vec<_>, _>>()?
        }
        "WKST" => {
            parts.wkst = parse_weekday(value).ok_or_else(|| RuleError::InvalidWeekday {
                part: "WKST",
                value: value.to_string(),
            })?
        }
        _ => return Err(RuleError::UnknownPart(name.to_string())),
    }
    Ok(())
}

fn is_known(name: &str) -> bool {
    matches!(
        name,
        "FREQ"
            | "INTERVAL"
            | "COUNT"
            | "UNTIL"
            | "BYSECOND"
            | "BYMINUTE"
            | "BYHOUR"
            | "BYDAY"
            | "BYMONTHDAY"
            | "BYYEARDAY"
            | "BYWEEKNO"
            | "BYMONTH"
            | "BYSETPOS"
            | "WKST"
    )
}

fn parse_positive(value: &str) -> Option<u32> {
    let digits = value.strip_prefix('+').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u32>().ok().filter(|n| *n > 0)
}

fn list<T: TryFrom<i32>>(value: &str, range: PartRange) -> Result<Vec<T>, RuleError> {
    value
        .split(',')
        .map(|item| {
            let item = item.trim();
            let bad = || RuleError::OutOfRange {
                part: range.name,
                value: item.to_string(),
                range: range.text,
            };
            let n = parse_signed(item).ok_or_else(bad)?;
            if !range.allows(n) {
                return Err(bad());
            }
            T::try_from(n).map_err(|_| bad())
        })
        .collect()
}

fn parse_signed(item: &str) -> Option<i32> {
    let (neg, digits) = match item.as_bytes().first() {
        Some(b'-') => (true, &item[1..]),
        Some(b'+') => (false, &item[1..]),
        _ => (false, item),
    };
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i32 = digits.parse().ok()?;
    Some(if neg { -n } else { n })
}

/// Parses a two-letter weekday code (case-insensitive).
pub fn parse_weekday(code: &str) -> Option<Weekday> {
    Some(match code.trim().to_ascii_uppercase().as_str() {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

fn parse_by_day(item: &str) -> Result<ByDay, RuleError> {
    let item = item.trim();
    let bad = || RuleError::InvalidWeekday {
        part: "BYDAY",
        value: item.to_string(),
    };
    if item.len() < 2 || !item.is_char_boundary(item.len() - 2) {
        return Err(bad());
    }
    let (num, code) = item.split_at(item.len() - 2);
    let weekday = parse_weekday(code).ok_or_else(bad)?;
    if num.is_empty() {
        return Ok(ByDay::every(weekday));
    }
    let n = parse_signed(num).ok_or_else(bad)?;
    if n == 0 || !(-53..=53).contains(&n) {
        return Err(RuleError::OutOfRange {
            part: "BYDAY",
            value: item.to_string(),
            range: "weekdays with an optional number from 1 to 53 or -53 to -1",
        });
    }
    let n = i8::try_from(n).map_err(|_| bad())?;
    Ok(ByDay::nth(n, weekday))
}

fn parse_until(value: &str) -> Option<Until> {
    match parse_date_or_datetime(value)? {
        DateOrTime::Date(d) => Some(Until::Date(d)),
        DateOrTime::Local(t) => Some(Until::Local(t)),
        DateOrTime::Utc(t) => Some(Until::Utc(t)),
    }
}

/// A DATE or DATE-TIME value as written in iCalendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrTime {
    /// `YYYYMMDD`
    Date(NaiveDate),
    /// `YYYYMMDDTHHMMSS`
    Local(NaiveDateTime),
    /// `YYYYMMDDTHHMMSSZ`
    Utc(NaiveDateTime),
}

/// Parses `YYYYMMDD`, `YYYYMMDDTHHMMSS` or `YYYYMMDDTHHMMSSZ`.
pub fn parse_date_or_datetime(value: &str) -> Option<DateOrTime> {
    let v = value.trim().as_bytes();
    if v.len() < 8 || !v[..8].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |s: &[u8]| -> Option<u32> {
        s.iter().try_fold(0u32, |acc, b| {
            b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
        })
    };
    let year = i32::try_from(num(&v[0..4])?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, num(&v[4..6])?, num(&v[6..8])?)?;
    match v.len() {
        8 => Some(DateOrTime::Date(date)),
        15 | 16 if v[8] == b'T' || v[8] == b't' => {
            let time =
                NaiveTime::from_hms_opt(num(&v[9..11])?, num(&v[11..13])?, num(&v[13..15])?)?;
            let dt = date.and_time(time);
            match v.get(15) {
                None => Some(DateOrTime::Local(dt)),
                Some(b'Z' | b'z') => Some(DateOrTime::Utc(dt)),
                Some(_) => None,
            }
        }
        _ => None,
    }
}
