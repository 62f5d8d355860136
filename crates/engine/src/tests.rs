//! The engine's decisions on real-shaped deliveries.

use crate::*;
use chrono::TimeZone;
use chrono::{DateTime, Utc};
use domain::schedule;
use domain::{Mode, SeriesId, TaskId};
use serde_json::json;

const TASK: &str = "0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a";
const SERIES: &str = "1b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a";

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .unwrap_or_default()
}

fn envelope(event_type: &str, data: serde_json::Value) -> Vec<u8> {
    json!({"id": "ev-1", "specversion": "1.0", "source": "/task-api", "type": event_type,
           "time": "2026-11-26T08:00:00.000Z", "datacontenttype": "application/json",
           "topic": "task-operations", "pubsubname": "pubsub", "data": data})
    .to_string()
    .into_bytes()
}

fn data(series: Option<&str>) -> serde_json::Value {
    json!({"task_id": TASK, "user_id": "u1", "series_id": series,
           "task": {"task_id": TASK, "title": "t", "status": "completed", "version": 2}})
}

fn completion(body: &[u8]) -> Result<Option<Completion>, Poison> {
    operation(body).map(|o| match o {
        Some(Operation::Completed(c)) => Some(c),
        _ => None,
    })
}

#[test]
fn created_instances_with_an_upcoming_occurrence_are_pre_created() {
    let mut d = data(Some(SERIES));
    d["task"]["upcoming_occurrence"] = json!("2026-11-27T09:00:00Z");
    let op = operation(&envelope(CREATED, d.clone())).expect("valid");
    let p = Precreate {
        series_id: SeriesId::parse(SERIES).expect("id"),
        occurrence: at(2026, 11, 27, 9),
    };
    assert_eq!(op, Some(Operation::Created(p.clone(), PRECREATE_LEAD_SECS)));
    // Reminders longer than the lead move it: the largest one plus the margin.
    d["task"]["reminders"] = json!(["PT1H", "P1D", "PT0S"]);
    let op = operation(&envelope(CREATED, d.clone())).expect("valid");
    assert_eq!(op, Some(Operation::Created(p.clone(), 86_400 + 300)));
    d["task"]["reminders"] = json!(["PT10M"]);
    let op = operation(&envelope(CREATED, d.clone())).expect("valid");
    assert_eq!(op, Some(Operation::Created(p, PRECREATE_LEAD_SECS)));
    d["task"]["upcoming_occurrence"] = json!("tomorrow");
    assert!(matches!(
        operation(&envelope(CREATED, d)),
        Err(Poison::Data { .. })
    ));
}

#[test]
fn precreate_jobs_are_named_timed_and_read_back() {
    let p = Precreate {
        series_id: SeriesId::parse(SERIES).expect("id"),
        occurrence: at(2026, 11, 27, 9),
    };
    let name = p.job_name();
    assert_eq!(name, format!("precreate-{SERIES}-20261127T090000Z"));
    let job = p.job(at(2026, 11, 26, 8), PRECREATE_LEAD_SECS, 0);
    // A one-hour reminder: 65 minutes ahead, same name.
    let early = p.job(at(2026, 11, 26, 8), precreate_lead_secs(Some(3600)), 0);
    assert_eq!(early["dueTime"], json!("2026-11-27T07:55:00Z"));
    assert_eq!(job["dueTime"], json!("2026-11-27T08:45:00Z"));
    // In a 10-minute herd window this series fires its offset earlier, never later.
    let offset = p.herd_offset(600);
    assert!((0..600).contains(&offset));
    assert_eq!(
        offset,
        (0x1b9f3c2e8a1d4c4e9b7a1f2e3d4c5b6a_u128 % 600) as i64
    );
    assert_eq!(
        p.fire_at(PRECREATE_LEAD_SECS, 600),
        at(2026, 11, 27, 8) + chrono::TimeDelta::seconds(45 * 60 - offset)
    );
    assert_eq!(job["overwrite"], json!(true));
    assert_eq!(
        job["failure_policy"],
        json!({"constant": {"interval": "5s", "max_retries": 3}})
    );
    // Already past its fire time: fire at once.
    assert_eq!(
        p.job(
            at(2026, 11, 27, 8) + chrono::TimeDelta::minutes(50),
            PRECREATE_LEAD_SECS,
            0
        )["dueTime"],
        json!("1s")
    );
    let body = job["data"].to_string();
    assert_eq!(Precreate::from_trigger(&name, body.as_bytes()), Ok(p));
    assert!(Precreate::from_trigger("precreate-other", body.as_bytes()).is_err());
    assert!(Precreate::from_trigger(&name, b"{}").is_err());
    assert!(Precreate::from_trigger(&name, b"garbage").is_err());
}

