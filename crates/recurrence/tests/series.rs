//! Series operations: next occurrence, windows, exceptions, split, end date,
//! repeat-from-completion, catch-up, time-zone policy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use recurrence::{catch_up, CatchUpPolicy, Mode, Rule, Series, Zone};

fn local(y: i32, m: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, mi, 0)
        .unwrap()
}

fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, mi, 0).unwrap()
}

fn series(rule: &str, start: NaiveDateTime, tz: &str) -> Series {
    Series::new(Rule::parse(rule).unwrap(), start, Zone::parse(tz).unwrap())
}

#[test]
fn dst_gap_at_local_midnight_is_kept() {
    // Sao Paulo 2018-11-04: clocks jumped from 00:00 to 01:00. The rrule crate drops this
    // occurrence; the policy keeps it with the offset before the gap (-03:00).
    let s = series(
        "FREQ=DAILY;COUNT=3",
        local(2018, 11, 3, 0, 0),
        "America/Sao_Paulo",
    );
    assert_eq!(
        s.take(3),
        vec![
            utc(2018, 11, 3, 3, 0),
            utc(2018, 11, 4, 3, 0),
            utc(2018, 11, 5, 2, 0)
        ]
    );
}

#[test]
fn gap_and_overlap_policy() {
    let ny = "America/New_York";
    // 02:30 on 2026-03-08 does not exist: kept, offset before the gap (EST) = 07:30Z.
    let s = series("FREQ=DAILY;COUNT=3", local(2026, 3, 7, 2, 30), ny);
    assert_eq!(s.take(3)[1], utc(2026, 3, 8, 7, 30));
    // 01:30 on 2026-11-01 happens twice: the first (EDT) instant.
    let s = series("FREQ=DAILY;COUNT=3", local(2026, 10, 31, 1, 30), ny);
    assert_eq!(s.take(3)[1], utc(2026, 11, 1, 5, 30));
}

#[test]
fn floating_series_do_not_use_the_server_zone() {
    let s = Series::new(
        Rule::parse("FREQ=DAILY;COUNT=2").unwrap(),
        local(2026, 1, 1, 9, 0),
        Zone::Floating,
    );
    assert_eq!(
        s.take(2),
        vec![utc(2026, 1, 1, 9, 0), utc(2026, 1, 2, 9, 0)]
    );
}

#[test]
fn next_after_skips_ahead_without_expanding_history() {
    let s = series("FREQ=DAILY", local(2019, 1, 1, 9, 0), "Europe/Berlin");
    let now = utc(2026, 7, 1, 12, 0);
    assert_eq!(s.next_after(now), Some(utc(2026, 7, 2, 7, 0)));
    // Same answer as walking the whole series.
    let walked = s.occurrences().find(|o| o.instant > now).map(|o| o.instant);
    assert_eq!(s.next_after(now), walked);
    // Weekly with interval, monthly last Friday, yearly, hourly.
    for (rule, start) in [
        (
            "FREQ=WEEKLY;INTERVAL=3;BYDAY=TU,SA",
            local(2019, 3, 5, 18, 15),
        ),
        ("FREQ=MONTHLY;BYDAY=-1FR", local(2019, 1, 25, 8, 0)),
        (
            "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29",
            local(2020, 2, 29, 7, 0),
        ),
        (
            "FREQ=HOURLY;INTERVAL=5;BYHOUR=1,6,11,16,21",
            local(2019, 1, 1, 1, 0),
        ),
        ("FREQ=MINUTELY;INTERVAL=90", local(2024, 1, 1, 0, 0)),
    ] {
        let s = series(rule, start, "America/New_York");
        let walked = s.occurrences().find(|o| o.instant > now).map(|o| o.instant);
        assert_eq!(s.next_after(now), walked, "{rule}");
    }
}

#[test]
fn window_and_take() {
    let s = series(
        "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        local(2026, 1, 5, 9, 0),
        "Europe/Berlin",
    );
    let w = s.between(utc(2026, 1, 6, 0, 0), utc(2026, 1, 12, 8, 0));
    assert_eq!(w, vec![utc(2026, 1, 7, 8, 0), utc(2026, 1, 9, 8, 0)]);
    assert_eq!(
        s.take(2),
        vec![utc(2026, 1, 5, 8, 0), utc(2026, 1, 7, 8, 0)]
    );
}

