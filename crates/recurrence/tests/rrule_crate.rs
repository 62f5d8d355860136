//! Differential test against the `rrule` crate (a port of the same dateutil algorithm): on
//! legal rules in wall-clock time both expansions must agree. The `rrule` crate is only a
//! reference here; our expander is what the platform uses, because the crate (measured on the
//! shared vectors) rejects legal inputs (`INTERVAL=90061`, UNTIL before DTSTART, a DTSTART or
//! EXDATE in a DST gap or overlap), resolves DST gaps differently (drops an occurrence in a gap
//! at local midnight), expands floating rules in the server's zone, and its serializer turns
//! `BYDAY=1MO` into `MO`. Comparing in UTC-as-wall-clock sidesteps all time-zone behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration, NaiveDate, NaiveDateTime, Weekday};
use proptest::prelude::*;
use recurrence::expand::RuleIter;
use recurrence::{ByDay, Frequency, Rule, RuleParts};

fn weekday(i: u8) -> Weekday {
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
    fn dtstart()(days in 0i64..(60 * 365), secs in 0i64..86_400) -> NaiveDateTime {
        let base = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        base + Duration::days(days) + Duration::seconds(secs - secs % 60)
    }
}

/// RFC-legal rules whose BYxxx parts can always be satisfied within a few years (no
/// "30 February", no week 30 in February, no "last Friday that is also the 3rd"), so that a
/// test never has to walk to year 9999 to learn that a rule is empty.
fn rule() -> impl Strategy<Value = Rule> {
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

fn rrule_crate(rule: &Rule, start: NaiveDateTime, n: u16) -> Option<Vec<NaiveDateTime>> {
    let text = format!(
        "DTSTART:{}Z\nRRULE:{}",
        start.format("%Y%m%dT%H%M%S"),
        rule.to_canonical_string()
    );
    let set: rrule::RRuleSet = text.parse().ok()?;
    let result = set.all(n);
    Some(result.dates.iter().map(|d| d.naive_utc()).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn same_occurrences_as_the_rrule_crate(rule in rule(), start in dtstart()) {
        // Sub-daily rules are left out: there the crate skips occurrences, e.g.
        // FREQ=MINUTELY;BYMONTH=5;BYHOUR=1 from 2023-05-31T01:21 continues at 2024-05-11T01:00
        // where python-dateutil and we continue at 2024-05-01T01:00 (see the test below).
        prop_assume!(rule.freq() <= Frequency::Daily);
        if let Some(theirs) = rrule_crate(&rule, start, 40) {
            let ours: Vec<NaiveDateTime> = RuleIter::new(&rule, start).take(theirs.len()).collect();
            prop_assert_eq!(ours, theirs, "{}", rule);
        }
    }
}

#[test]
fn sub_daily_filtered_days_follow_dateutil_not_the_rrule_crate() {
    let rule = Rule::parse("FREQ=MINUTELY;BYMONTH=5;BYHOUR=1").unwrap();
    let start = NaiveDate::from_ymd_opt(2023, 5, 31)
        .unwrap()
        .and_hms_opt(1, 21, 0)
        .unwrap();
    let ours: Vec<NaiveDateTime> = RuleIter::new(&rule, start).skip(38).take(2).collect();
    // python-dateutil 2.9.0: [2023-05-31 01:59, 2024-05-01 01:00]
    let may_first = NaiveDate::from_ymd_opt(2024, 5, 1)
        .unwrap()
        .and_hms_opt(1, 0, 0)
        .unwrap();
    assert_eq!(ours[1], may_first);
    let theirs = rrule_crate(&rule, start, 40).unwrap();
    assert_ne!(
        theirs[39], may_first,
        "the rrule crate was fixed; the comment above can go"
    );
}
