//! Generators shared by the property tests: weekdays, DTSTARTs and RFC-legal rules.
#![allow(dead_code, clippy::unwrap_used)]

use chrono::{Duration, NaiveDate, NaiveDateTime, Weekday};
use proptest::prelude::*;
use recurrence::{ByDay, Frequency, Rule, RuleParts};

/// Weekday by index, Monday first.
pub fn weekday(i: u8) -> Weekday {
    match i % 7 {
        0 => Weekday::Mon,
        1 => Weekday::Tue,
        2 => Weekday::Wed,
        3 => Weekday::Thu,
        4 => Weekday::Fri,
        5 => Weekday::Sat,
        _ => Weekday::Sun,
    }
}

prop_compose! {
    /// A minute-aligned DTSTART between 1990 and 2050.
    pub fn dtstart()(days in 0i64..(60 * 365), secs in 0i64..86_400) -> NaiveDateTime {
        let base = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        base + Duration::days(days) + Duration::seconds(secs - secs % 60)
    }
}

/// RFC-legal rules whose BYxxx parts can always be satisfied within a few years (no
/// "30 February", no week 30 in February, no "last Friday that is also the 3rd"), so that a
/// test never has to walk to year 9999 to learn that a rule is empty.
pub fn rule() -> impl Strategy<Value = Rule> {
    (
        0u8..6,
        1u32..5,
        prop::option::of(1u32..40),
        prop::collection::vec(0u8..7, 0..4),
        prop::collection::vec(prop_oneof![1i8..=28, -28i8..=-1], 0..3),
        prop::collection::vec(1u8..=12, 0..3),
        prop::collection::vec(0u8..24, 0..3),
        prop::collection::vec(0u8..60, 0..2),
        prop::option::of(prop_oneof![1i8..=4, -2i8..=-1]),
        prop::option::of(prop_oneof![1i16..=3, -2i16..=-1]),
        prop::collection::vec(prop_oneof![1i8..=52, -3i8..=-1], 0..2),
        0u8..7,
    )
        .prop_filter_map(
            "illegal combination",
            |(
                f,
                interval,
                count,
                days,
                mdays,
                months,
                hours,
                minutes,
                nth,
                setpos,
                weeknos,
                wkst,
            )| {
                let freq = match f {
                    0 => Frequency::Yearly,
                    1 => Frequency::Monthly,
                    2 => Frequency::Weekly,
                    3 => Frequency::Daily,
                    4 => Frequency::Hourly,
                    _ => Frequency::Minutely,
                };
                let mut p = RuleParts::new(freq);
                p.interval = interval;
                p.count = count;
                let nth = nth.filter(|_| matches!(freq, Frequency::Monthly | Frequency::Yearly));
                match nth {
                    Some(n) => p.by_day = vec![ByDay::nth(n, weekday(n.unsigned_abs()))],
                    None => p.by_day = days.into_iter().map(|d| ByDay::every(weekday(d))).collect(),
                }
                let weekno = freq == Frequency::Yearly && nth.is_none() && !weeknos.is_empty();
                if freq != Frequency::Weekly && nth.is_none() && !weekno {
                    p.by_month_day = mdays;
                }
                if !weekno {
                    p.by_month = months;
                }
                if freq < Frequency::Hourly || interval == 1 {
                    p.by_hour = hours;
                }
                if freq < Frequency::Minutely || interval == 1 {
                    p.by_minute = minutes;
                }
                if weekno {
                    p.by_week_no = weeknos;
                }
                if let Some(sp) = setpos {
                    if p.has_by_parts() {
                        p.by_set_pos = vec![sp];
                    }
                }
                p.wkst = weekday(wkst);
                Rule::from_parts(p).ok()
            },
        )
}
