//! Statement builders checked without a database: values bound, never interpolated; the
//! shapes each one promises.

use chrono::TimeZone;
use serde_json::json;

use domain::cursor::Cursor;
use domain::schedule::NextInstance;
use domain::{parse_create, Scope, SeriesId, Status, TaskId};

use crate::calendar::*;
use crate::edits::*;
use crate::engine::*;
use crate::jobs::*;
use crate::outbox::*;
use crate::settings::*;
use crate::statement::*;
use crate::tasks::*;
use chrono::{DateTime, Utc};

/// A per-user write limit without load shedding.
fn admit(per_user_per_minute: u32) -> crate::Admission {
    crate::Admission {
        per_user_per_minute,
        received: chrono::Utc::now(),
        max_queue_ms: 0,
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0)
        .single()
        .unwrap_or_default()
}

fn sid() -> SeriesId {
    SeriesId::parse("0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a").expect("id")
}

fn id() -> TaskId {
    TaskId::parse("0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a").expect("id")
}

#[test]
fn user_input_is_bound_never_interpolated() {
    let evil = "x'); drop table tasks; --";
    let t = parse_create(&json!({"title": evil, "description": evil, "due_date": "2026-12-01T09:00:00Z", "reminders": ["PT1H"]}), now())
        .expect("valid");
    let stmts = statements![
        create_task(evil, &t, Some((evil, "h")), &admit(600), Some(evil)),
        create_task(evil, &t, None, &admit(0), None),
        get_task(evil, &id()),
        list_tasks(
            evil,
            &ListFilter {
                limit: 50,
                ..Default::default()
            },
        ),
        complete_task(evil, &id(), None, &admit(600), Some("a@b.c")),
        delete_task(evil, &id(), Scope::All, None, &admit(600)),
        idempotent_replay(evil, evil),
        get_series(evil, &sid()),
        calendar(evil),
        get_settings(evil),
        issue_push_password(evil, &admit(600), Some("a@b.c")),
        issue_push_password(evil, &admit(0), None),
        issue_push_password(evil, &admit(0), Some("a@b.c")),
        put_settings(
            evil,
            &domain::parse_settings(&json!({"default_reminders": ["PT1H"]})).expect("valid"),
            &admit(600),
            Some(evil),
        ),
    ];
    for s in &stmts {
        assert!(!s.sql.contains("drop table"), "{}", s.sql);
        assert_placeholders(s);
    }
    assert!(stmts[0].params.contains(&json!(evil)));
}

