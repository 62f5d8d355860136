//! Fuzz target: the RRULE parser, the phrase parser and the iCalendar reader must never
//! panic; accepted rules must round-trip through the canonical writer and expand.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recurrence::{parse_phrase, Rule, Series, Zone};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rule) = Rule::parse(text) {
        let canonical = rule.to_canonical_string();
        assert_eq!(Rule::parse(&canonical).ok(), Some(rule.clone()));
        if let Some(start) = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).and_then(|d| d.and_hms_opt(23, 30, 0)) {
            let tz = Zone::parse("America/New_York").unwrap_or(Zone::Floating);
            let series = Series::new(rule, start, tz);
            let _ = series.occurrences().take(50).count();
        }
    }
    let _ = parse_phrase(text, Zone::UTC).map(|p| p.describe());
    let _ = Series::from_vtodo(text);
});
