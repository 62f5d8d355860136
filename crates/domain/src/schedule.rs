//! Recurrence for tasks: resolves the `recurrence` field (preset, RRULE or phrase) into a
//! series plan, rebuilds a stored series, and finds the next due date after a completion.
//! Tasks recur at most once an hour ([`MAX_PER_HOUR`]): HOURLY and coarser rules only, and no
//! `BYxxx` part may add occurrences within an hour.

use chrono::{DateTime, DurationRound, NaiveDateTime, TimeDelta, Utc};
use recurrence::tz::{to_instant, to_local};
use recurrence::{parse_phrase, preset, Frequency, Rule, Series, Zone};

use crate::types::{FieldError, Mode};

/// Format of `dtstart_local` as stored.
pub const LOCAL_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// The next instance to create when an instance is completed or skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextInstance {
    /// Its due date (and recurrence id).
    pub due: DateTime<Utc>,
    /// The occurrence after it, if known.
    pub upcoming: Option<DateTime<Utc>>,
}

/// A resolved recurring series, ready to store with its first instance.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPlan {
    /// Canonical RRULE text (without `RRULE:`).
    pub rule: String,
    /// IANA zone name.
    pub tzid: String,
    /// DTSTART as local wall time.
    pub dtstart_local: NaiveDateTime,
    /// DTSTART as an instant.
    pub start_at: DateTime<Utc>,
    /// Series end date, if any.
    pub end_date: Option<DateTime<Utc>>,
    /// fixed or from_completion.
    pub mode: Mode,
    /// Due date of the first instance (also its recurrence id).
    pub first_due: DateTime<Utc>,
    /// The occurrence after the first, if any.
    pub upcoming: Option<DateTime<Utc>>,
    /// English description of the rule.
    pub describe: String,
}

/// Most occurrences a task series may have within one hour of wall-clock time.
pub const MAX_PER_HOUR: usize = 1;

/// Refuses a rule whose real density exceeds [`MAX_PER_HOUR`], naming the part responsible.
///
/// With FREQ=HOURLY or coarser every period (hour, day, week, month, year) starts on the hour,
/// so any hour lies within one period and holds at most `|BYMINUTE| × |BYSECOND|` occurrences
/// (an absent part takes DTSTART's one value), and at most `|BYSETPOS|` when BYSETPOS picks
/// from each period. BYHOUR, BYDAY and the other day parts only choose which hours occur, and
/// INTERVAL, COUNT and UNTIL only thin the series out.
pub fn check_density(rule: &Rule) -> Result<(), FieldError> {
    let field = "recurrence";
    let freq = rule.freq();
    if freq > Frequency::Hourly {
        let per_hour = match freq {
            Frequency::Minutely => "60",
            _ => "3600",
        };
        return Err(FieldError::new(
            field,
            format!(
                "tasks recur at most hourly; FREQ={freq} gives up to {per_hour} occurrences an hour and is not allowed"
            ),
        ));
    }
    let p = rule.parts();
    let (minutes, seconds) = (p.by_minute.len().max(1), p.by_second.len().max(1));
    let per_hour = minutes.saturating_mul(seconds);
    let picked = match p.by_set_pos.len() {
        0 => per_hour,
        n => per_hour.min(n),
    };
    if picked <= MAX_PER_HOUR {
        return Ok(());
    }
    let cause = match (minutes > 1, seconds > 1) {
        (false, _) => format!("BYSECOND gives {seconds} occurrences a minute"),
        (true, false) => format!("BYMINUTE gives {minutes} occurrences an hour"),
        (true, true) => format!("BYMINUTE and BYSECOND give {per_hour} occurrences an hour"),
    };
    let kept = if picked < per_hour {
        format!(" and BYSETPOS keeps {picked} of them")
    } else {
        String::new()
    };
    Err(FieldError::new(
        field,
        format!("{cause}{kept}; at most {MAX_PER_HOUR} an hour is allowed"),
    ))
}

/// Parses a time zone name (`UTC` and IANA names).
pub fn parse_zone(tzid: &str) -> Result<Zone, FieldError> {
    Zone::parse(tzid)
        .filter(|z| z.name().is_some())
        .ok_or_else(|| FieldError::new("tzid", format!("unknown time zone \"{tzid}\"")))
}

