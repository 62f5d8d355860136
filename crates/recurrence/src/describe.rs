//! Rule → concise English ("every 2 weeks on Monday and Wednesday"). The output is accepted
//! by [`crate::parse_phrase`] for every rule the phrase parser can produce.

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike, Weekday};

use crate::rule::{ByDay, Frequency, Rule, RuleParts, Until};

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
/// `monthly on the last Friday`, `yearly on March 3`, `every weekday`, `monthly on the last
/// weekday`, `yearly in March and September on the 10th`.
///
/// Rules that have no short English form (BYWEEKNO, BYYEARDAY, time parts, other BYSETPOS …)
/// are described by frequency followed by the canonical RRULE in parentheses.
pub fn describe(rule: &Rule) -> String {
    let p = rule.parts();
    let n = p.interval;
    let head = if n == 1 {
        adverb(p.freq).to_string()
    } else {
        format!("every {n} {}s", unit(p.freq))
    };
    let mut text = short_form(p, &head)
        .or_else(|| general_form(p, &head))
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

fn weekday_list(days: &[Weekday]) -> String {
    join(
        &days
            .iter()
            .map(|d| weekday_name(*d).to_string())
            .collect::<Vec<_>>(),
    )
}

fn month_list(months: &[u8]) -> String {
    join(
        &months
            .iter()
            .map(|m| month_name(u32::from(*m)).to_string())
            .collect::<Vec<_>>(),
    )
}

/// The forms people say: weekly day lists, `every weekday`, `yearly on March 3`, `yearly on the
/// fourth Thursday of November`.
fn short_form(p: &RuleParts, head: &str) -> Option<String> {
    if exotic(p) || !p.by_set_pos.is_empty() {
        return None;
    }
    let n = p.interval;
    let (plain, nth) = day_kinds(p);
    match (p.freq, p.by_month.as_slice(), p.by_month_day.as_slice()) {
        (Frequency::Weekly, [], []) => match plain.as_deref()? {
            [] => Some(head.to_string()),
            days if days == WEEKDAYS && n == 1 => Some("every weekday".to_string()),
            days if n == 1 => Some(format!("every {}", weekday_list(days))),
            days => Some(format!("{head} on {}", weekday_list(days))),
        },
        (Frequency::Yearly, [m], [d]) if *d > 0 && p.by_day.is_empty() => {
            Some(format!("{head} on {} {d}", month_name(u32::from(*m))))
        }
        (Frequency::Yearly, months, []) if nth && !months.is_empty() => Some(format!(
            "{head} on the {} of {}",
            nth_days(&p.by_day),
            month_list(months)
        )),
        _ => None,
    }
}

/// Parts the English forms do not cover.
/// The rule's weekdays when none has an ordinal (`Some`), and whether every one has one
/// (`1MO`, `-1FR`): the two shapes the descriptions distinguish.
fn day_kinds(p: &RuleParts) -> (Option<Vec<Weekday>>, bool) {
    let plain = p
        .by_day
        .iter()
        .map(|d| d.ordinal.is_none().then_some(d.weekday))
        .collect();
    let nth = !p.by_day.is_empty() && p.by_day.iter().all(|d| d.ordinal.is_some());
    (plain, nth)
}

fn exotic(p: &RuleParts) -> bool {
    !p.by_week_no.is_empty()
        || !p.by_year_day.is_empty()
        || !p.by_hour.is_empty()
        || !p.by_minute.is_empty()
        || !p.by_second.is_empty()
        || p.wkst != Weekday::Mon
}

/// `{head} [in <months>] [on <days>]` for everything else with an English form.
fn general_form(p: &RuleParts, head: &str) -> Option<String> {
    if exotic(p) {
        return None;
    }
    let mut text = head.to_string();
    if !p.by_month.is_empty() {
        text.push_str(&format!(" in {}", month_list(&p.by_month)));
    }
    let (plain, nth) = day_kinds(p);
    let days = match (
        p.by_day.as_slice(),
        p.by_month_day.as_slice(),
        p.by_set_pos.as_slice(),
    ) {
        ([], [], []) => None,
        (_, [], [pos]) if plain.as_deref() == Some(WEEKDAYS.as_slice()) => {
            let pos = i8::try_from(*pos).ok().filter(|x| (-5..=5).contains(x))?;
            Some(format!("the {} weekday", ordinal_word(pos)))
        }
        (_, _, [_, ..]) => return None,
        ([], mdays, []) => Some(format!("the {}", month_days(mdays))),
        (days, [], []) if nth && p.freq != Frequency::Weekly => {
            Some(format!("the {}", nth_days(days)))
        }
        (_, [], []) if p.freq != Frequency::Daily => plain.as_deref().map(weekday_list),
        _ => return None,
    };
    if let Some(days) = days {
        text.push_str(" on ");
        text.push_str(&days);
    }
    Some(text)
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
