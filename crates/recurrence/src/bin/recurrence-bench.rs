//! `recurrence-bench [--iters N]`: criterion-free timing of the benchmark cases used by
//! `scripts/bench-recurrence.sh`. Prints `<case> ns_per_op=<x>` lines (best of 5 runs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use recurrence::phrase::EXAMPLES;
use recurrence::{parse_phrase, Rule, Series, Zone};

fn best_ns_per_op(iters: u32, mut f: impl FnMut()) -> f64 {
    // Warm-up.
    for _ in 0..(iters / 10).max(1) {
        f();
    }
    (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_nanos() as f64 / f64::from(iters)
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let iters: u32 = args
        .iter()
        .position(|a| a == "--iters")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let now_arg = args
        .iter()
        .position(|a| a == "--now")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
        .map(|t| t.with_timezone(&Utc));
    let now = now_arg.unwrap_or_else(|| Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap());
    let tz = Zone::parse("America/New_York").expect("zone");

    // (a) next occurrence of FREQ=DAILY with DTSTART three years in the past.
    let start = (now - Duration::days(3 * 365))
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let daily = Series::new(Rule::parse("FREQ=DAILY").unwrap(), start, tz);
    let a = best_ns_per_op(iters, || {
        black_box(daily.next_after(black_box(now)));
    });
    println!(
        "next_daily ns_per_op={a:.1} result={:?}",
        daily.next_after(now)
    );

    // (b) next 1000 occurrences of FREQ=WEEKLY;BYDAY=MO,WE,FR, as written (no TZID: floating
    // wall-clock times) and in America/New_York (instants through the DST policy).
    let recent = (now - Duration::days(7))
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let rule = Rule::parse("FREQ=WEEKLY;BYDAY=MO,WE,FR").unwrap();
    for (name, zone) in [("list_weekly", Zone::Floating), ("list_weekly_zoned", tz)] {
        let weekly = Series::new(rule.clone(), recent, zone);
        let b = best_ns_per_op((iters / 100).max(10), || {
            black_box(weekly.next_n_after(black_box(now), 1000));
        });
        let list = weekly.next_n_after(now, 1000);
        println!(
            "{name} ns_per_op={b:.1} count={} last={:?}",
            list.len(),
            list.last()
        );
    }

    // (d) phrase parsing: every example phrase of the grammar per operation.
    let d = best_ns_per_op((iters / 10).max(10), || {
        for p in EXAMPLES {
            black_box(parse_phrase(black_box(p), tz).ok());
        }
    });
    let per_phrase = d / EXAMPLES.len() as f64;
    println!(
        "phrases ns_per_op={per_phrase:.1} phrases_per_s={:.0} count={}",
        1e9 / per_phrase,
        EXAMPLES.len()
    );
}