#[test]
fn exceptions_by_recurrence_id() {
    let mut s = series("FREQ=DAILY;COUNT=5", local(2026, 4, 1, 9, 0), "UTC");
    s.delete_instance(local(2026, 4, 2, 9, 0)).unwrap();
    s.edit_instance(
        local(2026, 4, 3, 9, 0),
        Some(local(2026, 4, 3, 15, 0)),
        Some("moved".into()),
    )
    .unwrap();
    s.edit_instance(
        local(2026, 4, 4, 9, 0),
        Some(local(2026, 4, 10, 9, 0)),
        None,
    )
    .unwrap();
    assert_eq!(
        s.take(5),
        vec![
            utc(2026, 4, 1, 9, 0),
            utc(2026, 4, 3, 15, 0),
            utc(2026, 4, 5, 9, 0),
            utc(2026, 4, 10, 9, 0)
        ]
    );
    assert_eq!(
        s.next_after(utc(2026, 4, 3, 10, 0)),
        Some(utc(2026, 4, 3, 15, 0))
    );
    assert_eq!(
        s.next_after(utc(2026, 4, 5, 10, 0)),
        Some(utc(2026, 4, 10, 9, 0))
    );
    let inst = s.instances_between(utc(2026, 4, 3, 0, 0), utc(2026, 4, 4, 0, 0));
    assert_eq!(inst.len(), 1);
    assert_eq!(inst[0].title.as_deref(), Some("moved"));
    assert_eq!(inst[0].recurrence_id, local(2026, 4, 3, 9, 0));
    let e = s.delete_instance(local(2026, 4, 3, 10, 0)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "2026-04-03T10:00:00 is not an occurrence of this series"
    );
}

#[test]
fn split_this_and_following() {
    let s = series(
        "FREQ=WEEKLY;BYDAY=TU",
        local(2026, 1, 6, 9, 0),
        "Europe/Berlin",
    );
    let (old, new) = s.split_at(local(2026, 2, 3, 9, 0)).unwrap();
    assert_eq!(old.occurrences().count(), 4);
    assert_eq!(
        old.occurrences().last().unwrap().local,
        local(2026, 1, 27, 9, 0)
    );
    assert_eq!(new.dtstart, local(2026, 2, 3, 9, 0));
    assert_eq!(new.take(1), vec![utc(2026, 2, 3, 8, 0)]);
    // With COUNT the total is preserved.
    let s = series("FREQ=DAILY;COUNT=10", local(2026, 1, 1, 9, 0), "UTC");
    let (old, new) = s.split_at(local(2026, 1, 4, 9, 0)).unwrap();
    assert_eq!(old.occurrences().count() + new.occurrences().count(), 10);
    assert_eq!(new.rule.unwrap().count(), Some(7));
}

#[test]
fn a_split_counts_what_the_rule_generates_and_does_not_walk_a_dense_series() {
    // COUNT counts generated occurrences, a deleted (EXDATE) one included: split at the 4th
    // of five, the old series keeps the 1st and 3rd and the new one the 4th and 5th.
    let mut s = series("FREQ=DAILY;COUNT=5", local(2026, 1, 1, 9, 0), "UTC");
    s.delete_instance(local(2026, 1, 2, 9, 0)).unwrap();
    let (old, new) = s.split_at(local(2026, 1, 4, 9, 0)).unwrap();
    assert_eq!(old.rule.as_ref().unwrap().count(), Some(3));
    assert_eq!(new.rule.as_ref().unwrap().count(), Some(2));
    assert_eq!(
        old.take(10),
        vec![utc(2026, 1, 1, 9, 0), utc(2026, 1, 3, 9, 0)]
    );
    assert_eq!(
        new.take(10),
        vec![utc(2026, 1, 4, 9, 0), utc(2026, 1, 5, 9, 0)]
    );
    // One occurrence a minute for a year before the split: only the first one is looked at.
    let every: Vec<String> = (0..60).map(|v| v.to_string()).collect();
    let dense = format!("FREQ=HOURLY;BYMINUTE={}", every.join(","));
    let s = series(&dense, local(2025, 1, 1, 0, 0), "UTC");
    let started = std::time::Instant::now();
    let (old, new) = s.split_at(local(2026, 1, 1, 0, 0)).unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(old.rule.is_some() && new.dtstart == local(2026, 1, 1, 0, 0));
}