#[test]
fn completions_of_recurring_instances_are_read() {
    let c = completion(&envelope(COMPLETED, data(Some(SERIES))))
        .expect("valid")
        .expect("recurring");
    assert_eq!(c.event_id, "ev-1");
    assert_eq!(c.task_id.as_str(), TASK);
    assert_eq!(c.series_id.as_str(), SERIES);
    assert_eq!(c.user_id, "u1");
}

#[test]
fn other_types_and_one_off_tasks_are_ignored() {
    assert_eq!(
        completion(&envelope("v1.task.created", data(Some(SERIES)))),
        Ok(None)
    );
    assert_eq!(completion(&envelope(COMPLETED, data(None))), Ok(None));
    // Data of ignored types is not inspected.
    assert_eq!(
        completion(&envelope("v1.task.updated", json!("x"))),
        Ok(None)
    );
}

#[test]
fn series_wide_deletions_cancel_the_job_of_the_upcoming_occurrence() {
    let mut d = data(Some(SERIES));
    d["task"]["upcoming_occurrence"] = json!("2026-11-27T09:00:00Z");
    let p = Precreate {
        series_id: SeriesId::parse(SERIES).expect("id"),
        occurrence: at(2026, 11, 27, 9),
    };
    for scope in ["following", "all"] {
        d["scope"] = json!(scope);
        assert_eq!(
            operation(&envelope(DELETED, d.clone())),
            Ok(Some(Operation::Cancel(p.clone())))
        );
    }
    // Deleting one occurrence keeps the chain.
    d["scope"] = json!("this");
    assert_eq!(operation(&envelope(DELETED, d)), Ok(None));
    assert!(matches!(
        operation(&envelope(DELETED, json!("x"))),
        Err(Poison::Data { .. })
    ));
}

const NEW_SERIES: &str = "2b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a";

