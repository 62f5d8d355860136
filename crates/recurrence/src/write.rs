//! The canonical RRULE writer. We never store another library's serialisation: this writer
//! keeps ordinals (`BYDAY=1MO`), writes parts in one fixed order and omits defaults.

use std::fmt::Write;

use chrono::{NaiveDate, NaiveDateTime};

use crate::parts::{weekday_code, RuleParts, Until};

/// Writes parts in canonical form (no `RRULE:` prefix). Lists are written in the order given;
/// a validated [`crate::Rule`] keeps them sorted and deduplicated.
pub fn write_rule(p: &RuleParts) -> String {
    let mut out = String::with_capacity(48);
    out.push_str("FREQ=");
    out.push_str(p.freq.as_str());
    if p.interval != 1 {
        let _ = write!(out, ";INTERVAL={}", p.interval);
    }
    if let Some(count) = p.count {
        let _ = write!(out, ";COUNT={count}");
    }
    if let Some(until) = p.until {
        out.push_str(";UNTIL=");
        match until {
            Until::Date(d) => out.push_str(&format_date(d)),
            Until::Local(t) => out.push_str(&format_datetime(t)),
            Until::Utc(t) => {
                out.push_str(&format_datetime(t));
                out.push('Z');
            }
        }
    }
    list(&mut out, "BYMONTH", &p.by_month);
    list(&mut out, "BYWEEKNO", &p.by_week_no);
    list(&mut out, "BYYEARDAY", &p.by_year_day);
    list(&mut out, "BYMONTHDAY", &p.by_month_day);
    list(&mut out, "BYDAY", &p.by_day);
    list(&mut out, "BYHOUR", &p.by_hour);
    list(&mut out, "BYMINUTE", &p.by_minute);
    list(&mut out, "BYSECOND", &p.by_second);
    list(&mut out, "BYSETPOS", &p.by_set_pos);
    if p.wkst != chrono::Weekday::Mon {
        out.push_str(";WKST=");
        out.push_str(weekday_code(p.wkst));
    }
    out
}

fn list<T: std::fmt::Display>(out: &mut String, name: &str, values: &[T]) {
    if values.is_empty() {
        return;
    }
    out.push(';');
    out.push_str(name);
    out.push('=');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{v}");
    }
}

/// `YYYYMMDD`
pub fn format_date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// `YYYYMMDDTHHMMSS`
pub fn format_datetime(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}
