//! Times case (a) of `scripts/bench-recurrence.sh` inside Wasm: the next occurrence of
//! `FREQ=DAILY` (America/New_York) whose DTSTART is three years in the past.
//!
//! Usage (after `scripts/build-wasm.sh recurrence-bench-wasm`):
//! `wasmtime run recurrence_bench_wasm.wasm [iterations] [now-as-RFC3339]`.
//! Prints `next_daily_wasm ns_per_op=<x> result=<instant>`, then the phrase parser's figure:
//! `phrases_wasm ns_per_op=<x per phrase> phrases_per_s=<y>`.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use recurrence::phrase::EXAMPLES;
use recurrence::{parse_phrase, Rule, Series, Zone};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let iters: u32 = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let now = args
        .get(2)
        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).single());
    let (Some(now), Some(tz), Ok(rule)) = (
        now,
        Zone::parse("America/New_York"),
        Rule::parse("FREQ=DAILY"),
    ) else {
        eprintln!("bad arguments");
        return ExitCode::from(2);
    };
    let Some(start) = (now - Duration::days(3 * 365))
        .date_naive()
        .and_hms_opt(9, 0, 0)
    else {
        return ExitCode::from(2);
    };
    let daily = Series::new(rule, start, tz);
    for _ in 0..(iters / 10).max(1) {
        black_box(daily.next_after(black_box(now)));
    }
    let best = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                black_box(daily.next_after(black_box(now)));
            }
            t.elapsed().as_nanos() as f64 / f64::from(iters)
        })
        .fold(f64::INFINITY, f64::min);
    match daily.next_after(now) {
        Some(next) => println!(
            "next_daily_wasm ns_per_op={best:.1} result={}",
            next.to_rfc3339()
        ),
        None => println!("next_daily_wasm ns_per_op={best:.1} result=none"),
    }
    let per_phrase = best_ns(iters / 10, || {
        for p in EXAMPLES {
            black_box(parse_phrase(black_box(p), tz).ok());
        }
    }) / EXAMPLES.len() as f64;
    println!(
        "phrases_wasm ns_per_op={per_phrase:.1} phrases_per_s={:.0}",
        1e9 / per_phrase
    );
    ExitCode::SUCCESS
}

/// Best of five runs of `iters` calls (after a warm-up), in ns per call.
fn best_ns(iters: u32, mut f: impl FnMut()) -> f64 {
    let iters = iters.max(10);
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
