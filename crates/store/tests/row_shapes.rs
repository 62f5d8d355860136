//! Every query of the platform, run against a real `PostgreSQL` with the project's migrations, the
//! way the Dapr binding runs it (guarded, parameters bound, never interpolated), and its rows
//! decoded into the row type its builder names. A column renamed, dropped or added in the SQL
//! without the row type following fails here.
//!
//! Needs a database with the migrations and no services writing to it: `scripts/row-shapes.sh`
//! makes a scratch one on a stack's server and runs this (`scripts/test.sh` does so on its test
//! stack).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{DateTime, Duration, DurationRound, TimeDelta, Utc};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use domain::edit::{plan_edit, resolve_series, Known, StoredSeries};
use domain::schedule::NextInstance;
use domain::{parse_create, parse_patch, parse_settings, Mode, Scope, SeriesId, Status, TaskId};
use notify::Channel;
use store::engine::BatchItem;
use store::reminders::{Delivery, Outcome};
use store::{calendar, changes, edits, engine, health, outbox, reminders, retention};
use store::{guard, settings, tasks, Query};

/// A per-user write limit without load shedding.
fn admit(per_user_per_minute: u32) -> store::Admission {
    store::Admission {
        per_user_per_minute,
        received: chrono::Utc::now(),
        max_queue_ms: 0,
    }
}

/// Runs `q` through `psql` as `PREPARE` + `EXECUTE` of its guarded SQL; its rows, decoded.
fn run<R: DeserializeOwned>(q: &Query<R>) -> Vec<R> {
    let guarded = guard::guard(&q.sql).expect("guardable statement");
    let out = psql(&prepared(&guarded, q, ""), &q.sql);
    let rows: Vec<Vec<Value>> = out
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (count, columns) = l.split_once('\u{1f}').unwrap_or((l, ""));
            let count = count.parse::<u64>().map_or(Value::Null, Value::from);
            let columns = if columns.is_empty() {
                Value::Null
            } else {
                Value::from(columns)
            };
            vec![count, columns]
        })
        .collect();
    let rows = guard::verify(rows).expect("complete answer");
    store::decode_rows(rows).unwrap_or_else(|e| panic!("{e}\n{}", q.sql))
}

/// `sql` as `PREPARE` + `EXECUTE` with the values `q` binds (as it is when `q` has none), the
/// run prefixed by `prefix` (`""`, or `"EXPLAIN "` for its plan).
fn prepared<R>(sql: &str, q: &Query<R>, prefix: &str) -> String {
    let args: Vec<String> = q.params.iter().map(literal).collect();
    if args.is_empty() {
        format!("{prefix}{sql};\n")
    } else {
        format!(
            "PREPARE q AS {sql};\n{prefix}EXECUTE q({});\n",
            args.join(", ")
        )
    }
}