#[test]
fn end_date_and_completion() {
    let mut s = series("FREQ=DAILY", local(2026, 1, 1, 9, 0), "UTC");
    let now = utc(2026, 1, 10, 0, 0);
    assert_eq!(
        s.set_end_date(utc(2026, 1, 5, 0, 0), now)
            .unwrap_err()
            .to_string(),
        "End date must be in the future"
    );
    s.set_end_date(utc(2026, 1, 12, 12, 0), now).unwrap();
    assert_eq!(s.between(now, utc(2026, 2, 1, 0, 0)).len(), 3);
    assert!(!s.is_completed(now));
    assert!(s.is_completed(utc(2026, 1, 12, 12, 0)));
    let finite = series("FREQ=DAILY;COUNT=2", local(2026, 1, 1, 9, 0), "UTC");
    assert!(finite.is_completed(utc(2026, 1, 2, 9, 0)));
}

#[test]
fn repeat_from_completion() {
    let mut s = series(
        "FREQ=DAILY;INTERVAL=3",
        local(2026, 1, 1, 9, 0),
        "Europe/Berlin",
    );
    s.mode = Mode::FromCompletion;
    // Completed late on Jan 6 (local) -> due Jan 9 at the usual 09:00.
    let done = utc(2026, 1, 6, 20, 0);
    assert_eq!(s.next_from_completion(done), Some(utc(2026, 1, 9, 8, 0)));
    let weekly = {
        let mut w = series("FREQ=WEEKLY;BYDAY=MO", local(2026, 1, 5, 9, 0), "UTC");
        w.mode = Mode::FromCompletion;
        w
    };
    // Completed on Wednesday: one week later, on the rule's Monday.
    assert_eq!(
        weekly.next_from_completion(utc(2026, 1, 7, 10, 0)),
        Some(utc(2026, 1, 19, 9, 0))
    );
    let c = catch_up(
        &s,
        Some(done),
        utc(2026, 2, 1, 0, 0),
        CatchUpPolicy::SkipWithCount,
    );
    assert_eq!(c.next, Some(utc(2026, 1, 9, 8, 0)));
    assert_eq!(c.skipped, 0);
}

#[test]
fn catch_up_policies() {
    let s = series("FREQ=DAILY", local(2026, 1, 1, 9, 0), "UTC");
    let last = utc(2026, 1, 3, 9, 0);
    let now = utc(2026, 1, 7, 12, 0);
    let skip = catch_up(&s, Some(last), now, CatchUpPolicy::default());
    assert_eq!(skip.next, Some(utc(2026, 1, 8, 9, 0)));
    assert_eq!(skip.skipped, 4);
    assert!(skip.missed.is_empty());
    let all = catch_up(&s, Some(last), now, CatchUpPolicy::CreateAll);
    assert_eq!(
        all.missed,
        (4..=7).map(|d| utc(2026, 1, d, 9, 0)).collect::<Vec<_>>()
    );
    assert_eq!(all.next, Some(utc(2026, 1, 8, 9, 0)));
    // Three years of missed daily occurrences are counted, not listed.
    let old = series("FREQ=DAILY", local(2023, 1, 1, 9, 0), "UTC");
    let c = catch_up(
        &old,
        Some(utc(2023, 1, 1, 9, 0)),
        utc(2026, 1, 1, 10, 0),
        CatchUpPolicy::SkipWithCount,
    );
    assert_eq!(c.skipped, 1096);
    assert_eq!(c.next, Some(utc(2026, 1, 2, 9, 0)));
}

#[test]
fn until_is_inclusive_and_compared_by_instant() {
    let s = series(
        "FREQ=DAILY;UNTIL=20250311T130000Z",
        local(2025, 3, 6, 9, 0),
        "America/New_York",
    );
    let all = s.take(100);
    assert_eq!(all.len(), 6);
    assert_eq!(*all.last().unwrap(), utc(2025, 3, 11, 13, 0));
    assert_eq!(all[3] - all[2], Duration::hours(23));
}