#[test]
fn a_create_without_reminders_reads_the_user_default_and_given_ones_are_bound() {
    let due = "2026-12-01T09:00:00Z";
    let absent = parse_create(&json!({"title": "a", "due_date": due}), now()).expect("valid");
    let s = create_task("u1", &absent, None, &admit(0), None);
    assert!(s
        .sql
        .contains("from user_settings us where us.user_id = $1"));
    assert_placeholders(&s);
    for reminders in [json!([]), json!(["PT1H"])] {
        let given = parse_create(
            &json!({"title": "a", "due_date": due, "reminders": reminders}),
            now(),
        )
        .expect("valid");
        let s = create_task("u1", &given, None, &admit(0), None);
        assert!(!s.sql.contains("user_settings"), "{}", s.sql);
        assert_placeholders(&s);
    }
    let s = put_settings(
        "u1",
        &domain::parse_settings(&json!({"default_reminders": ["P1D", "PT0S"]})).expect("valid"),
        &admit(0),
        None,
    );
    assert_eq!(
        s.params,
        [
            json!("u1"),
            s.params[1].clone(),
            json!(0),
            json!(r#"[{"off":"P1D","secs":86400},{"off":"PT0S","secs":0}]"#),
            json!(null),
            json!(null)
        ]
    );
    let s = create_task("u1", &absent, None, &admit(0), Some("u1@example.com"));
    assert!(
        s.sql.starts_with("with adm as (select ")
            && s.sql.contains("), ce as (insert into user_settings"),
        "{}",
        s.sql
    );
    assert_eq!(s.params[3], json!("u1@example.com"));
    assert_placeholders(&s);
}

#[test]
fn recurring_create_binds_the_series() {
    let t = parse_create(
        &json!({"title": "Standup", "recurrence": "daily", "due_date": "2026-12-01T09:00:00Z"}),
        now(),
    )
    .expect("valid");
    let s = create_task("u1", &t, None, &admit(600), None);
    assert!(s.sql.contains("insert into series"));
    assert!(s.params.contains(&json!("FREQ=DAILY")));
    assert!(
        s.params.contains(&json!("2026-12-02T09:00:00Z")),
        "upcoming occurrence bound"
    );
    assert_placeholders(&s);
}

#[test]
fn list_filters_and_page_size() {
    let c = Cursor {
        created_micros: 5,
        task_id: id(),
    };
    let s = list_tasks(
        "u",
        &ListFilter {
            status: Some(Status::Completed),
            due_from: Some(now()),
            due_to: Some(now()),
            series_id: Some(sid()),
            cursor: Some(c),
            limit: 500,
        },
    );
    assert_eq!(s.params.last(), Some(&json!(51)));
    assert_placeholders(&s);
    let patch = domain::input::parse_patch(&json!({"title": "t"}), true).expect("patch");
    assert_placeholders(&patch_task(
        "u",
        &id(),
        &patch,
        Scope::Following,
        Some(3),
        &admit(600),
        Some("a@b.c"),
    ));
    assert_placeholders(&patch_task(
        "u",
        &id(),
        &patch,
        Scope::This,
        None,
        &admit(0),
        None,
    ));
    assert_placeholders(&patch_task(
        "u",
        &id(),
        &patch,
        Scope::This,
        None,
        &admit(0),
        Some("a@b.c"),
    ));
    assert_placeholders(&mark_published(&["a", "b"]));
    assert_placeholders(&record_job("outbox-repair", "outbox", &json!({}), true));
    assert_eq!(mark_published(&["a", "b"]).params_json(), r#"["a,b"]"#);
}

#[test]
fn series_edits_bind_everything() {
    use domain::edit::{plan_edit, resolve_series, Known, StoredSeries};
    let evil = "x'); drop table tasks; --";
    let stored = StoredSeries {
        rule: "FREQ=DAILY".into(),
        dtstart_local: "2026-12-01T09:00:00".into(),
        tzid: "UTC".into(),
        end_date: None,
        mode: domain::Mode::Fixed,
    };
    let patch = domain::input::parse_patch(
        &json!({"title": evil, "recurrence": "FREQ=WEEKLY;BYDAY=MO", "reminders": ["PT1H"]}),
        false,
    )
    .expect("patch");
    let plan = resolve_series(&stored, &patch, None, now()).expect("plan");
    let known = [Known {
        task_id: id().as_str().into(),
        recurrence_id: Some(now()),
        status: Status::Pending,
        is_exception: false,
    }];
    let edit = plan_edit(
        &stored,
        plan,
        &known,
        id().as_str(),
        None,
        true,
        true,
        now(),
    )
    .expect("edit");
    let whole = plan_edit(
        &stored,
        resolve_series(&stored, &patch, None, now()).expect("plan"),
        &known,
        id().as_str(),
        None,
        false,
        true,
        now(),
    )
    .expect("edit without a split");
    for s in statements![
        edit_series(
            evil,
            &id(),
            &patch,
            Scope::All,
            Some(2),
            &whole,
            &admit(600)
        ),
        edit_series(
            evil,
            &id(),
            &patch,
            Scope::Following,
            Some(2),
            &edit,
            &admit(600)
        ),
        edit_series(evil, &id(), &patch, Scope::All, None, &edit, &admit(0)),
        edit_context(evil, &id()),
    ] {
        assert!(!s.sql.contains("drop table"), "{}", s.sql);
        assert_placeholders(&s);
    }
    let s = edit_series("u", &id(), &patch, Scope::All, None, &edit, &admit(600));
    assert!(s.sql.contains("insert into rate_limits"));
    assert!(s.params.contains(&json!("FREQ=WEEKLY;BYDAY=MO")));
}

#[test]
fn engine_statements_bind_everything() {
    let evil = "x'); drop table tasks; --";
    let next = NextInstance {
        due: now(),
        upcoming: None,
    };
    for s in statements![
        completed_instance(evil, &id()),
        ensure_next_instance(evil, evil, &id(), Some(next)),
        ensure_next_instance(evil, evil, &id(), None),
        engine_series(&sid()),
        precreate_instance(evil, evil, &sid(), now(), Some(now())),
        precreate_instance(evil, evil, &sid(), now(), None),
        series_chains(&[sid(), sid()]),
        stuck_chains(evil, now(), 100),
        record_catch_up(&sid(), 3, now(), Some(now())),
        record_catch_up(&sid(), 0, now(), None),
        record_processed(evil, evil),
        precreate_batch(
            evil,
            &[BatchItem {
                key: evil.into(),
                series: sid(),
                occurrence: now(),
                upcoming: None,
            }],
        ),
    ] {
        assert!(!s.sql.contains("drop table"), "{}", s.sql);
        assert_placeholders(&s);
    }
    let s = ensure_next_instance("c", "e", &id(), None);
    assert!(s
        .sql
        .contains("on conflict (series_id, recurrence_id) do nothing"));
    assert!(s.sql.contains("insert into processed_events"));
    assert_eq!(s.params[3], json!(true), "exhausted flag");
}

#[test]
fn rows_decode_by_column_name_and_a_renamed_column_fails() {
    let row = |v: serde_json::Value| match v {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("object literal"),
    };
    let reordered = row(
        json!({"relay_idle": true, "shed": false, "retry_after": null, "events": [], "task": {"title": "t"}}),
    );
    let decoded: Vec<TaskWritten> = decode_rows(vec![reordered]).expect("decodes");
    assert_eq!(decoded[0].task, Some(json!({"title": "t"})));
    let renamed = row(
        json!({"task_json": {"title": "t"}, "events": [], "retry_after": null, "shed": false, "relay_idle": true}),
    );
    let err = decode_rows::<TaskWritten>(vec![renamed]).expect_err("unknown column");
    assert!(err.reason.contains("task_json"), "{err}");
    let missing = row(json!({"task": null, "retry_after": 3}));
    assert!(decode_rows::<TaskWritten>(vec![missing]).is_err());
}