fn updated(scope: &str, extra: serde_json::Value) -> Vec<u8> {
    let mut d = data(Some(SERIES));
    d["scope"] = json!(scope);
    if let (Some(o), Some(e)) = (d.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    envelope(UPDATED, d)
}

#[test]
fn rule_changes_and_splits_re_plan_their_series() {
    let series = |ids: &[&str]| {
        Ok(Some(SeriesChange {
            event_id: "ev-1".into(),
            series: ids.iter().filter_map(|i| SeriesId::parse(i)).collect(),
        }))
    };
    assert_eq!(
        modification(&updated("all", json!({"rule_changed": true}))),
        series(&[SERIES])
    );
    assert_eq!(
        modification(&updated(
            "following",
            json!({"rule_changed": true, "new_series_id": NEW_SERIES})
        )),
        series(&[SERIES, NEW_SERIES])
    );
    assert_eq!(
        modification(&updated("following", json!({"new_series_id": NEW_SERIES}))),
        series(&[SERIES, NEW_SERIES])
    );
    // Exceptions and edits that keep the rule change no occurrence.
    assert_eq!(
        modification(&updated("this", json!({"rule_changed": true}))),
        Ok(None)
    );
    assert_eq!(modification(&updated("all", json!({}))), Ok(None));
    // Reminders reaching back further than the default lead move the next job, any scope.
    let with_reminders = |scope: &str, r: serde_json::Value| {
        let mut e: serde_json::Value = serde_json::from_slice(&updated(scope, json!({}))).unwrap();
        e["data"]["task"]["reminders"] = r;
        serde_json::to_vec(&e).unwrap()
    };
    assert_eq!(
        modification(&with_reminders("this", json!(["PT5M", "P1D"]))),
        series(&[SERIES])
    );
    assert_eq!(
        modification(&with_reminders("all", json!(["PT11M"]))),
        series(&[SERIES])
    );
    assert_eq!(
        modification(&with_reminders("this", json!(["PT10M", "PT0S"]))),
        Ok(None)
    );
    assert_eq!(
        modification(&envelope(COMPLETED, data(Some(SERIES)))),
        Ok(None)
    );
    assert!(matches!(
        modification(&updated("following", json!({"new_series_id": "nope"}))),
        Err(Poison::Data { .. })
    ));
    assert!(matches!(modification(b"{}"), Err(Poison::Envelope(_))));
}

fn chain(frontier: DateTime<Utc>, upcoming: Option<DateTime<Utc>>) -> Chain {
    Chain {
        series_id: SeriesId::parse(SERIES).expect("id"),
        series: schedule::stored_series(
            "FREQ=DAILY",
            "2026-11-01T09:00:00",
            "UTC",
            None,
            Mode::Fixed,
        ),
        active: true,
        frontier: Some(frontier),
        frontier_upcoming: upcoming,
        counted_through: None,
        lead_secs: PRECREATE_LEAD_SECS,
    }
}

fn job(o: DateTime<Utc>) -> Option<Precreate> {
    Some(Precreate {
        series_id: SeriesId::parse(SERIES).expect("id"),
        occurrence: o,
    })
}

#[test]
fn resume_schedules_the_next_occurrence_and_counts_missed_ones() {
    let now = at(2026, 11, 26, 8);
    // In order: the chain's job is the next one.
    let ok = resume(&chain(at(2026, 11, 27, 9), Some(at(2026, 11, 28, 9))), now);
    assert_eq!(
        ok,
        Resume {
            schedule: job(at(2026, 11, 28, 9)),
            cancel: None,
            skipped: 0
        }
    );
    // Down since the 22nd: the 23rd, 24th and 25th passed without an instance.
    let mut stuck = chain(at(2026, 11, 22, 9), Some(at(2026, 11, 23, 9)));
    let r = resume(&stuck, now);
    assert_eq!(r.schedule, job(at(2026, 11, 26, 9)));
    assert_eq!(r.skipped, 3);
    assert_eq!(r.cancel, job(at(2026, 11, 23, 9)));
    // Counted already up to the 24th at noon: only the 25th is new.
    stuck.counted_through = Some(at(2026, 11, 24, 12));
    assert_eq!(resume(&stuck, now).skipped, 1);
    // A rule change: the chain's job is for an occurrence the series no longer has.
    let mut edited = chain(at(2026, 11, 27, 9), Some(at(2026, 11, 28, 12)));
    assert_eq!(resume(&edited, now).cancel, job(at(2026, 11, 28, 12)));
    // Inactive series: no job, the pending one is cancelled.
    edited.active = false;
    assert_eq!(
        resume(&edited, now),
        Resume {
            schedule: None,
            cancel: job(at(2026, 11, 28, 12)),
            skipped: 0
        }
    );
}

#[test]
fn poison_is_named() {
    assert!(matches!(completion(b"not json"), Err(Poison::Envelope(_))));
    assert!(matches!(completion(b"{}"), Err(Poison::Envelope(_))));
    for bad in [
        json!({"foo": 1}),
        json!({"task_id": "nope", "user_id": "u", "series_id": SERIES,
               "task": {"task_id": "x", "title": "t", "status": "completed", "version": 1}}),
        json!({"task_id": TASK, "user_id": "u", "series_id": "nope",
               "task": {"task_id": TASK, "title": "t", "status": "completed", "version": 1}}),
        json!({"task_id": TASK, "user_id": " ", "series_id": SERIES,
               "task": {"task_id": TASK, "title": "t", "status": "completed", "version": 1}}),
    ] {
        let e = completion(&envelope(COMPLETED, bad.clone())).expect_err("poison");
        assert!(matches!(e, Poison::Data { .. }), "{bad}: {e}");
        assert!(e.to_string().contains("ev-1"));
    }
}

fn stored(mode: Mode, end: Option<DateTime<Utc>>) -> StoredInstance {
    StoredInstance {
        recurrence_id: at(2026, 11, 20, 9),
        rule: "FREQ=DAILY".into(),
        dtstart_local: "2026-11-20T09:00:00".into(),
        tzid: "UTC".into(),
        end_date: end,
        mode,
        completed_at: at(2026, 11, 26, 8),
    }
}

fn c() -> Completion {
    Completion {
        event_id: "ev".into(),
        task_id: TaskId::parse(TASK).expect("id"),
        user_id: "u".into(),
        series_id: SeriesId::parse(SERIES).expect("id"),
    }
}

#[test]
fn next_counts_from_the_completion_time_not_from_processing_time() {
    // Fixed grid: missed occurrences before the completion are skipped, as the Task API does.
    let n = next_instance(&c(), &stored(Mode::Fixed, None))
        .expect("ok")
        .expect("next");
    assert_eq!(n.due, at(2026, 11, 26, 9));
    assert_eq!(n.upcoming, Some(at(2026, 11, 27, 9)));
    let n = next_instance(&c(), &stored(Mode::FromCompletion, None))
        .expect("ok")
        .expect("next");
    assert_eq!(n.due, at(2026, 11, 27, 9));
}

#[test]
fn exhausted_rules_answer_none_and_corrupt_series_are_poison() {
    let end = Some(at(2026, 11, 26, 10));
    assert_eq!(
        next_instance(&c(), &stored(Mode::Fixed, end))
            .expect("ok")
            .map(|n| n.due),
        Some(at(2026, 11, 26, 9))
    );
    let end = Some(at(2026, 11, 25, 10));
    assert_eq!(next_instance(&c(), &stored(Mode::Fixed, end)), Ok(None));
    let mut bad = stored(Mode::Fixed, None);
    bad.rule = "FREQ=NEVER".into();
    assert!(matches!(
        next_instance(&c(), &bad),
        Err(Poison::Series { .. })
    ));
}
