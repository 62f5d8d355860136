//! Criterion benchmarks of the hot paths (the dateutil comparison lives in
//! `scripts/bench-recurrence.sh`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use recurrence::{Rule, Series, Zone};

fn benches(c: &mut Criterion) {
    let tz = Zone::parse("America/New_York").unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let start = (now - Duration::days(3 * 365))
        .naive_utc()
        .date()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let daily = Series::new(Rule::parse("FREQ=DAILY").unwrap(), start, tz);
    c.bench_function("next_after daily, DTSTART 3 years ago", |b| {
        b.iter(|| daily.next_after(black_box(now)))
    });
    let recent = (now - Duration::days(7))
        .naive_utc()
        .date()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let weekly = Series::new(
        Rule::parse("FREQ=WEEKLY;BYDAY=MO,WE,FR").unwrap(),
        recent,
        tz,
    );
    c.bench_function("next 1000 of weekly MO,WE,FR", |b| {
        b.iter(|| weekly.next_n_after(black_box(now), 1000))
    });
    c.bench_function("parse + canonical write", |b| {
        b.iter(|| {
            Rule::parse(black_box("FREQ=MONTHLY;INTERVAL=2;BYDAY=1MO,-1FR;BYHOUR=9"))
                .map(|r| r.to_canonical_string())
        })
    });
    let yearly = Series::new(
        Rule::parse("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU").unwrap(),
        start,
        Zone::parse("Europe/Berlin").unwrap(),
    );
    c.bench_function("next_after yearly last Sunday of March", |b| {
        b.iter(|| yearly.next_after(black_box(now)))
    });
}

criterion_group!(recurrence_benches, benches);
criterion_main!(recurrence_benches);
