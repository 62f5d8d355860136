//! The Task API's task statements: create, read, list, complete, delete, and the replay of an
//! idempotent create.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use domain::cursor::Cursor;
use domain::schedule::{NextInstance, LOCAL_FORMAT};
use domain::{CreateTask, Scope, SeriesId, Status, TaskId};

use events::EventType;

use crate::fragments::{
    default_offsets, events_of, events_of_all, next_instance_ctes, offsets_json, outbox_insert,
    rate_limit, record_claim_email, record_claim_email_when, relay_idle, stored_reminders,
    task_json, Admission,
};
use crate::outbox::Events;
use crate::statement::{opt_time, rfc3339, ts, ts_ms, Binder, Query};

/// Default and largest page size of the task list.
pub const PAGE_SIZE: u32 = 50;

/// The row of a task write ([`create_task`], [`complete_task`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskWritten {
    /// The task as the API answers it; null when nothing was written (see each builder).
    pub task: Option<Value>,
    /// The outbox events the statement wrote.
    pub events: Events,
    /// Seconds until the user's write window ends, when the write limit refused the write.
    pub retry_after: Option<i64>,
    /// The service was overloaded when the statement ran: nothing was written.
    pub shed: bool,
    /// The outbox relay was idle when the write committed: the writer arms it for its events.
    pub relay_idle: bool,
}

/// Creates a task (and its series and reminders) with its `v1.task.created` event, and records
/// the idempotency key if given, unless the user's write limit is reached. Answers one
/// [`TaskWritten`]: task null when the key was used or the limit was reached (then
/// `retry_after` holds the seconds until the window ends). `claim_email`, the caller's
/// validated token `email` claim, is recorded in `user_settings.token_email` by the same
/// statement (the reminder dispatcher's fallback address).
#[must_use]
pub fn create_task(
    user: &str,
    t: &CreateTask,
    idempotency: Option<(&str, &str)>,
    admission: &Admission,
    claim_email: Option<&str>,
) -> Query<TaskWritten> {
    let mut b = Binder::default();
    let u = b.bind(user);
    let rl = rate_limit(&mut b, &u, admission);
    let claim = record_claim_email(&mut b, &u, claim_email);
    let title = b.bind(t.title.as_str());
    let desc = b.bind(t.description.as_str());
    let prio = b.bind(t.priority.as_str());
    let due = b.bind(opt_time(t.due_date));
    let guard = match idempotency {
        Some((key, _)) => {
            let k = b.bind(key);
            format!(
                "{} and not exists (select 1 from idempotency_keys where user_id = {u} and key = {k})",
                rl.gate
            )
        }
        None => rl.gate.clone(),
    };
    let mut sql = format!("with {}{claim}", rl.ctes);
    match &t.series {
        Some(s) => {
            let rule = b.bind(s.rule.as_str());
            let tz = b.bind(s.tzid.as_str());
            let start = b.bind(rfc3339(s.start_at));
            let local = b.bind(s.dtstart_local.format(LOCAL_FORMAT).to_string());
            let end = b.bind(opt_time(s.end_date));
            let mode = b.bind(s.mode.as_str());
            let upcoming = b.bind(opt_time(s.upcoming));
            sql.push_str(&format!(
                "ser as (insert into series (series_id, user_id, title, description, priority, recurrence_pattern, tzid, start_at, dtstart_local, end_date, mode) \
                 select gen_random_uuid(), {u}, {title}, {desc}, {prio}, {rule}, {tz}, {start}::timestamptz, {local}, {end}::timestamptz, {mode} \
                 where {guard} returning series_id, recurrence_pattern, end_date), \
                 ins as (insert into tasks (task_id, series_id, user_id, title, description, priority, due_date, is_recurring, recurrence_id, recurrence_pattern, recurrence_end_date, upcoming_occurrence) \
                 select gen_random_uuid(), ser.series_id, {u}, {title}, {desc}, {prio}, {due}::timestamptz, true, {due}::timestamptz, ser.recurrence_pattern, ser.end_date, {upcoming}::timestamptz from ser returning *), "
            ));
        }
        None => sql.push_str(&format!(
            "ins as (insert into tasks (task_id, user_id, title, description, priority, due_date) \
             select gen_random_uuid(), {u}, {title}, {desc}, {prio}, {due}::timestamptz where {guard} returning *), "
        )),
    }
    // No `reminders` field: the user's default reminders (a task without due date gets none).
    let offsets = match &t.reminders {
        Some(given) => format!("{}::jsonb", b.bind(offsets_json(given))),
        None => default_offsets(&u),
    };
    sql.push_str(&format!(
        "rem as (insert into reminders (reminder_id, task_id, user_id, offset_text, offset_secs, remind_at) \
         select gen_random_uuid(), ins.task_id, ins.user_id, o.off, o.secs, ins.due_date - o.secs * interval '1 second' \
         from ins, jsonb_to_recordset({offsets}) as o(off text, secs integer) where ins.due_date is not null \
         returning offset_text, offset_secs), \
         body as (select ins.*, {task} as task from ins), \
         ob as ({outbox}), ",
        task = task_json("ins", "coalesce((select jsonb_agg(offset_text order by offset_secs desc) from rem), '[]'::jsonb)"),
        outbox = outbox_insert("body", EventType::TaskCreated, "s.task", ""),
    ));
    match idempotency {
        Some((key, hash)) => {
            let k = b.bind(key);
            let h = b.bind(hash);
            sql.push_str(&format!(
                "idem as (insert into idempotency_keys (user_id, key, request_hash, task_id, response) \
                 select {u}, {k}, {h}, body.task_id, body.task from body returning key) "
            ));
        }
        None => sql.push_str("idem as (select 1) "),
    }
    sql.push_str(&format!(
        "select body.task as task, {} as events, {} as retry_after, {} as shed, {} as relay_idle from (select 1) one left join body on true",
        events_of("ob"),
        rl.column,
        rl.shed,
        relay_idle()
    ));
    b.finish_query(sql)
}

