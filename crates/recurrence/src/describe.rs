//! Rule → concise English ("every 2 weeks on Monday and Wednesday"). The output is accepted
//! by [`crate::parse_phrase`] for every rule the phrase parser can produce.

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike, Weekday};

use crate::rule::{ByDay, Frequency, Rule, Until};

/// English name of a weekday.
pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// English name of a month (1–12).
pub fn month_name(month: u32) -> &'static str {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    usize::try_from(month)
        .ok()
        .and_then(|m| m.checked_sub(1))
        .and_then(|m| NAMES.get(m))
        .copied()
        .unwrap_or("?")
}

/// `1st`, `2nd`, `3rd`, `4th`, `11th`, `21st` …
pub fn ordinal_suffix(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn ordinal_word(n: i8) -> String {
    match n {
        1 => "first".into(),
        2 => "second".into(),
        3 => "third".into(),
        4 => "fourth".into(),
        5 => "fifth".into(),
        -1 => "last".into(),
        -2 => "second to last".into(),
        n if n > 0 => ordinal_suffix(n.unsigned_abs().into()),
        n => format!("{} to last", ordinal_suffix(n.unsigned_abs().into())),
    }
}

fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The unit of a frequency in English (`week` for WEEKLY).
pub(crate) fn unit_name(freq: Frequency) -> &'static str {
    unit(freq)
}

fn unit(freq: Frequency) -> &'static str {
    match freq {
        Frequency::Yearly => "year",
        Frequency::Monthly => "month",
        Frequency::Weekly => "week",
        Frequency::Daily => "day",
        Frequency::Hourly => "hour",
        Frequency::Minutely => "minute",
        Frequency::Secondly => "second",
    }
}

fn adverb(freq: Frequency) -> &'static str {
    match freq {
        Frequency::Yearly => "yearly",
        Frequency::Monthly => "monthly",
        Frequency::Weekly => "weekly",
        Frequency::Daily => "daily",
        Frequency::Hourly => "hourly",
        Frequency::Minutely => "every minute",
        Frequency::Secondly => "every second",
    }
}

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

/// Formats a time of day as `10 AM`, `10:30 AM`, `12 PM`.
pub fn format_time(t: NaiveTime) -> String {
    let (pm, h12) = t.hour12();
    let ampm = if pm { "PM" } else { "AM" };
    if t.minute() == 0 {
        format!("{h12} {ampm}")
    } else {
        format!("{h12}:{:02} {ampm}", t.minute())
    }
}

/// Formats a date as `Dec 31, 2026`.
pub fn format_date(d: NaiveDate) -> String {
    format!("{} {}, {}", &month_name(d.month())[..3], d.day(), d.year())
}

/// Concise English for a rule, e.g. `every 2 weeks on Monday and Wednesday`,
/// `monthly on the last Friday`, `yearly on March 3`, `every weekday`.
///
/// Rules that have no short English form (BYSETPOS, BYWEEKNO, BYYEARDAY, time parts …) are
/// described by frequency followed by the canonical RRULE in parentheses.
#[allow(
    clippy::too_many_lines,
    reason = "one branch per frequency, each with its English form"
)]
pub fn describe(rule: &Rule) -> String {
    let p = rule.parts();
    let simple_time = p.by_hour.is_empty() && p.by_minute.is_empty() && p.by_second.is_empty();
    let exotic = !p.by_set_pos.is_empty()
        || !p.by_week_no.is_empty()
        || !p.by_year_day.is_empty()
        || !simple_time
        || p.wkst != Weekday::Mon;
    let n = p.interval;
    let head = if n == 1 {
        adverb(p.freq).to_string()
    } else {
        format!("every {n} {}s", unit(p.freq))
    };
    let plain_days: Option<Vec<Weekday>> = p
        .by_day
        .iter()
        .map(|d| d.ordinal.is_none().then_some(d.weekday))
        .collect();
    let mut text = match (p.freq, exotic) {
        (_, true) => None,
        (Frequency::Weekly, false) if p.by_month.is_empty() && p.by_month_day.is_empty() => {
            match plain_days.as_deref() {
                Some([]) => Some(head.clone()),
                Some(days) if days == WEEKDAYS && n == 1 => Some("every weekday".to_string()),
                Some(days) if n == 1 => Some(format!(
                    "every {}",
                    join(
                        &days
                            .iter()
                            .map(|d| weekday_name(*d).to_string())
                            .collect::<Vec<_>>()
                    )
                )),
                Some(days) => Some(format!(
                    "{head} on {}",
                    join(
                        &days
                            .iter()
                            .map(|d| weekday_name(*d).to_string())
                            .collect::<Vec<_>>()
                    )
                )),
                None => None,
            }
        }
        (Frequency::Monthly, false) if p.by_month.is_empty() => {
            match (p.by_month_day.is_empty(), p.by_day.as_slice()) {
                (true, []) => Some(head.clone()),
                (false, []) => Some(format!("{head} on the {}", month_days(&p.by_month_day))),
                (true, days) if days.iter().all(|d| d.ordinal.is_some()) => {
                    Some(format!("{head} on the {}", nth_days(days)))
                }
                _ => None,
            }
        }
        (Frequency::Yearly, false) => match (
            p.by_month.as_slice(),
            p.by_month_day.as_slice(),
            p.by_day.as_slice(),
        ) {
            ([], [], []) => Some(head.clone()),
            ([m], [d], []) if *d > 0 => {
                Some(format!("{head} on {} {d}", month_name(u32::from(*m))))
            }
            ([m], [], days) if days.iter().all(|d| d.ordinal.is_some()) => Some(format!(
                "{head} on the {} of {}",
                nth_days(days),
                month_name(u32::from(*m))
            )),
            _ => None,
        },
        (
            Frequency::Daily | Frequency::Hourly | Frequency::Minutely | Frequency::Secondly,
            false,
        ) if p.by_day.is_empty() && p.by_month.is_empty() && p.by_month_day.is_empty() => {
            Some(head.clone())
        }
        _ => None,
    }
    .unwrap_or_else(|| format!("{head} ({})", rule.to_canonical_string()));
    if let Some(count) = p.count {
        if count == 1 {
            text.push_str(", once");
        } else {
            text.push_str(&format!(", {count} times"));
        }
    }
    if let Some(until) = p.until {
        let date = match until {
            Until::Date(d) => d,
            Until::Local(t) | Until::Utc(t) => t.date(),
        };
        text.push_str(&format!(" until {}", format_date(date)));
    }
    text
}

fn month_days(days: &[i8]) -> String {
    let items: Vec<String> = days
        .iter()
        .map(|d| match *d {
            -1 => "last day".to_string(),
            d if d > 0 => ordinal_suffix(u32::from(d.unsigned_abs())),
            d => format!(
                "{} to last day",
                ordinal_suffix(u32::from(d.unsigned_abs()))
            ),
        })
        .collect();
    join(&items)
}

fn nth_days(days: &[ByDay]) -> String {
    let items: Vec<String> = days
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                ordinal_word(d.ordinal.unwrap_or(1)),
                weekday_name(d.weekday)
            )
        })
        .collect();
    join(&items)
}
