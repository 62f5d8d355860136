//! Parser, validator and canonical writer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use recurrence::{Frequency, Rule, RuleError};

fn err(text: &str) -> String {
    Rule::parse(text).expect_err(text).to_string()
}

#[test]
fn user_facing_errors() {
    assert_eq!(
        err("FREQ=DAILY;COUNT=3;UNTIL=20261231T000000Z"),
        "COUNT and UNTIL cannot both be set"
    );
    assert_eq!(
        err("FREQ=DAILY;INTERVAL=0"),
        "INTERVAL must be a positive integer"
    );
    assert_eq!(
        err("FREQ=DAILY;INTERVAL=-2"),
        "INTERVAL must be a positive integer"
    );
    assert_eq!(
        err("FREQ=MONTHLY;BYWEEKNO=3"),
        "BYWEEKNO is only valid with FREQ=YEARLY"
    );
    assert_eq!(
        err("FREQ=WEEKLY;BYMONTHDAY=3"),
        "BYMONTHDAY is not valid with FREQ=WEEKLY"
    );
    assert_eq!(
        err("FREQ=MONTHLY;BYYEARDAY=3"),
        "BYYEARDAY is not valid with FREQ=MONTHLY"
    );
    assert_eq!(
        err("FREQ=WEEKLY;BYDAY=1MO"),
        "numeric BYDAY prefix (1MO) is only valid with FREQ=MONTHLY or FREQ=YEARLY (got FREQ=WEEKLY)"
    );
    assert_eq!(err("FREQ=DAILY;FOO=1"), "unknown rule part FOO");
    assert_eq!(err("INTERVAL=2"), "FREQ is required");
    assert_eq!(
        err("FREQ=DAILY;FREQ=WEEKLY"),
        "rule part FREQ is given more than once"
    );
    assert_eq!(
        err("FREQ=FORTNIGHTLY").split(" (").next(),
        Some("FREQ must be one of SECONDLY, MINUTELY, HOURLY, DAILY, WEEKLY, MONTHLY, YEARLY")
    );
    assert_eq!(
        err("FREQ=MONTHLY;BYMONTHDAY=32"),
        "BYMONTHDAY values must be 1 to 31 or -31 to -1 (got 32)"
    );
    assert_eq!(
        err("FREQ=MONTHLY;BYMONTHDAY=0"),
        "BYMONTHDAY values must be 1 to 31 or -31 to -1 (got 0)"
    );
    assert_eq!(
        err("FREQ=DAILY;BYHOUR=24"),
        "BYHOUR values must be 0 to 23 (got 24)"
    );
    assert_eq!(
        err("FREQ=MONTHLY;BYSETPOS=1"),
        "BYSETPOS must be used together with another BYxxx rule part"
    );
    assert!(err("FREQ=WEEKLY;BYDAY=XX").contains("BYDAY value XX is not a weekday"));
    assert!(err("FREQ=DAILY;UNTIL=2026").starts_with("UNTIL must be a date"));
    assert_eq!(err(""), "the rule is empty");
    assert!(matches!(
        Rule::parse("FREQ=DAILY;COUNT=0"),
        Err(RuleError::InvalidCount)
    ));
}

#[test]
fn prefix_case_and_whitespace_are_accepted() {
    let a = Rule::parse("RRULE:FREQ=WEEKLY;BYDAY=MO").unwrap();
    let b = Rule::parse(" rrule:freq=weekly;byday=mo ").unwrap();
    assert_eq!(a, b);
    assert_eq!(a.freq(), Frequency::Weekly);
}

#[test]
fn canonical_writer_keeps_ordinals_and_orders_parts() {
    // The rrule crate writes BYDAY=1MO as MO; ours must not.
    let r = Rule::parse("FREQ=MONTHLY;BYDAY=1MO").unwrap();
    assert_eq!(r.to_canonical_string(), "FREQ=MONTHLY;BYDAY=1MO");
    let r = Rule::parse("BYDAY=FR,-1FR,1MO;WKST=SU;FREQ=YEARLY;INTERVAL=1;BYMONTH=12,1,1").unwrap();
    assert_eq!(
        r.to_canonical_string(),
        "FREQ=YEARLY;BYMONTH=1,12;BYDAY=1MO,FR,-1FR;WKST=SU"
    );
    let r = Rule::parse("FREQ=DAILY;UNTIL=20261231T235959Z;INTERVAL=3").unwrap();
    assert_eq!(
        r.to_canonical_string(),
        "FREQ=DAILY;INTERVAL=3;UNTIL=20261231T235959Z"
    );
    let r = Rule::parse("FREQ=DAILY;UNTIL=20261231").unwrap();
    assert_eq!(r.to_canonical_string(), "FREQ=DAILY;UNTIL=20261231");
    // Idempotent.
    let again = Rule::parse(&r.to_canonical_string()).unwrap();
    assert_eq!(again, r);
}

#[test]
fn serde_uses_canonical_text() {
    let r = Rule::parse("FREQ=MONTHLY;BYDAY=-1FR").unwrap();
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(json, "\"FREQ=MONTHLY;BYDAY=-1FR\"");
    let back: Rule = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    assert!(serde_json::from_str::<Rule>("\"FREQ=DAILY;INTERVAL=0\"").is_err());
}