/// Resolves `recurrence` (a preset name, RRULE text, or an English phrase).
///
/// DTSTART is `due_date` (in `tzid`) for presets and RRULEs, or now to the minute when there
/// is no due date; a phrase starts at its first occurrence on or after the due date (or now),
/// at the phrase's time of day, else the due date's.
pub fn resolve(
    text: &str,
    tzid: &str,
    due_date: Option<DateTime<Utc>>,
    end_date: Option<DateTime<Utc>>,
    mode: Mode,
    now: DateTime<Utc>,
) -> Result<SeriesPlan, FieldError> {
    let zone = parse_zone(tzid)?;
    let text = text.trim();
    let field = "recurrence";
    let upper = text.to_ascii_uppercase();
    let mut series = if let Some(rule) = preset(text) {
        Series::new(rule, start_local(due_date, zone, now), zone)
    } else if upper.starts_with("FREQ=") || upper.starts_with("RRULE:") {
        let body = if upper.starts_with("RRULE:") {
            &text[6..]
        } else {
            text
        };
        let rule = Rule::parse(body).map_err(|e| FieldError::new(field, e.to_string()))?;
        Series::new(rule, start_local(due_date, zone, now), zone)
    } else {
        let mut phrase =
            parse_phrase(text, zone).map_err(|e| FieldError::new(field, e.to_string()))?;
        // A due date anchors the phrase: the first occurrence is on or after it, and a phrase
        // without a time of day ("monthly on the 1st") keeps the due date's local time.
        if let (Some(due), None) = (due_date, phrase.time) {
            phrase.time = Some(to_local(due, zone).time());
        }
        phrase
            .to_series(due_date.unwrap_or(now))
            .map_err(|e| FieldError::new(field, e.to_string()))?
    };
    let rule = series
        .rule
        .clone()
        .ok_or_else(|| FieldError::new(field, "recurrence has no rule"))?;
    check_density(&rule)?;
    if let Some(end) = end_date {
        series
            .set_end_date(end, now)
            .map_err(|e| FieldError::new("recurrence_end_date", e.to_string()))?;
    }
    series.mode = match mode {
        Mode::Fixed => recurrence::Mode::Fixed,
        Mode::FromCompletion => recurrence::Mode::FromCompletion,
    };
    let first = series.take(2);
    let Some(first_due) = first.first().copied() else {
        return Err(FieldError::new(
            field,
            "the recurrence produces no occurrences",
        ));
    };
    Ok(SeriesPlan {
        rule: rule.to_canonical_string(),
        tzid: zone.name().unwrap_or("UTC").to_string(),
        dtstart_local: series.dtstart,
        start_at: to_instant(series.dtstart, zone),
        end_date: series.end_date,
        mode,
        first_due,
        upcoming: first.get(1).copied(),
        describe: recurrence::describe(&rule),
    })
}

fn start_local(due: Option<DateTime<Utc>>, zone: Zone, now: DateTime<Utc>) -> NaiveDateTime {
    let at = due.unwrap_or_else(|| now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now));
    to_local(at, zone)
}

/// Rebuilds a stored series.
pub fn stored_series(
    rule: &str,
    dtstart_local: &str,
    tzid: &str,
    end_date: Option<DateTime<Utc>>,
    mode: Mode,
) -> Option<Series> {
    let rule = Rule::parse(rule).ok()?;
    let dtstart = NaiveDateTime::parse_from_str(dtstart_local, LOCAL_FORMAT).ok()?;
    let mut series = Series::new(rule, dtstart, Zone::parse(tzid)?);
    series.end_date = end_date;
    series.mode = match mode {
        Mode::Fixed => recurrence::Mode::Fixed,
        Mode::FromCompletion => recurrence::Mode::FromCompletion,
    };
    Some(series)
}

/// An edited (moved or retitled) or completed instance of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    /// Its occurrence.
    pub recurrence_id: DateTime<Utc>,
    /// Its due date, if moved (or kept).
    pub due_date: Option<DateTime<Utc>>,
    /// Its title.
    pub title: String,
}