/// Runs `script` with `psql` on the scratch database; its unaligned output (`what` names it in
/// a failure).
fn psql(script: &str, what: &str) -> String {
    let dsn = std::env::var("STORE_TEST_PG_DSN")
        .expect("STORE_TEST_PG_DSN names the database to check the row shapes against");
    let mut child = Command::new("psql")
        .args([
            dsn.as_str(),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
        ])
        .args(["-F", "\u{1f}", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql runs (PostgreSQL client tools on PATH)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{what}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A bound value as an untyped SQL literal (`PostgreSQL` infers its type from the statement, as it
/// does for the binding's parameters).
fn literal(v: &Value) -> String {
    let text = match v {
        Value::Null => return "NULL".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!("'{}'", text.replace('\'', "''"))
}

fn one<R: DeserializeOwned>(q: &Query<R>) -> R {
    let mut rows = run(q);
    assert_eq!(rows.len(), 1, "one row expected from {}", q.sql);
    rows.remove(0)
}

fn task_id(task: &Value) -> TaskId {
    TaskId::parse(task["task_id"].as_str().unwrap()).unwrap()
}

fn fresh_user() -> String {
    format!(
        "row-shapes-{}",
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    )
}

fn soon() -> DateTime<Utc> {
    (Utc::now() + Duration::days(2))
        .duration_trunc(TimeDelta::hours(1))
        .unwrap()
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario: each query runs on the rows the earlier ones wrote"
)]
#[ignore = "needs PostgreSQL with the migrations: scripts/test.sh runs it on its stack"]
fn every_query_answers_the_row_type_its_builder_names() {
    let user = fresh_user();
    let now = Utc::now();
    let due = soon().to_rfc3339();

    // The Task API's task statements.
    let one_off = parse_create(
        &json!({"title": "one-off", "due_date": due, "reminders": ["PT1H"]}),
        now,
    )
    .unwrap();
    let created = one(&tasks::create_task(
        &user,
        &one_off,
        Some(("key-1", "hash-1")),
        &admit(600),
        Some("shapes@example.org"),
    ));
    let one_off_id = task_id(created.task.as_ref().unwrap());
    assert!(!created.shed);
    // Load shedding: a statement that starts later than the request's queue budget writes
    // nothing, counts nothing against the user, and says so.
    let late = store::Admission {
        per_user_per_minute: 600,
        received: Utc::now() - Duration::seconds(10),
        max_queue_ms: 100,
    };
    let shed = one(&tasks::create_task(&user, &one_off, None, &late, None));
    assert!(
        shed.shed && shed.task.is_none() && shed.events.0.is_empty() && shed.retry_after.is_none()
    );
    assert_eq!(created.events.0.len(), 1);
    let replay = one(&tasks::idempotent_replay(&user, "key-1"));
    assert_eq!(
        (replay.request_hash.as_str(), replay.task_deleted),
        ("hash-1", false)
    );
    let recurring = parse_create(
        &json!({"title": "daily", "due_date": due, "recurrence": "FREQ=DAILY", "reminders": ["PT10M"]}),
        now,
    )
    .unwrap();
    let series_task = one(&tasks::create_task(
        &user,
        &recurring,
        None,
        &admit(0),
        None,
    ));
    let first = series_task.task.unwrap();
    let first_id = task_id(&first);
    let series_id = SeriesId::parse(first["series_id"].as_str().unwrap()).unwrap();
    assert_eq!(
        one(&tasks::get_task(&user, &one_off_id)).task["title"],
        "one-off"
    );
    let with_reminders = one(&tasks::task_reminders(&user, &first_id)).reminders;
    assert_eq!(
        with_reminders
            .iter()
            .map(|r| (
                r.offset_text.as_str(),
                r.status.as_str(),
                r.remind_at.is_some()
            ))
            .collect::<Vec<_>>(),
        [("PT10M", "pending", true)]
    );
    assert!(run(&tasks::task_reminders("someone-else", &first_id)).is_empty());
    let page = run(&tasks::list_tasks(
        &user,
        &tasks::ListFilter {
            limit: 50,
            ..Default::default()
        },
    ));
    assert_eq!(page.len(), 2);
    assert!(page[0].created_micros.parse::<i64>().is_ok());
    let place = one(&tasks::task_series(&user, &first_id));
    assert_eq!(
        (place.status.as_str(), place.is_active),
        ("pending", Some(true))
    );
    let in_one_off = one(&tasks::task_series(&user, &one_off_id));
    assert_eq!(in_one_off.rule, None);

    // Edits.
    let patch = parse_patch(&json!({"title": "renamed"}), true).unwrap();
    let edited = one(&edits::patch_task(
        &user,
        &one_off_id,
        &patch,
        Scope::This,
        Some(1),
        &admit(600),
        None,
    ));
    assert_eq!(edited.task.unwrap()["title"], "renamed");
    let context = one(&edits::edit_context(&user, &first_id));
    assert_eq!(context.instances.len(), 1);
    let stored = StoredSeries {
        rule: context.rule.clone().unwrap(),
        dtstart_local: context.dtstart_local.clone().unwrap(),
        tzid: context.tzid.clone().unwrap(),
        end_date: context.end_date,
        mode: Mode::parse(context.mode.as_deref().unwrap()).unwrap(),
    };
    let rule_patch = parse_patch(&json!({"recurrence": "FREQ=WEEKLY"}), false).unwrap();
    let plan = resolve_series(&stored, &rule_patch, None, now).unwrap();
    let known: Vec<Known> = context
        .instances
        .iter()
        .map(|k| Known {
            task_id: k.task_id.clone(),
            recurrence_id: k.recurrence_id,
            status: Status::parse(&k.status).unwrap(),
            is_exception: k.is_exception,
        })
        .collect();
    let series_edit = plan_edit(
        &stored,
        plan,
        &known,
        first_id.as_str(),
        None,
        false,
        true,
        now,
    )
    .unwrap();
    let rule_edited = one(&edits::edit_series(
        &user,
        &first_id,
        &rule_patch,
        Scope::All,
        None,
        &series_edit,
        &admit(600),
    ));
    assert!(rule_edited.task.is_some());

    // Settings and push credentials.
    assert!(one(&settings::get_settings(&user)).settings.is_object());
    let saved = one(&settings::put_settings(
        &user,
        &parse_settings(&json!({"default_reminders": ["PT1H"]})).unwrap(),
        &admit(600),
        None,
    ));
    assert!(saved.settings.is_some());
    let password = one(&settings::issue_push_password(&user, &admit(600), None));
    assert_eq!(password.password.map(|p| p.len()), Some(64));

    // Series reads.
    let series = one(&calendar::get_series(&user, &series_id));
    assert_eq!(series.rule, "FREQ=WEEKLY");
    let entries = run(&calendar::calendar(&user));
    assert_eq!(
        entries.iter().filter(|e| e.kind == "series").count(),
        1,
        "{entries:?}"
    );
    assert_eq!(entries.iter().filter(|e| e.kind == "task").count(), 1);

    // Completion, and the engine's statements.
    let next_due = soon() + Duration::days(7);
    let next = NextInstance {
        due: next_due,
        upcoming: Some(next_due + Duration::days(7)),
    };
    let completed = one(&tasks::complete_task(
        &user,
        &first_id,
        Some(next),
        &admit(600),
        None,
    ));
    assert_eq!(completed.task.unwrap()["status"], "completed");
    assert_eq!(completed.events.0.len(), 2);
    let instance = one(&engine::completed_instance(&user, &first_id));
    assert!(instance.completed_at.is_some());
    let ensured = one(&engine::ensure_next_instance(
        "row-shapes",
        &format!("{user}-completed"),
        &first_id,
        Some(next),
    ));
    assert!(ensured.newly_processed);
    assert!(one(&engine::engine_series(&series_id)).is_active);
    let chains = run(&engine::series_chains(std::slice::from_ref(&series_id)));
    assert_eq!(chains.len(), 1);
    assert_eq!(chains[0].frontier, Some(next_due));
    run(&engine::stuck_chains(
        "00000000-0000-0000-0000-000000000000",
        now,
        10,
    ));
    let later = next_due + Duration::days(7);
    let precreated = one(&engine::precreate_instance(
        "row-shapes",
        &format!("{user}-precreate"),
        &series_id,
        later,
        Some(later + Duration::days(7)),
    ));
    assert_eq!(precreated.created, 1);
    let batch = one(&engine::precreate_batch(
        "row-shapes",
        &[BatchItem {
            key: format!("{user}-batch"),
            series: series_id.clone(),
            occurrence: later + Duration::days(7),
            upcoming: None,
        }],
    ));
    assert_eq!((batch.processed, batch.created), (1, 1));

    // Reminders: the one-off task's reminder needs its job.
    let reconciled = run(&reminders::reconcile_tasks(std::slice::from_ref(
        &one_off_id,
    )));
    assert_eq!(reconciled.len(), 1, "{reconciled:?}");
    let row = reconciled[0].plan_row().unwrap();
    let remind_at = row.remind_at.unwrap();
    // Within two days and without a job yet: the horizon job finds its task.
    let horizon = run(&reminders::entering_horizon(None, 1000));
    assert!(
        horizon.iter().any(|t| t.task_id == one_off_id.as_str()),
        "{horizon:?}"
    );
    let recorded = one(&reminders::record_jobs(
        &[(row.reminder_id.clone(), remind_at)],
        &[],
        &[],
    ));
    assert_eq!(recorded.scheduled, 1);
    let claims = run(&reminders::claim_deliveries(
        &row.reminder_id,
        remind_at,
        &format!("{user}-due"),
    ));
    assert!(!claims.is_empty() && claims.iter().all(|c| c.claimed));
    let outcome = one(&reminders::record_outcome(
        &row.reminder_id,
        remind_at,
        &[Outcome {
            channel: Channel::parse(&claims[0].channel).unwrap(),
            result: Delivery::Failed("shape check".into()),
        }],
    ));
    assert_eq!(outcome.deliveries, 1);
    run(&reminders::overdue_undelivered());

    // Deletion, the outbox, health.
    let deleted = one(&tasks::delete_task(
        &user,
        &one_off_id,
        Scope::This,
        None,
        &admit(600),
    ));
    assert_eq!(deleted.deleted, 1);
    // The repair jobs leave rows this young to the relay; the relay's read takes them.
    run(&outbox::unpublished(1000));
    assert!(!run(&outbox::unpublished_from(store::TASK_API_SOURCE, 1000)).is_empty());
    assert!(
        deleted.relay_idle,
        "no relay is armed in the scratch database"
    );
    assert_eq!(run(&outbox::arm_relay()).len(), 1, "the first arm arms");
    assert!(
        run(&outbox::arm_relay()).is_empty(),
        "an armed relay is not armed twice"
    );
    let started = one(&outbox::start_relay())
        .run
        .expect("no other run holds the relay");
    assert_eq!(
        one(&outbox::start_relay()).run,
        None,
        "one relay run at a time"
    );
    assert_eq!(
        run(&outbox::arm_relay()).len(),
        1,
        "armed again after the start cleared the arm"
    );
    let finish = |run_id: &str| run(&Query::<Value>::new(outbox::finish_relay(run_id))).len();
    assert_eq!(finish(&started), 1, "the run ends");
    assert_eq!(finish(&started), 0, "a run ends once");
    let next = one(&outbox::start_relay()).run;
    let next = next.expect("a new run after it");
    assert_ne!(next, started);
    assert_eq!(finish(&next), 1);
    assert!(one(&outbox::outbox_gauges()).pending > 0);
    assert_eq!(one(&health::ping()).ok, 1);

    // The dashboard's change log.
    let change = changes::Change {
        event_id: format!("{user}-change"),
        user_id: user.clone(),
        event_type: "v1.task.created".into(),
        task_id: Some(one_off_id.as_str().into()),
        series_id: None,
        time: Some(now.to_rfc3339()),
    };
    let seq = one(&changes::record(&change)).seq;
    // A redelivery records nothing and answers the same number (it is republished to live sync).
    assert_eq!(one(&changes::record(&change)).seq, seq);
    assert_eq!(one(&changes::cursor(&user)).seq, seq);
    // A bulk delivery: two users' changes in one statement, each user's numbered in the order
    // given after its cursor; the change already logged keeps its number; redelivering the bulk
    // records nothing and answers the same numbers.
    let other = format!("{user}-other");
    let bulk: Vec<changes::Change> = [(&user, "b1"), (&other, "b2"), (&user, "b3")]
        .iter()
        .map(|(u, id)| changes::Change {
            event_id: format!("{user}-{id}"),
            user_id: (*u).clone(),
            ..change.clone()
        })
        .chain(std::iter::once(change.clone()))
        .collect();
    let numbers = |rows: Vec<changes::Recorded>| {
        let mut n: Vec<(String, i64)> = rows.into_iter().map(|r| (r.event_id, r.seq)).collect();
        n.sort();
        n
    };
    let first = numbers(run(&changes::record_many(&bulk)));
    let expected = numbers(vec![
        changes::Recorded {
            event_id: format!("{user}-b1"),
            seq: seq + 1,
        },
        changes::Recorded {
            event_id: format!("{user}-b2"),
            seq: 1,
        },
        changes::Recorded {
            event_id: format!("{user}-b3"),
            seq: seq + 2,
        },
        changes::Recorded {
            event_id: change.event_id.clone(),
            seq,
        },
    ]);
    assert_eq!(first, expected);
    assert_eq!(numbers(run(&changes::record_many(&bulk))), expected);
    assert_eq!(one(&changes::cursor(&user)).seq, seq + 2);
    assert_eq!(one(&changes::cursor(&other)).seq, 1);
    let logged = run(&changes::after(&user, 0));
    // Live-poll admission: two takers get different slots, a third finds the cap of two held,
    // a slot given back is free again and only its holder can give it back.
    let a = one(&changes::take_slot(2, "poll-a", 30)).slot;
    let b = one(&changes::take_slot(2, "poll-b", 30)).slot;
    assert_ne!(a, b);
    assert!(run(&changes::take_slot(2, "poll-c", 30)).is_empty());
    assert!(run(&changes::give_back_slot(a, "poll-b")).is_empty());
    assert_eq!(one(&changes::give_back_slot(a, "poll-a")).slot, a);
    assert_eq!(one(&changes::take_slot(2, "poll-c", 30)).slot, a);
    one(&changes::give_back_slot(a, "poll-c"));
    one(&changes::give_back_slot(b, "poll-b"));
    assert_eq!(logged.len(), 3);
    assert_eq!(logged[0].to_json()["type"], "v1.task.created");

    // Retention: every purge answers its table and count.
    for purge in retention::Retention::default().purges() {
        let purged = one(&purge);
        assert!(purged.deleted >= 0, "{}", purged.table_name);
    }
}

/// The statements a relay run, a consumer's delivery or the reminder sweep make once per batch
/// find the batch's rows by key or range: with the change log, the outbox, the tasks and the reminders 20,000 rows long, their
/// plans read none of them whole (a claim joined on `seq`, which only the pending rows' partial index covers, and a
/// lookup `in (select …)` of a JSON input the planner sizes at 100 rows both did).
#[test]
#[ignore = "needs PostgreSQL with the migrations: scripts/test.sh runs it on its stack"]
fn batch_statements_read_their_rows_by_key_however_long_the_tables() {
    psql(
        "insert into dashboard_changes (event_id, user_id, seq, event_type) \
         select 'plan-' || g, 'plan-user', g, 'v1.task.created' from generate_series(1, 20000) g \
         on conflict do nothing; \
         insert into outbox (event_id, type, topic, user_id, payload, published_at) \
         select gen_random_uuid(), 'v1.task.created', 'task-operations', 'plan-user', '{}', now() \
         from generate_series(1, 20000) g; \
         insert into tasks (task_id, user_id, title) \
         select gen_random_uuid(), 'plan-user', 'plan' from generate_series(1, 20000) g; \
         insert into reminders (reminder_id, task_id, user_id, offset_text, offset_secs) \
         select gen_random_uuid(), t.task_id, t.user_id, '1h', 3600 from tasks t \
         where t.user_id = 'plan-user'; \
         analyze dashboard_changes; analyze outbox; analyze tasks; analyze reminders;",
        "filling the tables",
    );
    let change = changes::Change {
        event_id: "plan-change".into(),
        user_id: "plan-user".into(),
        event_type: "v1.task.created".into(),
        task_id: None,
        series_id: None,
        time: None,
    };
    let plans = [
        (
            "record_many",
            changes::record_many(&[change.clone(), change]).statement,
        ),
        (
            "unpublished_from",
            outbox::unpublished_from(store::TASK_API_SOURCE, 500).statement,
        ),
        (
            "overdue_undelivered",
            reminders::overdue_undelivered().statement,
        ),
        (
            "reconcile_tasks",
            reminders::reconcile_tasks(&[
                TaskId::parse("6f1c2d3e-0000-4000-8000-000000000001").unwrap(),
                TaskId::parse("6f1c2d3e-0000-4000-8000-000000000002").unwrap(),
            ])
            .statement,
        ),
    ];
    for (name, statement) in plans {
        let q = Query::<Value>::new(statement);
        let plan = psql(&prepared(&q.sql, &q, "EXPLAIN "), name);
        for table in ["dashboard_changes", "outbox", "tasks", "reminders"] {
            assert!(
                !plan.contains(&format!("Seq Scan on {table}")),
                "{name} reads all of {table}:\n{plan}"
            );
        }
    }
}
