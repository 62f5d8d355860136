//! Stable-toolchain "fuzz smoke": the same entry points as the cargo-fuzz target in `fuzz/`
//! (rule parser, phrase parser, iCalendar reader) get arbitrary text and must never panic.
//! Accepted rules must also survive a canonical round-trip and a short expansion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use recurrence::{parse_phrase, Rule, Series, Zone};

fn check(text: &str) {
    if let Ok(rule) = Rule::parse(text) {
        let canonical = rule.to_canonical_string();
        let again = Rule::parse(&canonical).expect("canonical text parses");
        assert_eq!(again, rule);
        let start = chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
            .and_then(|d| d.and_hms_opt(23, 30, 0))
            .expect("valid date");
        let s = Series::new(rule, start, Zone::parse("America/New_York").expect("zone"));
        let _ = s.occurrences().take(50).count();
        let _ = recurrence::describe(s.rule.as_ref().expect("rule"));
    }
    let _ = parse_phrase(text, Zone::UTC).map(|p| p.describe());
    let _ = Series::from_vtodo(text);
    let _ = recurrence::ical::parse_recurrence(text);
}

fn rruleish() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        Just("FREQ=DAILY".to_string()),
        Just("FREQ=YEARLY".to_string()),
        Just("FREQ=MONTHLY".to_string()),
        Just("FREQ=WEEKLY".to_string()),
        Just("FREQ=HOURLY".to_string()),
        "INTERVAL=-?[0-9]{0,12}",
        "COUNT=[0-9]{0,5}",
        "UNTIL=[0-9T]{0,17}Z?",
        "BYDAY=([+-]?[0-9]{0,2}(MO|TU|WE|TH|FR|SA|SU|XX),?){0,4}",
        "BYMONTHDAY=(-?[0-9]{1,3},?){0,3}",
        "BYYEARDAY=(-?[0-9]{1,3},?){0,3}",
        "BYWEEKNO=(-?[0-9]{1,2},?){0,3}",
        "BYMONTH=([0-9]{1,2},?){0,3}",
        "BYSETPOS=(-?[0-9]{1,3},?){0,2}",
        "BYHOUR=([0-9]{1,2},?){0,3}",
        "BYMINUTE=([0-9]{1,2},?){0,2}",
        "BYSECOND=([0-9]{1,2},?){0,2}",
        "WKST=(MO|SU|XX)",
        "[A-Z]{1,8}=[A-Z0-9,]{0,6}",
    ];
    prop::collection::vec(part, 0..7).prop_map(|v| v.join(";"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn rrule_like_text_never_panics(text in rruleish()) {
        check(&text);
        check(&format!("RRULE:{text}"));
        check(&format!("BEGIN:VTODO\nDTSTART;TZID=Europe/Berlin:20260329T023000\nRRULE:{text}\nEND:VTODO"));
    }

    #[test]
    fn phrase_like_text_never_panics(text in "(every|daily|monthly|on|the|at|until|last|[0-9]{1,3}(st|nd|th)?|[0-9]{1,2}(:[0-9]{2})?(am|pm)?|monday|fri|march|dec|,|and|times| ){0,10}") {
        check(&text);
    }
}
