//! Natural language both ways: the seed phrases parse to the expected rules, and describing
//! a parsed phrase gives text that parses back to the same value.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use recurrence::phrase::PhraseUntil;
use recurrence::{describe, parse_phrase, preset, Rule, Zone};

fn rule(text: &str) -> String {
    parse_phrase(text, Zone::UTC)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .rule
        .to_canonical_string()
}

#[test]
fn seed_phrases() {
    let cases = [
        ("daily", "FREQ=DAILY"),
        (
            "every Monday, Wednesday, Friday at 10 AM",
            "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        ),
        (
            "every 2 weeks on Monday and Wednesday",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE",
        ),
        ("monthly on the 1st", "FREQ=MONTHLY;BYMONTHDAY=1"),
        ("every month on the last Friday", "FREQ=MONTHLY;BYDAY=-1FR"),
        ("yearly on March 3", "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3"),
        ("every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ("every 3 days until Dec 31", "FREQ=DAILY;INTERVAL=3"),
    ];
    for (phrase, expected) in cases {
        assert_eq!(rule(phrase), expected, "{phrase}");
    }
}

#[test]
fn times_and_end_dates() {
    let p = parse_phrase("every Monday, Wednesday, Friday at 10 AM", Zone::UTC).unwrap();
    assert_eq!(p.time, NaiveTime::from_hms_opt(10, 0, 0));
    let p = parse_phrase("every 3 days until Dec 31", Zone::UTC).unwrap();
    assert_eq!(p.until, Some(PhraseUntil::MonthDay { month: 12, day: 31 }));
    let p = parse_phrase("daily at 9:30pm until 2026-12-31", Zone::UTC).unwrap();
    assert_eq!(p.time, NaiveTime::from_hms_opt(21, 30, 0));
    assert_eq!(
        p.until,
        Some(PhraseUntil::Date(
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        ))
    );
    let p = parse_phrase("weekly on Tuesday 5 times", Zone::UTC).unwrap();
    assert_eq!(p.rule.to_canonical_string(), "FREQ=WEEKLY;COUNT=5;BYDAY=TU");
}

#[test]
fn describer_output() {
    let cases = [
        ("FREQ=DAILY", "daily"),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE",
            "every 2 weeks on Monday and Wednesday",
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO,WE,FR",
            "every Monday, Wednesday and Friday",
        ),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "every weekday"),
        ("FREQ=MONTHLY;BYMONTHDAY=1", "monthly on the 1st"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "monthly on the last Friday"),
        ("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3", "yearly on March 3"),
        ("FREQ=DAILY;INTERVAL=3;COUNT=4", "every 3 days, 4 times"),
        ("FREQ=MONTHLY;BYDAY=2TU", "monthly on the second Tuesday"),
        (
            "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
            "yearly on the fourth Thursday of November",
        ),
    ];
    for (rrule, english) in cases {
        let r = Rule::parse(rrule).unwrap();
        assert_eq!(describe(&r), english, "{rrule}");
    }
    // Rules without a short English form still say something true.
    let r = Rule::parse("FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO").unwrap();
    assert_eq!(describe(&r), "yearly (FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO)");
}

#[test]
fn phrase_round_trips() {
    let phrases = [
        "daily",
        "every Monday, Wednesday, Friday at 10 AM",
        "every 2 weeks on Monday and Wednesday",
        "monthly on the 1st",
        "every month on the last Friday",
        "yearly on March 3",
        "every weekday",
        "every 3 days until Dec 31",
        "every other week on Tuesday at 7:45 PM",
        "monthly on the 1st and 15th at noon",
        "every 6 months on the last day",
        "every year on the first Monday of September",
        "hourly, 3 times",
        "weekly until 2027-01-31",
        "every weekend at 8 AM",
    ];
    for phrase in phrases {
        let parsed = parse_phrase(phrase, Zone::UTC).unwrap_or_else(|e| panic!("{phrase}: {e}"));
        let text = parsed.describe();
        let again = parse_phrase(&text, Zone::UTC).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(parsed, again, "{phrase} -> {text}");
        // Describing is a fixed point after one step.
        assert_eq!(again.describe(), text);
    }
}

#[test]
fn describe_then_parse_is_identity_for_describable_rules() {
    for rrule in [
        "FREQ=DAILY",
        "FREQ=DAILY;INTERVAL=2",
        "FREQ=WEEKLY",
        "FREQ=WEEKLY;BYDAY=SA,SU",
        "FREQ=WEEKLY;INTERVAL=3;BYDAY=TU,TH",
        "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=-1",
        "FREQ=MONTHLY;BYDAY=1MO,-1FR",
        "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=HOURLY;INTERVAL=4",
        "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=15",
    ] {
        let r = Rule::parse(rrule).unwrap();
        let english = describe(&r);
        let back = parse_phrase(&english, Zone::UTC).unwrap_or_else(|e| panic!("{english}: {e}"));
        assert_eq!(back.rule, r, "{rrule} -> {english}");
    }
}

#[test]
fn bad_phrases_are_errors() {
    for bad in [
        "",
        "every",
        "sometimes",
        "every 0 days",
        "monthly on the 32nd",
        "daily at 25:00",
        "every 2 mondays",
    ] {
        assert!(parse_phrase(bad, Zone::UTC).is_err(), "{bad:?} should fail");
    }
}

#[test]
fn phrase_to_series_picks_a_matching_dtstart_and_checks_the_end_date() {
    let tz = Zone::parse("America/New_York").unwrap();
    let now = Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap(); // Wednesday 07:00 EST
    let p = parse_phrase("every Monday, Wednesday, Friday at 10 AM", tz).unwrap();
    let s = p.to_series(now).unwrap();
    assert_eq!(
        s.dtstart,
        NaiveDate::from_ymd_opt(2026, 3, 4)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap()
    );
    let p = parse_phrase("daily until 2026-01-01", tz).unwrap();
    assert_eq!(
        p.to_series(now).unwrap_err().to_string(),
        "End date must be in the future"
    );
    let p = parse_phrase("every 3 days until Dec 31", tz).unwrap();
    let s = p.to_series(now).unwrap();
    let last = s.occurrences().last().unwrap();
    assert_eq!(
        last.local.date(),
        NaiveDate::from_ymd_opt(2026, 12, 29).unwrap()
    );
}

#[test]
fn presets() {
    assert_eq!(preset("daily").unwrap().to_canonical_string(), "FREQ=DAILY");
    assert_eq!(
        preset("Weekly").unwrap().to_canonical_string(),
        "FREQ=WEEKLY"
    );
    assert_eq!(
        preset("monthly").unwrap().to_canonical_string(),
        "FREQ=MONTHLY"
    );
    assert_eq!(
        preset("yearly").unwrap().to_canonical_string(),
        "FREQ=YEARLY"
    );
    assert_eq!(
        preset("weekdays").unwrap().to_canonical_string(),
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    );
    assert!(preset("fortnightly").is_none());
}