/// A recorded `Idempotency-Key`, as [`idempotent_replay`] answers it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// The task the first request answered.
    pub response: Value,
    /// The hash of the first request's body.
    pub request_hash: String,
    /// True once the task it created is deleted.
    pub task_deleted: bool,
}

/// The stored answer for an idempotency key.
#[must_use]
pub fn idempotent_replay(user: &str, key: &str) -> Query<Replay> {
    let mut b = Binder::default();
    let sql = format!(
        "select i.response as response, i.request_hash as request_hash, \
         coalesce(t.status = 'deleted', true) as task_deleted \
         from idempotency_keys i left join tasks t on t.task_id = i.task_id \
         where i.user_id = {} and i.key = {}",
        b.bind(user),
        b.bind(key)
    );
    b.finish_query(sql)
}

/// A task as the API answers it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRow {
    /// The task JSON.
    pub task: Value,
}

/// One task of the user (not deleted).
#[must_use]
pub fn get_task(user: &str, id: &TaskId) -> Query<TaskRow> {
    let mut b = Binder::default();
    let sql = format!(
        "select {} as task from tasks t where t.task_id = {}::uuid and t.user_id = {} and t.status <> 'deleted'",
        task_json("t", &stored_reminders("t")),
        b.bind(id.as_str()),
        b.bind(user)
    );
    b.finish_query(sql)
}

/// One reminder of a task, as [`task_reminders`] answers it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskReminder {
    /// The reminder.
    pub reminder_id: String,
    /// Its offset before the due date (ISO 8601 duration).
    pub offset_text: String,
    /// When it fires (none without a due date).
    pub remind_at: Option<DateTime<Utc>>,
    /// `pending`, `sent`, `missed` or `cancelled`.
    pub status: String,
}

/// The reminders of one task, in firing order (largest offset first).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskReminders {
    /// The reminders (empty for a task without any).
    pub reminders: Vec<TaskReminder>,
}

/// The reminders of one task of the user (not deleted): one row, or none when the user has no
/// such task.
#[must_use]
pub fn task_reminders(user: &str, id: &TaskId) -> Query<TaskReminders> {
    let mut b = Binder::default();
    let sql = format!(
        "select coalesce((select jsonb_agg(jsonb_build_object('reminder_id', r.reminder_id::text, \
         'offset_text', r.offset_text, 'remind_at', {at}, 'status', r.status) \
         order by r.offset_secs desc, r.reminder_id) from reminders r where r.task_id = t.task_id), '[]'::jsonb) as reminders \
         from tasks t where t.task_id = {id}::uuid and t.user_id = {user} and t.status <> 'deleted'",
        at = ts_ms("r.remind_at"),
        id = b.bind(id.as_str()),
        user = b.bind(user)
    );
    b.finish_query(sql)
}

