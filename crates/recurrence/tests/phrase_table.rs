//! The phrase table (`tests/phrases/phrases.json` at the repository root; schema in
//! `tests/phrases/README.md`, `PHRASES=<file>` for another one): every phrase parses to exactly
//! the expected RRULE, time of day, start and end date, or is refused with the expected
//! message; and phrase → RRULE → description → RRULE is the identity on the rule (the whole
//! phrase's description parses back to the same value too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use recurrence::{describe, parse_phrase, Zone};
use serde_json::Value;

fn table() -> Vec<Value> {
    let path = std::env::var("PHRASES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/phrases/phrases.json")
        });
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn field<'a>(case: &'a Value, name: &str) -> Option<&'a str> {
    case.get(name).and_then(Value::as_str)
}

/// Checks one case; `Err` says what differs.
fn check(case: &Value) -> Result<(), String> {
    let phrase = field(case, "phrase").ok_or("no phrase")?;
    let tz = Zone::parse(field(case, "tz").unwrap_or("UTC")).ok_or("bad tz")?;
    let dtstart = NaiveDateTime::parse_from_str(
        field(case, "dtstart").ok_or("no dtstart")?,
        "%Y-%m-%dT%H:%M:%S",
    )
    .map_err(|e| e.to_string())?;
    let today = dtstart.date();
    let parsed = parse_phrase(phrase, tz);
    if let Some(expected) = field(case, "error") {
        return match parsed {
            Ok(p) => Err(format!("accepted as {}", p.rule)),
            Err(e) if e.to_string().contains(expected) => Ok(()),
            Err(e) => Err(format!("refused with {e:?}, expected {expected:?}")),
        };
    }
    let p = parsed.map_err(|e| format!("refused: {e}"))?;
    let date =
        |name: &str| field(case, name).map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
    let time = field(case, "time").map(|s| NaiveTime::parse_from_str(s, "%H:%M").unwrap());
    let got = (
        p.rule.to_canonical_string(),
        p.time,
        p.start_date(today),
        p.until_date(p.start_date(today).unwrap_or(today)),
    );
    let want = (
        field(case, "rrule").ok_or("no rrule")?.to_string(),
        time,
        date("start"),
        date("until"),
    );
    if got != want {
        return Err(format!("got {got:?}, expected {want:?}"));
    }
    // Both ways: the rule's description parses back to the rule, the phrase's to the phrase.
    let english = describe(&p.rule);
    let back = parse_phrase(&english, tz).map_err(|e| format!("{english:?} refused: {e}"))?;
    if back.rule != p.rule {
        return Err(format!("{english:?} parses to {}", back.rule));
    }
    let whole = p.describe();
    let again = parse_phrase(&whole, tz).map_err(|e| format!("{whole:?} refused: {e}"))?;
    if again != p {
        return Err(format!("{whole:?} parses to {again:?}"));
    }
    Ok(())
}

#[test]
fn every_phrase_of_the_table() {
    let cases = table();
    assert!(cases.len() >= 300, "{} cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            check(c)
                .err()
                .map(|e| format!("{:?}: {e}", field(c, "phrase").unwrap_or("?")))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