/// The effective series: what the user sees of a stored series, the one definition the
/// occurrence preview and the calendar export both expand. The end date becomes the rule's
/// UNTIL (when the rule has no UNTIL or COUNT) so every client stops there, deleted instances
/// that are occurrences become EXDATEs and edited ones RECURRENCE-ID overrides at their new time
/// (a title only when it differs from the series').
pub fn effective_series(
    stored: Series,
    title: &str,
    deleted: &[DateTime<Utc>],
    exceptions: &[Exception],
) -> Series {
    let mut series = stored;
    if let (Some(end), Some(rule)) = (series.end_date, series.rule.as_ref()) {
        if rule.until().is_none() && rule.count().is_none() {
            let mut parts = rule.parts().clone();
            parts.until = Some(recurrence::Until::Utc(end.naive_utc()));
            if let Ok(r) = Rule::from_parts(parts) {
                series.rule = Some(r);
            }
        }
    }
    let occurs = |s: &Series, t: DateTime<Utc>| {
        s.is_occurrence(to_local(t, s.tz)) && s.end_date.is_none_or(|e| t <= e)
    };
    let mut exdates: Vec<NaiveDateTime> = deleted
        .iter()
        .filter(|t| occurs(&series, **t))
        .map(|t| to_local(*t, series.tz))
        .collect();
    exdates.sort();
    exdates.dedup();
    let overrides = exceptions
        .iter()
        .filter(|e| occurs(&series, e.recurrence_id))
        .map(|e| recurrence::Override {
            recurrence_id: to_local(e.recurrence_id, series.tz),
            start: to_local(e.due_date.unwrap_or(e.recurrence_id), series.tz),
            title: (e.title != title).then(|| e.title.clone()),
            properties: Vec::new(),
        })
        .collect();
    series.exdates = exdates;
    series.overrides = overrides;
    series
}