/// A task's place in its series ([`task_series`]); the series columns are null for a one-off
/// task.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskInSeries {
    /// The task's status.
    pub status: String,
    /// Its occurrence in the series.
    pub recurrence_id: Option<DateTime<Utc>>,
    /// The series' RRULE.
    pub rule: Option<String>,
    /// The series' local DTSTART ([`LOCAL_FORMAT`]).
    pub dtstart_local: Option<String>,
    /// The series' time zone.
    pub tzid: Option<String>,
    /// The series' end.
    pub end_date: Option<DateTime<Utc>>,
    /// `fixed` or `from_completion`.
    pub mode: Option<String>,
    /// False once the series was stopped.
    pub is_active: Option<bool>,
}

/// A task's place in its series, for completing or skipping it.
#[must_use]
pub fn task_series(user: &str, id: &TaskId) -> Query<TaskInSeries> {
    let mut b = Binder::default();
    let sql = format!(
        "select t.status as status, {rid} as recurrence_id, s.recurrence_pattern as rule, \
         s.dtstart_local as dtstart_local, s.tzid as tzid, {end} as end_date, s.mode as mode, s.is_active as is_active \
         from tasks t left join series s on s.series_id = t.series_id \
         where t.task_id = {id}::uuid and t.user_id = {u} and t.status <> 'deleted'",
        rid = ts("t.recurrence_id"),
        end = ts("s.end_date"),
        id = b.bind(id.as_str()),
        u = b.bind(user),
    );
    b.finish_query(sql)
}

/// Filters of the task list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    /// Only this status (default: everything but deleted).
    pub status: Option<Status>,
    /// Due at or after.
    pub due_from: Option<DateTime<Utc>>,
    /// Due before.
    pub due_to: Option<DateTime<Utc>>,
    /// Only instances of this series.
    pub series_id: Option<SeriesId>,
    /// Continue after this cursor.
    pub cursor: Option<Cursor>,
    /// Page size (1–50).
    pub limit: u32,
}

/// A task of a list page, with its place in the order (the next page's cursor).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListedTask {
    /// The task JSON.
    pub task: Value,
    /// Its `created_at` in microseconds since the epoch, as text.
    pub created_micros: String,
    /// Its id.
    pub task_id: String,
}

/// One page of the user's tasks, newest first; one row more than the page size tells that
/// another page exists.
#[must_use]
pub fn list_tasks(user: &str, f: &ListFilter) -> Query<ListedTask> {
    let mut b = Binder::default();
    let u = b.bind(user);
    let mut conds = vec![format!("t.user_id = {u}")];
    match f.status {
        Some(s) => conds.push(format!("t.status = {}", b.bind(s.as_str()))),
        None => conds.push("t.status <> 'deleted'".into()),
    }
    if let Some(from) = f.due_from {
        conds.push(format!(
            "t.due_date >= {}::timestamptz",
            b.bind(rfc3339(from))
        ));
    }
    if let Some(to) = f.due_to {
        conds.push(format!("t.due_date < {}::timestamptz", b.bind(rfc3339(to))));
    }
    if let Some(s) = &f.series_id {
        conds.push(format!("t.series_id = {}::uuid", b.bind(s.as_str())));
    }
    if let Some(c) = &f.cursor {
        conds.push(format!(
            "(t.created_at, t.task_id) < (timestamptz 'epoch' + {}::bigint * interval '1 microsecond', {}::uuid)",
            b.bind(c.created_micros.to_string()),
            b.bind(c.task_id.as_str())
        ));
    }
    let limit = b.bind(i64::from(f.limit.clamp(1, PAGE_SIZE)) + 1);
    let sql = format!(
        "select {} as task, ((extract(epoch from t.created_at) * 1000000)::bigint)::text as created_micros, \
         t.task_id::text as task_id \
         from tasks t where {} order by t.created_at desc, t.task_id desc limit {limit}",
        task_json("t", &stored_reminders("t")),
        conds.join(" and ")
    );
    b.finish_query(sql)
}

