//! Property tests over generated RFC-legal rules and series.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::{dtstart, rule, weekday};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;
use recurrence::expand::RuleIter;
use recurrence::{ByDay, Frequency, Rule, RuleParts, Series, Until, Zone};

const ZONES: [&str; 6] = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Sao_Paulo",
];

fn zone() -> impl Strategy<Value = Zone> {
    prop_oneof![
        1 => Just(Zone::Floating),
        5 => (0usize..ZONES.len()).prop_map(|i| Zone::parse(ZONES[i]).unwrap()),
    ]
}

fn series() -> impl Strategy<Value = Series> {
    (rule(), dtstart(), zone(), prop::option::of(30i64..3000)).prop_map(
        |(rule, start, tz, until_days)| {
            let mut parts = rule.into_parts();
            if parts.count.is_none() {
                if let Some(days) = until_days {
                    let end = start + Duration::days(days);
                    parts.until = Some(match tz {
                        Zone::Floating => Until::Local(end),
                        Zone::Tz(_) => Until::Utc(end),
                    });
                }
            }
            let rule = Rule::from_parts(parts).unwrap();
            Series::new(rule, start, tz)
        },
    )
}

fn until_instant(s: &Series) -> Option<DateTime<Utc>> {
    s.rule.as_ref()?.until().map(|u| match u {
        Until::Utc(t) | Until::Local(t) => t.and_utc(),
        Until::Date(d) => d.and_hms_opt(0, 0, 0).unwrap().and_utc(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn fast_path_equals_general_expansion(
        weekly in any::<bool>(),
        interval in 1u32..4,
        count in prop::option::of(1u32..60),
        days in prop::collection::vec(0u8..7, 0..4),
        hours in prop::collection::vec(0u8..24, 0..3),
        wkst in 0u8..7,
        start in dtstart(),
    ) {
        let mut p = RuleParts::new(if weekly { Frequency::Weekly } else { Frequency::Daily });
        p.interval = interval;
        p.count = count;
        p.by_day = days.into_iter().map(|d| ByDay::every(weekday(d))).collect();
        p.by_hour = hours;
        p.wkst = weekday(wkst);
        let rule = Rule::from_parts(p).unwrap();
        let fast: Vec<_> = RuleIter::new(&rule, start).take(300).collect();
        let general: Vec<_> = RuleIter::general(&rule, start).take(300).collect();
        prop_assert_eq!(fast, general);
        // Starting near a later instant agrees with the full walk.
        if count.is_none() {
            let target = start + Duration::days(400);
            let near: Vec<_> = RuleIter::starting_near(&rule, start, Some(target))
                .filter(|t| *t >= target)
                .take(50)
                .collect();
            let full: Vec<_> = RuleIter::general(&rule, start)
                .filter(|t| *t >= target)
                .take(50)
                .collect();
            prop_assert_eq!(near, full);
        }
    }

    #[test]
    fn writer_after_parser_is_identity_on_canonical_text(rule in rule()) {
        let text = rule.to_canonical_string();
        let parsed = Rule::parse(&text).unwrap();
        prop_assert_eq!(&parsed, &rule);
        prop_assert_eq!(parsed.to_canonical_string(), text.clone());
        let prefixed = Rule::parse(&format!("RRULE:{text}")).unwrap();
        prop_assert_eq!(prefixed, rule);
    }

    #[test]
    fn occurrences_increase_and_respect_count_and_until(s in series()) {
        let occ: Vec<_> = s.occurrences().take(200).collect();
        for w in occ.windows(2) {
            prop_assert!(w[0].local < w[1].local, "{} !< {}", w[0].local, w[1].local);
            if matches!(s.tz, Zone::Floating) || s.tz.is_utc() {
                prop_assert!(w[0].instant < w[1].instant);
            }
        }
        let rule = s.rule.as_ref().unwrap();
        if let Some(count) = rule.count() {
            prop_assert!(occ.len() <= count as usize);
        }
        if let Some(until) = until_instant(&s) {
            for o in &occ {
                let key = if s.tz == Zone::Floating { o.local.and_utc() } else { o.instant };
                prop_assert!(key <= until, "{} after UNTIL {}", key, until);
            }
        }
        for o in &occ {
            prop_assert!(o.local >= s.dtstart);
        }
    }

    #[test]
    fn next_after_is_the_first_of_the_window_after_t(s in series(), offset_days in -30i64..1500, secs in 0i64..86_400) {
        let t = s.dtstart.and_utc() + Duration::days(offset_days) + Duration::seconds(secs);
        // Reference: walk the series from the start (bounded).
        let reference = s
            .occurrences()
            .take(5_000)
            .find(|o| o.instant > t)
            .map(|o| o.instant);
        if reference.is_some() || s.occurrences().take(5_000).count() < 5_000 {
            prop_assert_eq!(s.next_after(t), reference);
        }
        let listed = s.next_n_after(t, 25);
        let walked: Vec<_> = s
            .occurrences()
            .take(5_000)
            .filter(|o| o.instant > t)
            .take(25)
            .map(|o| o.instant)
            .collect();
        if walked.len() == 25 || s.occurrences().take(5_000).count() < 5_000 {
            prop_assert_eq!(listed, walked);
        }
        if let Some(next) = reference {
            let window = s.between(t + Duration::seconds(1), next + Duration::seconds(1));
            if next > t + Duration::seconds(1) {
                prop_assert_eq!(window.first().copied(), Some(next));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// The batch resolver gives exactly the per-time policy result, including across DST
    /// gaps and overlaps (steps of minutes to weeks, around transition dates).
    #[test]
    fn resolver_matches_to_instant(
        zone in 0usize..ZONES.len(),
        start in dtstart(),
        steps in prop::collection::vec(prop_oneof![1i64..120, 1i64..4000, 1i64..40_000], 1..200),
    ) {
        let tz = Zone::parse(ZONES[zone]).unwrap();
        let mut resolver = recurrence::tz::Resolver::new(tz);
        let mut t = start;
        for step in steps {
            t += Duration::minutes(step);
            prop_assert_eq!(resolver.resolve(t), recurrence::tz::to_instant(t, tz), "{}", t);
        }
    }
}

#[test]
fn resolver_matches_to_instant_through_every_transition_2024_2027() {
    for name in ZONES {
        let tz = Zone::parse(name).unwrap();
        for step_minutes in [15, 30, 60, 24 * 60 + 30, 7 * 24 * 60] {
            let mut resolver = recurrence::tz::Resolver::new(tz);
            let mut t = NaiveDate::from_ymd_opt(2024, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap();
            let end = NaiveDate::from_ymd_opt(2027, 12, 31)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap();
            while t < end {
                assert_eq!(
                    resolver.resolve(t),
                    recurrence::tz::to_instant(t, tz),
                    "{name} {t}"
                );
                t += Duration::minutes(step_minutes);
            }
        }
    }
}
