//! VTIMEZONE components (RFC 5545 §3.6.5) for the zones a calendar uses: every `TZID` parameter
//! must name one in the same calendar, so that a reader without the IANA database (e.g. ical.js)
//! places the times correctly. Written as the zone's actual transitions over a span of years
//! (one STANDARD or DAYLIGHT sub-component per transition, each with its onset in the local time
//! before it), found from `chrono-tz`, so no rule has to be guessed.

use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

use crate::ical::fold_into;

/// One change of a zone's offset.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Transition {
    /// The first instant of the new offset.
    at: DateTime<Utc>,
    /// Offset before, seconds east of UTC.
    from: i32,
    /// Offset after.
    to: i32,
    /// True when the new offset is daylight time.
    daylight: bool,
    /// Abbreviation after the change (`EDT`).
    name: String,
}

fn offset_at(tz: Tz, t: DateTime<Utc>) -> (i32, bool, String) {
    let o = tz.offset_from_utc_datetime(&t.naive_utc());
    let name = o.abbreviation().unwrap_or_default().to_string();
    (o.fix().local_minus_utc(), !o.dst_offset().is_zero(), name)
}

/// The transitions of `tz` from the start of year `from` to the end of year `to`, to the
/// second: a day-by-day scan, then a binary search inside each day whose offset changed.
fn transitions(tz: Tz, from: i32, to: i32) -> Vec<Transition> {
    let Some(start) = NaiveDate::from_ymd_opt(from, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0))
    else {
        return Vec::new();
    };
    let mut t = start.and_utc();
    let end = NaiveDate::from_ymd_opt(to + 1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(t, |e| e.and_utc());
    let mut out = Vec::new();
    let mut before = offset_at(tz, t);
    while t < end {
        let next = t + Duration::days(1);
        let after = offset_at(tz, next);
        if after.0 != before.0 || after.1 != before.1 {
            // Seconds since the epoch: the change is at `hi`, the last second before it `lo`.
            let (mut lo, mut hi) = (t.timestamp(), next.timestamp());
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let m = DateTime::from_timestamp(mid, 0).unwrap_or(t);
                let o = offset_at(tz, m);
                if o.0 == before.0 && o.1 == before.1 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let hi = DateTime::from_timestamp(hi, 0).unwrap_or(next);
            out.push(Transition {
                at: hi,
                from: before.0,
                to: after.0,
                daylight: after.1,
                name: after.2.clone(),
            });
            before = after;
        }
        t = next;
    }
    out
}

fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{:02}{:02}", s / 3600, (s % 3600) / 60)
}

/// The VTIMEZONE of `tz` valid from year `from` through year `to`: the offset in force at the
/// start, then every transition, each line folded.
pub fn vtimezone(tz: Tz, from: i32, to: i32) -> String {
    let mut lines = vec!["BEGIN:VTIMEZONE".to_string(), format!("TZID:{}", tz.name())];
    let start = NaiveDate::from_ymd_opt(from, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc());
    if let Some(start) = start {
        let (offset, daylight, name) = offset_at(tz, start);
        let local = start + Duration::seconds(i64::from(offset));
        lines.extend(component(daylight, local, offset, offset, &name));
    }
    for t in transitions(tz, from, to) {
        // The onset is given in the local time in force before it (§3.8.2.4 with TZOFFSETFROM).
        let local = t.at + Duration::seconds(i64::from(t.from));
        lines.extend(component(t.daylight, local, t.from, t.to, &t.name));
    }
    lines.push("END:VTIMEZONE".to_string());
    let mut out = String::new();
    for l in &lines {
        fold_into(l, &mut out);
    }
    out
}

fn component(daylight: bool, local: DateTime<Utc>, from: i32, to: i32, name: &str) -> Vec<String> {
    let kind = if daylight { "DAYLIGHT" } else { "STANDARD" };
    let mut lines = vec![
        format!("BEGIN:{kind}"),
        format!("DTSTART:{}", local.format("%Y%m%dT%H%M%S")),
        format!("TZOFFSETFROM:{}", utc_offset(from)),
        format!("TZOFFSETTO:{}", utc_offset(to)),
    ];
    if !name.is_empty() {
        lines.push(format!("TZNAME:{name}"));
    }
    lines.push(format!("END:{kind}"));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_york_2027_has_its_two_changes_at_two_in_the_morning_local() {
        let tz: Tz = "America/New_York".parse().expect("zone");
        let t = transitions(tz, 2027, 2027);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].at.to_rfc3339(), "2027-03-14T07:00:00+00:00");
        assert_eq!(
            (t[0].from, t[0].to, t[0].daylight),
            (-5 * 3600, -4 * 3600, true)
        );
        assert_eq!(t[1].at.to_rfc3339(), "2027-11-07T06:00:00+00:00");
        let v = vtimezone(tz, 2027, 2027);
        assert!(v.contains("BEGIN:DAYLIGHT\r\nDTSTART:20270314T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\n"), "{v}");
        assert!(v.contains("BEGIN:STANDARD\r\nDTSTART:20271107T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\n"), "{v}");
    }

    #[test]
    fn a_zone_without_changes_has_only_its_offset() {
        let v = vtimezone(Tz::UTC, 2027, 2030);
        assert_eq!(v.matches("BEGIN:STANDARD").count(), 1);
        assert!(v.contains("TZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000"));
        let kolkata = vtimezone("Asia/Kolkata".parse().expect("zone"), 2027, 2027);
        assert!(kolkata.contains("TZOFFSETTO:+0530"));
    }
}