/// The next instance after completing the instance due at `recurrence_id`, and the one after
/// it: on the fixed grid, the first occurrence after both the completed one and `now` (missed
/// occurrences are skipped); from completion, counted from `now`.
pub fn next_after_completion(
    series: &Series,
    recurrence_id: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<(DateTime<Utc>, Option<DateTime<Utc>>)> {
    match series.mode {
        recurrence::Mode::Fixed => {
            let next = series.next_after(recurrence_id.max(now))?;
            Some((next, series.next_after(next)))
        }
        recurrence::Mode::FromCompletion => {
            let next = series.next_from_completion(now)?;
            Some((next, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn presets_rrules_and_phrases_resolve() {
        let now = at(2026, 11, 26, 8);
        let due = Some(at(2026, 11, 27, 9));
        for p in ["daily", "weekly", "monthly", "yearly", "weekdays"] {
            let plan = resolve(p, "UTC", due, None, Mode::Fixed, now).expect(p);
            assert_eq!(plan.first_due, at(2026, 11, 27, 9), "{p}");
            assert!(plan.upcoming.is_some_and(|u| u > plan.first_due), "{p}");
        }
        let plan = resolve(
            "RRULE:FREQ=HOURLY;INTERVAL=4",
            "Europe/Berlin",
            due,
            None,
            Mode::Fixed,
            now,
        )
        .expect("hourly");
        assert_eq!(plan.rule, "FREQ=HOURLY;INTERVAL=4");
        assert_eq!(plan.upcoming, Some(at(2026, 11, 27, 13)));
        let plan = resolve(
            "every Monday at 9am",
            "Europe/Berlin",
            None,
            None,
            Mode::Fixed,
            now,
        )
        .expect("phrase");
        assert!(plan.rule.contains("BYDAY=MO"));
        assert_eq!(plan.first_due, at(2026, 11, 30, 8));
    }

    #[test]
    fn a_due_date_anchors_a_phrase_and_gives_it_a_time_of_day() {
        let now = at(2026, 11, 26, 8);
        // 09:00Z on 1 December is 10:00 in Berlin: the series keeps that wall time.
        let due = Some(at(2026, 12, 1, 9));
        let plan = resolve(
            "monthly on the 1st",
            "Europe/Berlin",
            due,
            None,
            Mode::Fixed,
            now,
        )
        .expect("phrase with a due date");
        assert_eq!(plan.first_due, at(2026, 12, 1, 9));
        assert_eq!(plan.upcoming, Some(at(2027, 1, 1, 9)));
        // A time in the phrase wins over the due date's; the due date still anchors the start.
        let plan = resolve(
            "monthly on the 1st at 8am",
            "Europe/Berlin",
            Some(at(2027, 2, 10, 9)),
            None,
            Mode::Fixed,
            now,
        )
        .expect("phrase with its own time");
        assert_eq!(plan.first_due, at(2027, 3, 1, 7));
    }

    #[test]
    fn sub_hourly_unknown_and_past_end_are_refused() {
        let now = at(2026, 11, 26, 8);
        let e = resolve("FREQ=MINUTELY", "UTC", None, None, Mode::Fixed, now).unwrap_err();
        assert!(e.message.contains("at most hourly"));
        assert_eq!(
            resolve("daily", "Mars/Olympus", None, None, Mode::Fixed, now)
                .unwrap_err()
                .field,
            "tzid"
        );
        assert_eq!(
            resolve("whenever", "UTC", None, None, Mode::Fixed, now)
                .unwrap_err()
                .field,
            "recurrence"
        );
        let e = resolve(
            "daily",
            "UTC",
            None,
            Some(at(2026, 1, 1, 0)),
            Mode::Fixed,
            now,
        )
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("recurrence_end_date", "End date must be in the future")
        );
    }

    fn refusal(rule: &str) -> String {
        let now = at(2026, 11, 26, 8);
        let result = resolve(rule, "Europe/Berlin", None, None, Mode::Fixed, now);
        assert!(result.is_err(), "{rule} was accepted: {result:?}");
        let e = result.unwrap_err();
        assert_eq!(e.field, "recurrence", "{rule}");
        e.message
    }

    fn list(range: std::ops::Range<u32>) -> String {
        range.map(|v| v.to_string()).collect::<Vec<_>>().join(",")
    }

    #[test]
    fn rules_denser_than_hourly_are_refused_naming_the_part() {
        let minutes = list(0..60);
        let cases = [
            (
                format!("FREQ=HOURLY;BYMINUTE={minutes};BYSECOND={minutes}"),
                "BYMINUTE and BYSECOND give 3600 occurrences an hour; at most 1 an hour is allowed",
            ),
            (
                format!("FREQ=HOURLY;BYSECOND={minutes}"),
                "BYSECOND gives 60 occurrences a minute; at most 1 an hour is allowed",
            ),
            (
                format!("RRULE:FREQ=DAILY;BYHOUR={};BYMINUTE={minutes}", list(0..24)),
                "BYMINUTE gives 60 occurrences an hour; at most 1 an hour is allowed",
            ),
            (
                "FREQ=DAILY;BYHOUR=9;BYMINUTE=0,30".to_string(),
                "BYMINUTE gives 2 occurrences an hour; at most 1 an hour is allowed",
            ),
            (
                "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1;BYHOUR=0;BYMINUTE=0,1".to_string(),
                "BYMINUTE gives 2 occurrences an hour; at most 1 an hour is allowed",
            ),
            (
                "FREQ=WEEKLY;COUNT=2;BYDAY=MO;BYSECOND=0,1".to_string(),
                "BYSECOND gives 2 occurrences a minute; at most 1 an hour is allowed",
            ),
            (
                format!("FREQ=MONTHLY;BYMINUTE={minutes};BYSECOND=0,30;BYSETPOS=1,2,3,-1"),
                "BYMINUTE and BYSECOND give 120 occurrences an hour and BYSETPOS keeps 4 of them; at most 1 an hour is allowed",
            ),
            (
                "freq=hourly;byminute=0,15,30,45".to_string(),
                "BYMINUTE gives 4 occurrences an hour; at most 1 an hour is allowed",
            ),
        ];
        for (rule, message) in &cases {
            assert_eq!(refusal(rule), *message, "{rule}");
        }
        for rule in [
            "FREQ=MINUTELY",
            "FREQ=MINUTELY;INTERVAL=60",
            "FREQ=SECONDLY;INTERVAL=3600",
            "FREQ=SECONDLY;BYMINUTE=0;BYSECOND=0",
        ] {
            let m = refusal(rule);
            assert!(
                m.contains("at most hourly") && m.contains("FREQ="),
                "{rule}: {m}"
            );
        }
    }

    #[test]
    fn accepted_rules_never_put_two_occurrences_in_one_hour() {
        let hours = list(0..24);
        let rules = [
            "FREQ=HOURLY".to_string(),
            "FREQ=HOURLY;BYMINUTE=15;BYSECOND=30".to_string(),
            format!("FREQ=HOURLY;BYHOUR={hours}"),
            format!("FREQ=DAILY;BYHOUR={hours}"),
            "FREQ=DAILY;BYHOUR=9;BYMINUTE=0,30;BYSETPOS=1".to_string(),
            "FREQ=HOURLY;BYMINUTE=0,59;BYSETPOS=-1".to_string(),
            format!("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR={hours};BYMINUTE=59"),
            format!("FREQ=MONTHLY;BYMONTHDAY=1,-1;BYHOUR={hours};BYMINUTE=0,59;BYSETPOS=-1"),
        ];
        for rule in &rules {
            // Across the end of daylight saving time in Berlin (25 October 2026) and of a month.
            let plan = resolve(
                rule,
                "Europe/Berlin",
                Some(at(2026, 10, 20, 0)),
                None,
                Mode::Fixed,
                at(2026, 10, 1, 0),
            )
            .expect(rule);
            let s = stored_series(
                &plan.rule,
                &plan.dtstart_local.format(LOCAL_FORMAT).to_string(),
                &plan.tzid,
                None,
                Mode::Fixed,
            )
            .expect("series");
            let times = s.first_between(at(2026, 10, 20, 0), at(2026, 12, 1, 0), 2000);
            assert!(!times.is_empty(), "{rule}");
            for w in times.windows(2) {
                assert!(w[1] - w[0] >= TimeDelta::hours(1), "{rule}: {w:?}");
            }
        }
    }

    #[test]
    fn an_abusive_window_is_listed_lazily() {
        // A rule the old validation accepted, as it may still be stored: one instant a second.
        let minutes = list(0..60);
        let s = stored_series(
            &format!("FREQ=HOURLY;BYMINUTE={minutes};BYSECOND={minutes}"),
            "2026-11-26T00:00:00",
            "UTC",
            None,
            Mode::Fixed,
        )
        .expect("series");
        let started = std::time::Instant::now();
        let first = s.first_between(at(2026, 11, 26, 0), at(2028, 11, 26, 0), 500);
        assert_eq!(first.len(), 500);
        assert_eq!(first[499] - first[0], TimeDelta::seconds(499));
        // The whole two-year window stops at the scan bound instead of 63 million instants.
        let all = s.between(at(2026, 11, 26, 0), at(2028, 11, 26, 0));
        assert!(all.len() <= recurrence::series::MAX_SCAN);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn calendar_series_ends_with_until_and_carries_exdates_and_overrides() {
        let mut s = stored_series(
            "FREQ=DAILY",
            "2026-12-01T09:00:00",
            "Europe/Berlin",
            Some(at(2026, 12, 10, 0)),
            Mode::Fixed,
        )
        .expect("series");
        s.end_date = Some(at(2026, 12, 10, 0));
        let c = effective_series(
            s,
            "Standup",
            &[at(2026, 12, 3, 8), at(2026, 12, 3, 9)],
            &[Exception {
                recurrence_id: at(2026, 12, 4, 8),
                due_date: Some(at(2026, 12, 4, 12)),
                title: "Standup".into(),
            }],
        );
        let rule = c.rule.as_ref().expect("rule");
        assert!(rule
            .to_canonical_string()
            .contains("UNTIL=20261210T000000Z"));
        // Only the deleted instance that is an occurrence (08:00Z = 09:00 Berlin) is excluded.
        assert_eq!(c.exdates.len(), 1);
        assert_eq!(c.overrides.len(), 1);
        assert_eq!(c.overrides[0].title, None);
        assert_eq!(c.between(at(2026, 12, 1, 0), at(2026, 12, 31, 0)).len(), 8);
    }

    #[test]
    fn next_after_completion_skips_missed_and_counts_from_completion() {
        let now = at(2026, 11, 26, 8);
        let plan = resolve(
            "daily",
            "UTC",
            Some(at(2026, 11, 20, 9)),
            None,
            Mode::Fixed,
            now,
        )
        .expect("plan");
        let s = stored_series(
            &plan.rule,
            &plan.dtstart_local.format(LOCAL_FORMAT).to_string(),
            "UTC",
            None,
            Mode::Fixed,
        )
        .expect("series");
        assert_eq!(
            next_after_completion(&s, at(2026, 11, 20, 9), now).map(|n| n.0),
            Some(at(2026, 11, 26, 9))
        );
        assert_eq!(
            next_after_completion(&s, at(2026, 11, 27, 9), now).map(|n| n.0),
            Some(at(2026, 11, 28, 9))
        );
        let s = stored_series(
            "FREQ=DAILY;INTERVAL=3",
            "2026-11-20T09:00:00",
            "UTC",
            None,
            Mode::FromCompletion,
        )
        .expect("s");
        assert_eq!(
            next_after_completion(&s, at(2026, 11, 20, 9), now).map(|n| n.0),
            Some(at(2026, 11, 29, 9))
        );
    }
}