/// Completes a pending task (a completed one is answered as is: idempotent) with its
/// `v1.task.completed` event, and creates the series' next instance if given.
/// Answers one [`TaskWritten`]: task null if the task does not exist for the user or the write
/// limit is reached (then `retry_after` is set). `claim_email` is recorded like
/// [`create_task`]'s (the series' next instance gets reminders).
#[must_use]
pub fn complete_task(
    user: &str,
    id: &TaskId,
    next: Option<NextInstance>,
    admission: &Admission,
    claim_email: Option<&str>,
) -> Query<TaskWritten> {
    let mut b = Binder::default();
    let idp = b.bind(id.as_str());
    let u = b.bind(user);
    let rl = rate_limit(&mut b, &u, admission);
    let claim = record_claim_email_when(&mut b, &u, claim_email, "exists (select 1 from upd)");
    let nxt = next_instance_ctes(&mut b, "upd", next);
    let sql = format!(
        "with {rlc}cur as (select * from tasks where task_id = {idp}::uuid and user_id = {u} and status <> 'deleted' and {gate} for update), \
         upd as (update tasks t set status = 'completed', completed_at = now(), updated_at = now(), version = t.version + 1 \
         from cur where t.task_id = cur.task_id and cur.status = 'pending' returning t.*), \
         {nxt}\
         {claim}ob as ({outbox}) \
         select coalesce((select {upd_json} from upd), (select {cur_json} from cur)) as task, \
         {events} as events, {rate} as retry_after, {shed} as shed, {relay} as relay_idle",
        rlc = rl.ctes,
        gate = rl.gate,
        rate = rl.column,
        shed = rl.shed,
        relay = relay_idle(),
        outbox = outbox_insert("upd", EventType::TaskCompleted, &task_json("s", &stored_reminders("s")), ""),
        upd_json = task_json("upd", &stored_reminders("upd")),
        cur_json = task_json("cur", &stored_reminders("cur")),
        events = events_of_all(&["ob", "nob"]),
    );
    b.finish_query(sql)
}

/// Deletes a task (`this`; completed instances stay in history unless deleted one by one), or
/// for a series instance this and later pending instances (`following`, the series ends
/// before it) or all pending instances (`all`, the series stops). One `v1.task.deleted` event
/// per deleted task; `next` is the instance to create when one instance is skipped.
/// Answers one [`TasksDeleted`]: no task was deleted if it does not exist for the user or the
/// write limit is reached (then `retry_after` is set).
#[must_use]
pub fn delete_task(
    user: &str,
    id: &TaskId,
    scope: Scope,
    next: Option<NextInstance>,
    admission: &Admission,
) -> Query<TasksDeleted> {
    let mut b = Binder::default();
    let idp = b.bind(id.as_str());
    let u = b.bind(user);
    let rl = rate_limit(&mut b, &u, admission);
    let sc = b.bind(scope.as_str());
    let nxt = next_instance_ctes(&mut b, "one", next);
    let sql = format!(
        "with {rlc}cur as (select * from tasks where task_id = {idp}::uuid and user_id = {u} and status <> 'deleted' and {gate} for update), \
         del as (update tasks t set status = 'deleted', updated_at = now(), version = t.version + 1 from cur \
         where t.task_id = cur.task_id or ({sc} <> 'this' and cur.series_id is not null and t.series_id = cur.series_id \
         and t.status = 'pending' and ({sc} = 'all' or t.recurrence_id >= cur.recurrence_id)) returning t.*), \
         ser as (update series s set is_active = ({sc} = 'following'), \
         end_date = case when {sc} = 'following' then cur.recurrence_id - interval '1 second' else s.end_date end, \
         updated_at = now() from cur where {sc} <> 'this' and s.series_id = cur.series_id returning s.series_id), \
         one as (select * from del where {sc} = 'this' and del.status = 'deleted' and del.series_id is not null and del.completed_at is null), \
         {nxt}\
         ob as ({outbox}) \
         select (select count(*) from del) as deleted, {events} as events, {rate} as retry_after, {shed} as shed, \
         {relay} as relay_idle",
        rlc = rl.ctes,
        gate = rl.gate,
        rate = rl.column,
        shed = rl.shed,
        relay = relay_idle(),
        outbox = outbox_insert("del", EventType::TaskDeleted, &task_json("s", &stored_reminders("s")), &format!(", 'scope', {sc}::text")),
        events = events_of_all(&["ob", "nob"]),
    );
    b.finish_query(sql)
}

/// The row of [`delete_task`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TasksDeleted {
    /// Tasks deleted.
    pub deleted: i64,
    /// The outbox events the statement wrote.
    pub events: Events,
    /// Seconds until the user's write window ends, when the write limit refused the write.
    pub retry_after: Option<i64>,
    /// The service was overloaded when the statement ran: nothing was written.
    pub shed: bool,
    /// The outbox relay was idle when the write committed: the writer arms it for its events.
    pub relay_idle: bool,
}
