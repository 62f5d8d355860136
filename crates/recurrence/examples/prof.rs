#![allow(missing_docs, clippy::unwrap_used)]
use std::hint::black_box;
use std::time::Instant;
use chrono::{TimeZone, Utc, NaiveDate};
use recurrence::{Rule, Series, Zone, expand::RuleIter};
fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let n: u32 = std::env::args().nth(2).and_then(|v| v.parse().ok()).unwrap_or(200);
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let recent = NaiveDate::from_ymd_opt(2026,11,19).unwrap().and_hms_opt(9, 0, 0).unwrap();
    let rule = Rule::parse("FREQ=WEEKLY;BYDAY=MO,WE,FR").unwrap();
    for (name, tz) in [("ny", Zone::parse("America/New_York").unwrap()), ("floating", Zone::Floating)] {
        if !which.is_empty() && which != name { continue; }
        let s = Series::new(rule.clone(), recent, tz);
        let t = Instant::now();
        for _ in 0..n { black_box(s.next_n_after(now, 1000)); }
        println!("{name} {:?}/op", t.elapsed() / n);
    }
    if which.is_empty() || which == "ruleiter" {
    let t = Instant::now();
    for _ in 0..n { black_box(RuleIter::new(&rule, recent).take(1000).count()); }
    println!("ruleiter {:?}/op", t.elapsed() / n);
    }
}
