//! Every SQL statement of the Task API. Each builder returns a [`Statement`]: SQL text with
//! `$n` placeholders and the JSON array of values bound to them (values are never
//! interpolated into the SQL). Each write is one statement that also inserts its outbox events,
//! so a change and its events commit together.
//!
//! Read statements answer JSON built in SQL (cast to text for a stable shape through the Dapr
//! binding); write statements answer the task and an `events` array of outbox rows.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::cursor::Cursor;
use crate::edit::{Action, SeriesEdit};
use crate::input::{CreateTask, PatchTask};
use crate::schedule::LOCAL_FORMAT;
use crate::types::{ReminderOffset, Scope, Status, TaskId};

/// Default and largest page size of the task list.
pub const PAGE_SIZE: u32 = 50;

/// SQL text and its bound parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// SQL with `$1`, `$2`, … placeholders.
    pub sql: String,
    /// The values, in placeholder order.
    pub params: Vec<Value>,
}

impl Statement {
    /// The parameters as the JSON text the Dapr PostgreSQL binding expects in `params`.
    pub fn params_json(&self) -> String {
        Value::Array(self.params.clone()).to_string()
    }
}

/// Collects bound values and hands out their placeholders (every statement builder of the
/// platform uses it, so values are never interpolated into SQL).
#[derive(Default)]
pub struct Binder(Vec<Value>);

impl Binder {
    /// Binds a value; answers its placeholder (`$1`, `$2`, …).
    pub fn bind(&mut self, v: impl Into<Value>) -> String {
        self.0.push(v.into());
        format!("${}", self.0.len())
    }

    /// The statement of `sql` with the values bound so far.
    pub fn finish(self, sql: String) -> Statement {
        Statement {
            sql,
            params: self.0,
        }
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn opt_time(t: Option<DateTime<Utc>>) -> Value {
    t.map(rfc3339).map(Value::String).unwrap_or(Value::Null)
}

/// A timestamptz as RFC 3339 UTC text (seconds).
fn ts(expr: &str) -> String {
    format!(r#"to_char({expr} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"#)
}

/// A timestamptz as RFC 3339 UTC text (milliseconds).
fn ts_ms(expr: &str) -> String {
    format!(r#"to_char({expr} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#)
}

/// The API representation of a task row `a`, with `reminders` a jsonb array expression.
fn task_json(a: &str, reminders: &str) -> String {
    format!(
        "jsonb_build_object('task_id', {a}.task_id::text, 'series_id', {a}.series_id::text, 'title', {a}.title, \
         'description', {a}.description, 'priority', {a}.priority, 'due_date', {due}, 'status', {a}.status, \
         'is_recurring', {a}.is_recurring, 'is_exception', {a}.is_exception, 'recurrence_id', {rid}, \
         'recurrence_pattern', {a}.recurrence_pattern, 'recurrence_end_date', {end}, \
         'upcoming_occurrence', {up}, 'completed_at', {done}, 'version', {a}.version, \
         'created_at', {created}, 'updated_at', {updated}, 'reminders', {reminders})",
        due = ts(&format!("{a}.due_date")),
        rid = ts(&format!("{a}.recurrence_id")),
        end = ts(&format!("{a}.recurrence_end_date")),
        up = ts(&format!("{a}.upcoming_occurrence")),
        done = ts_ms(&format!("{a}.completed_at")),
        created = ts_ms(&format!("{a}.created_at")),
        updated = ts_ms(&format!("{a}.updated_at")),
    )
}

/// Reminders of a stored task row `a`.
fn stored_reminders(a: &str) -> String {
    format!(
        "coalesce((select jsonb_agg(r.offset_text order by r.offset_secs desc) from reminders r where r.task_id = {a}.task_id), '[]'::jsonb)"
    )
}

/// An outbox row `o` as the event JSON the publisher reads.
fn event_json(o: &str) -> String {
    format!(
        "jsonb_build_object('event_id', {o}.event_id::text, 'type', {o}.type, 'topic', {o}.topic, \
         'user_id', {o}.user_id, 'source', {o}.source, 'time', {time}, 'data', {o}.payload)",
        time = ts_ms(&format!("{o}.created_at"))
    )
}

/// `(select jsonb_agg(...) from ob)::text`: the outbox rows a statement's CTE `cte` inserted, as
/// the `events` column every publisher reads (`component_kit::outbox::OutboxEvent`).
pub fn events_of(cte: &str) -> String {
    format!(
        "(select coalesce(jsonb_agg({} order by o.seq), '[]'::jsonb) from {cte} o)::text",
        event_json("o")
    )
}

/// Shards of a user's rate-limit counter (see migrations/0003_rate_limits.sql).
const RATE_SHARDS: u32 = 8;

/// The per-user write limit folded into a write statement: CTEs that count this write in the
/// user's current one-minute window, the condition that gates the write, and the output
/// column (null when allowed, else the seconds until the window ends, for `Retry-After`).
/// A `limit` of 0 disables the limit: no CTE, the gate is `true`.
struct RateLimit {
    ctes: String,
    gate: String,
    column: String,
}

fn rate_limit(b: &mut Binder, user: &str, limit: u32) -> RateLimit {
    if limit == 0 {
        return RateLimit {
            ctes: String::new(),
            gate: "true".into(),
            column: "null::integer".into(),
        };
    }
    let lim = b.bind(limit);
    let shard = format!("(pg_backend_pid() % {RATE_SHARDS})");
    let window = "date_trunc('minute', now())";
    RateLimit {
        ctes: format!(
            "rl_hit as (insert into rate_limits (user_id, shard, window_start, hits) values ({user}, {shard}, {window}, 1) \
             on conflict (user_id, shard) do update set hits = case when rate_limits.window_start = excluded.window_start \
             then rate_limits.hits + 1 else 1 end, window_start = excluded.window_start returning hits), \
             rl as (select (select hits from rl_hit) + coalesce((select sum(r.hits) from rate_limits r where r.user_id = {user} \
             and r.window_start = {window} and r.shard <> {shard}), 0) > {lim}::integer as limited, \
             greatest(1, ceil(extract(epoch from {window} + interval '1 minute' - clock_timestamp())))::integer as retry_after), "
        ),
        gate: "not (select limited from rl)".into(),
        column: "(select case when limited then retry_after end from rl)".into(),
    }
}

/// CloudEvent `source` of the Task API's events.
pub const TASK_API_SOURCE: &str = "/task-api";
/// CloudEvent `source` of the recurrence engine's events.
pub const ENGINE_SOURCE: &str = "/recurrence-engine";

/// Outbox insert for every row of `src` (a CTE of task rows `s`), with a jsonb `task` expression.
fn outbox_insert(src: &str, event_type: &str, topic: &str, task: &str, extra: &str) -> String {
    outbox_insert_from(
        TASK_API_SOURCE,
        src,
        event_type,
        topic,
        task,
        "s.series_id",
        extra,
    )
}

/// [`outbox_insert`] with the event's `series_id` given as an expression.
fn outbox_insert_for(
    src: &str,
    event_type: &str,
    topic: &str,
    task: &str,
    series: &str,
    extra: &str,
) -> String {
    outbox_insert_from(TASK_API_SOURCE, src, event_type, topic, task, series, extra)
}

/// [`outbox_insert_for`] for events of the service `source`.
fn outbox_insert_from(
    source: &str,
    src: &str,
    event_type: &str,
    topic: &str,
    task: &str,
    series: &str,
    extra: &str,
) -> String {
    format!(
        "insert into outbox (event_id, type, topic, user_id, task_id, series_id, payload, source) \
         select gen_random_uuid(), '{event_type}', '{topic}', s.user_id, s.task_id, {series}, \
         jsonb_build_object('task_id', s.task_id::text, 'user_id', s.user_id, 'series_id', ({series})::text, 'task', {task}{extra}), \
         '{source}' from {src} s returning *"
    )
}

/// Creates a task (and its series and reminders) with its `v1.task.created` event, and records
/// the idempotency key if given, unless the user's write limit is reached. Answers one row
/// `[task, events, retry_after]`: task null when the key was used or the limit was reached
/// (then `retry_after` holds the seconds until the window ends). `claim_email`, the caller's
/// validated token `email` claim, is recorded in `user_settings.token_email` by the same
/// statement (the reminder dispatcher's fallback address).
pub fn create_task(
    user: &str,
    t: &CreateTask,
    idempotency: Option<(&str, &str)>,
    limit: u32,
    claim_email: Option<&str>,
) -> Statement {
    let mut b = Binder::default();
    let u = b.bind(user);
    let rl = rate_limit(&mut b, &u, limit);
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
        outbox = outbox_insert("body", "v1.task.created", "task-operations", "s.task", ""),
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
        "select body.task::text, {}, {} from (select 1) one left join body on true",
        events_of("ob"),
        rl.column
    ));
    b.finish(sql)
}

/// Reminder offsets as the JSON text stored in `user_settings.default_reminders` and read by
/// `jsonb_to_recordset(... as o(off text, secs integer))`.
fn offsets_json(offsets: &[ReminderOffset]) -> String {
    Value::Array(
        offsets
            .iter()
            .map(|r| json!({"off": r.as_str(), "secs": r.seconds()}))
            .collect(),
    )
    .to_string()
}

/// A CTE (with its trailing comma) recording the token's `email` claim of the user bound at `u`
/// in `user_settings.token_email`, written only when it changed; empty without a claim (a token
/// without the claim leaves the recorded one).
fn record_claim_email(b: &mut Binder, u: &str, claim_email: Option<&str>) -> String {
    record_claim_email_when(b, u, claim_email, "true")
}

/// [`record_claim_email`], written only when `when` (SQL over the CTEs before it) holds: a
/// refused or missing-row write records nothing.
fn record_claim_email_when(
    b: &mut Binder,
    u: &str,
    claim_email: Option<&str>,
    when: &str,
) -> String {
    match claim_email {
        None => String::new(),
        Some(e) => {
            let e = b.bind(e);
            format!(
                "ce as (insert into user_settings (user_id, token_email) select {u}, {e} where {when} \
                 on conflict (user_id) do update set token_email = excluded.token_email \
                 where user_settings.token_email is distinct from excluded.token_email returning 1), "
            )
        }
    }
}

/// The default reminder offsets of the user bound at `u` (a jsonb array, empty without settings).
fn default_offsets(u: &str) -> String {
    format!(
        "coalesce((select us.default_reminders from user_settings us where us.user_id = {u}), '[]'::jsonb)"
    )
}

/// The API representation of a `user_settings` row `a`: offsets longest first, the address the
/// user set (`email`) and the one reminders go to (`reminder_email`: the set one, else the
/// token's `email` claim last seen, else null).
fn settings_json(a: &str) -> String {
    format!(
        "jsonb_build_object('default_reminders', coalesce((select jsonb_agg(x->>'off' order by (x->>'secs')::integer desc) \
         from jsonb_array_elements({a}.default_reminders) x), '[]'::jsonb), 'email', {a}.email, \
         'reminder_email', coalesce({a}.email, {a}.token_email), 'updated_at', {updated})",
        updated = ts_ms(&format!("{a}.updated_at"))
    )
}

/// The user's settings: `[settings]` (the defaults when the user never set any).
pub fn get_settings(user: &str) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "select coalesce((select {} from user_settings s where s.user_id = {}), \
         jsonb_build_object('default_reminders', '[]'::jsonb, 'email', null, 'reminder_email', null, 'updated_at', null))::text",
        settings_json("s"),
        b.bind(user)
    );
    b.finish(sql)
}

/// Replaces the user's settings unless the user's write limit is reached: `[settings,
/// retry_after]` (settings null when limited). `claim_email` (the caller's validated token
/// `email` claim) is recorded as `token_email` when given.
pub fn put_settings(
    user: &str,
    s: &crate::settings::UserSettings,
    limit: u32,
    claim_email: Option<&str>,
) -> Statement {
    let mut b = Binder::default();
    let u = b.bind(user);
    let rl = rate_limit(&mut b, &u, limit);
    let rem = b.bind(offsets_json(&s.default_reminders));
    let email = b.bind(s.email.as_ref().map(|e| e.as_str()));
    let claim = b.bind(claim_email);
    let sql = format!(
        "with {ctes}up as (insert into user_settings (user_id, default_reminders, email, token_email, updated_at) \
         select {u}, {rem}::jsonb, {email}::text, {claim}::text, now() where {gate} \
         on conflict (user_id) do update set default_reminders = excluded.default_reminders, email = excluded.email, \
         token_email = coalesce(excluded.token_email, user_settings.token_email), updated_at = now() \
         returning default_reminders, email, token_email, updated_at) \
         select (select {json} from up)::text, {column}",
        ctes = rl.ctes,
        gate = rl.gate,
        json = settings_json("up"),
        column = rl.column,
    );
    b.finish(sql)
}

/// A fresh push password (64 hex digits from two `gen_random_uuid()`, PostgreSQL's strong
/// random source) unless the user's write limit is reached: `[password, retry_after]`
/// (password null when limited). Nothing is stored: the broker keeps the password.
/// `claim_email` is recorded like [`create_task`]'s (a device signing in for reminders).
pub fn issue_push_password(user: &str, limit: u32, claim_email: Option<&str>) -> Statement {
    let mut b = Binder::default();
    // The user keys the rate limit and the claim (neither: nothing to bind).
    let u = if limit == 0 && claim_email.is_none() {
        String::new()
    } else {
        b.bind(user)
    };
    let rl = rate_limit(&mut b, &u, limit);
    let claim = record_claim_email_when(&mut b, &u, claim_email, &rl.gate);
    let sql = format!(
        "with {ctes}{claim}pw as (select replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '') as p where {gate}) \
         select (select p from pw), {column}",
        ctes = rl.ctes,
        gate = rl.gate,
        column = rl.column,
    );
    b.finish(sql)
}

/// The stored answer for an idempotency key: `[response, request_hash, task_deleted]`
/// (`task_deleted` true once the task it created is deleted).
pub fn idempotent_replay(user: &str, key: &str) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "select i.response::text, i.request_hash, coalesce(t.status = 'deleted', true) \
         from idempotency_keys i left join tasks t on t.task_id = i.task_id \
         where i.user_id = {} and i.key = {}",
        b.bind(user),
        b.bind(key)
    );
    b.finish(sql)
}

/// One task of the user (not deleted): `[task]`.
pub fn get_task(user: &str, id: &TaskId) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "select {}::text from tasks t where t.task_id = {}::uuid and t.user_id = {} and t.status <> 'deleted'",
        task_json("t", &stored_reminders("t")),
        b.bind(id.as_str()),
        b.bind(user)
    );
    b.finish(sql)
}

/// A task's place in its series, for completing or skipping it:
/// `[status, recurrence_id, rule, dtstart_local, tzid, end_date, mode, is_active]`
/// (the series columns are null for a one-off task).
pub fn task_series(user: &str, id: &TaskId) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "select t.status, {rid}, s.recurrence_pattern, s.dtstart_local, s.tzid, {end}, s.mode, s.is_active \
         from tasks t left join series s on s.series_id = t.series_id \
         where t.task_id = {id}::uuid and t.user_id = {u} and t.status <> 'deleted'",
        rid = ts("t.recurrence_id"),
        end = ts("s.end_date"),
        id = b.bind(id.as_str()),
        u = b.bind(user),
    );
    b.finish(sql)
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
    pub series_id: Option<TaskId>,
    /// Continue after this cursor.
    pub cursor: Option<Cursor>,
    /// Page size (1–50).
    pub limit: u32,
}

/// One page of the user's tasks, newest first; one row more than the page size tells that
/// another page exists. Rows: `[task, created_micros, task_id]`.
pub fn list_tasks(user: &str, f: &ListFilter) -> Statement {
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
        "select {}::text, ((extract(epoch from t.created_at) * 1000000)::bigint)::text, t.task_id::text \
         from tasks t where {} order by t.created_at desc, t.task_id desc limit {limit}",
        task_json("t", &stored_reminders("t")),
        conds.join(" and ")
    );
    b.finish(sql)
}

/// The next instance to create when an instance is completed or skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextInstance {
    /// Its due date (and recurrence id).
    pub due: DateTime<Utc>,
    /// The occurrence after it, if known.
    pub upcoming: Option<DateTime<Utc>>,
}

/// CTE creating the series' next instance (with the series' template and the finished
/// instance's reminders) after the rows of `src`; ignores an occurrence that already exists or
/// that falls after the series' end date as stored now (a concurrent "this and following" edit
/// may have ended the series after the caller computed `next`).
fn next_instance_ctes(b: &mut Binder, src: &str, next: Option<NextInstance>) -> String {
    let due = b.bind(opt_time(next.map(|n| n.due)));
    let up = b.bind(opt_time(next.and_then(|n| n.upcoming)));
    format!(
        "nxt as (insert into tasks (task_id, series_id, user_id, title, description, priority, due_date, is_recurring, recurrence_id, recurrence_pattern, recurrence_end_date, upcoming_occurrence) \
         select gen_random_uuid(), s.series_id, f.user_id, s.title, s.description, s.priority, {due}::timestamptz, true, {due}::timestamptz, s.recurrence_pattern, s.end_date, {up}::timestamptz \
         from {src} f join series s on s.series_id = f.series_id where {due}::timestamptz is not null and s.is_active \
         and (s.end_date is null or s.end_date >= {due}::timestamptz) \
         on conflict (series_id, recurrence_id) do nothing returning *), \
         nrem as (insert into reminders (reminder_id, task_id, user_id, offset_text, offset_secs, remind_at) \
         select gen_random_uuid(), n.task_id, n.user_id, r.offset_text, r.offset_secs, n.due_date - r.offset_secs * interval '1 second' \
         from nxt n join {src} f on true join reminders r on r.task_id = f.task_id returning task_id), \
         nob as ({outbox}), ",
        outbox = outbox_insert(
            "nxt",
            "v1.task.created",
            "task-operations",
            &task_json("s", &format!("coalesce((select jsonb_agg(r.offset_text order by r.offset_secs desc) from reminders r join {src} f on r.task_id = f.task_id), '[]'::jsonb)")),
            ""
        ),
    )
}

/// Completes a pending task (a completed one is answered as is: idempotent) with its
/// `v1.task.completed` event, and creates the series' next instance if given.
/// Answers one row `[task, events, retry_after]`: task null if the task does not exist for the
/// user or the write limit is reached (then `retry_after` is set). `claim_email` is recorded
/// like [`create_task`]'s (the series' next instance gets reminders).
pub fn complete_task(
    user: &str,
    id: &TaskId,
    next: Option<NextInstance>,
    limit: u32,
    claim_email: Option<&str>,
) -> Statement {
    let mut b = Binder::default();
    let idp = b.bind(id.as_str());
    let u = b.bind(user);
    let rl = rate_limit(&mut b, &u, limit);
    let claim = record_claim_email_when(&mut b, &u, claim_email, "exists (select 1 from upd)");
    let nxt = next_instance_ctes(&mut b, "upd", next);
    let sql = format!(
        "with {rlc}cur as (select * from tasks where task_id = {idp}::uuid and user_id = {u} and status <> 'deleted' and {gate} for update), \
         upd as (update tasks t set status = 'completed', completed_at = now(), updated_at = now(), version = t.version + 1 \
         from cur where t.task_id = cur.task_id and cur.status = 'pending' returning t.*), \
         {nxt}\
         {claim}ob as ({outbox}) \
         select coalesce((select {upd_json} from upd), (select {cur_json} from cur))::text, \
         (select coalesce(jsonb_agg(e order by e->>'time'), '[]'::jsonb) from (select {e1} as e from ob o union all select {e2} from nob o) x)::text, \
         {rate}",
        rlc = rl.ctes,
        gate = rl.gate,
        rate = rl.column,
        outbox = outbox_insert("upd", "v1.task.completed", "task-operations", &task_json("s", &stored_reminders("s")), ""),
        upd_json = task_json("upd", &stored_reminders("upd")),
        cur_json = task_json("cur", &stored_reminders("cur")),
        e1 = event_json("o"),
        e2 = event_json("o"),
    );
    b.finish(sql)
}

/// The completed instance of a `v1.task.completed` event with its series, for the recurrence
/// engine: `[status, recurrence_id, rule, dtstart_local, tzid, end_date, mode, completed_at]`
/// (`completed_at` with milliseconds). No row if the task or its series does not exist.
pub fn completed_instance(user: &str, id: &TaskId) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "select t.status, {rid}, s.recurrence_pattern, s.dtstart_local, s.tzid, {end}, s.mode, {done} \
         from tasks t join series s on s.series_id = t.series_id \
         where t.task_id = {id}::uuid and t.user_id = {u}",
        rid = ts("t.recurrence_id"),
        end = ts("s.end_date"),
        done = ts_ms("t.completed_at"),
        id = b.bind(id.as_str()),
        u = b.bind(user),
    );
    b.finish(sql)
}

/// The recurrence engine's safety net after a completion: records `event_id` for `consumer` in
/// `processed_events` and, in the same statement, creates `next` unless the event was processed
/// before or the series already moved on: an instance after the completed one, or one created
/// with or after the completion (the Task API creates the next instance in the completing
/// statement, so its `created_at` equals `completed_at`; from completion, the next occurrence
/// may fall before the completed one's). `on conflict (series_id, recurrence_id) do nothing`
/// covers a concurrent creator. With `next` absent (the rule is exhausted) the series is marked
/// completed. Answers one row `[newly processed, instances created, events]`.
pub fn ensure_next_instance(
    consumer: &str,
    event_id: &str,
    id: &TaskId,
    next: Option<NextInstance>,
) -> Statement {
    let mut b = Binder::default();
    let c = b.bind(consumer);
    let e = b.bind(event_id);
    let idp = b.bind(id.as_str());
    let exhausted = b.bind(next.is_none());
    let nxt = next_instance_ctes(&mut b, "f", next);
    let sql = format!(
        "with pe as (insert into processed_events (consumer, event_id) values ({c}, {e}) \
         on conflict do nothing returning event_id), \
         src as (select t.* from tasks t join pe on true where t.task_id = {idp}::uuid and t.series_id is not null \
         and t.status <> 'pending'), \
         f as (select * from src where not exists (select 1 from tasks x where x.series_id = src.series_id \
         and x.task_id <> src.task_id and (x.recurrence_id > src.recurrence_id or x.created_at >= src.completed_at))), \
         fin as (update series s set completed_at = coalesce(s.completed_at, now()), updated_at = now() \
         from src where {exhausted}::boolean and s.series_id = src.series_id returning s.series_id), \
         {nxt}\
         done as (select 1) \
         select (select count(*) from pe) > 0, (select count(*) from nxt), {events}",
        events = events_of("nob"),
    );
    b.finish(sql)
}

/// A series for the recurrence engine's pre-creation:
/// `[rule, dtstart_local, tzid, end_date, mode, is_active]`. No row if it does not exist.
pub fn engine_series(id: &TaskId) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "select s.recurrence_pattern, s.dtstart_local, s.tzid, {end}, s.mode, s.is_active \
         from series s where s.series_id = {id}::uuid",
        end = ts("s.end_date"),
        id = b.bind(id.as_str()),
    );
    b.finish(sql)
}

/// Columns of a series' pre-creation chain, for the recurrence engine (joined as `s`, `f`):
/// `[series_id, rule, dtstart_local, tzid, end_date, mode, is_active, frontier, frontier's
/// upcoming_occurrence, caught_up_through, largest reminder offset (seconds) of the frontier]`.
/// The frontier is the latest occurrence with a live (not deleted) instance.
fn chain_columns() -> String {
    format!(
        "s.series_id::text, s.recurrence_pattern, s.dtstart_local, s.tzid, {end}, s.mode, s.is_active, {rid}, {up}, {caught}, \
         (select max(r.offset_secs) from reminders r where r.task_id = f.task_id)",
        end = ts("s.end_date"),
        rid = ts("f.recurrence_id"),
        up = ts("f.upcoming_occurrence"),
        caught = ts_ms("s.caught_up_through"),
    )
}

/// The frontier instance of series `s` (lateral join).
const FRONTIER: &str =
    "left join lateral (select t.task_id, t.recurrence_id, t.upcoming_occurrence from tasks t \
     where t.series_id = s.series_id and t.status <> 'deleted' and t.recurrence_id is not null \
     order by t.recurrence_id desc limit 1) f on true";

/// The pre-creation chains of some series (see `chain_columns`); unknown ids have no row.
pub fn series_chains(ids: &[TaskId]) -> Statement {
    let mut b = Binder::default();
    let list: Vec<&str> = ids.iter().map(TaskId::as_str).collect();
    let sql = format!(
        "select {cols} from series s {FRONTIER} where s.series_id = any(string_to_array({ids}, ',')::uuid[]) \
         order by s.series_id",
        cols = chain_columns(),
        ids = b.bind(list.join(",")),
    );
    b.finish(sql)
}

/// One page (at most `limit`, by series id after `after`) of active fixed-grid series whose
/// chain is stuck: the pre-creation time of the occurrence after the frontier has come at `now`
/// (its lead as `engine::precreate_lead_secs` of the frontier instance's reminders) but it has
/// no instance, and it was not handled by an earlier catch-up (`caught_up_through`). Rows as
/// `chain_columns`.
pub fn stuck_chains(after: &str, now: DateTime<Utc>, limit: u32) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "select {cols} from series s {FRONTIER} \
         where s.series_id > {after}::uuid and s.is_active and s.mode = 'fixed' and s.completed_at is null \
         and f.upcoming_occurrence <= {now}::timestamptz + greatest({lead}::integer, \
         coalesce((select max(r.offset_secs) from reminders r where r.task_id = f.task_id), 0) + {margin}::integer) * interval '1 second' \
         and (s.caught_up_through is null or s.caught_up_through < f.upcoming_occurrence) \
         and not exists (select 1 from tasks x where x.series_id = s.series_id and x.recurrence_id = f.upcoming_occurrence) \
         order by s.series_id limit {limit}::integer",
        cols = chain_columns(),
        after = b.bind(after),
        now = b.bind(rfc3339(now)),
        lead = b.bind(crate::engine::PRECREATE_LEAD_SECS),
        margin = b.bind(crate::engine::REMINDER_MARGIN_SECS),
        limit = b.bind(limit),
    );
    b.finish(sql)
}

/// Records a catch-up of a series at `now`: adds the occurrences it skipped to
/// `series.missed_occurrences` and moves `caught_up_through` to `now`, only if no other
/// catch-up recorded one since `previous` (so a count is never added twice).
pub fn record_catch_up(
    id: &TaskId,
    skipped: u32,
    now: DateTime<Utc>,
    previous: Option<DateTime<Utc>>,
) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "update series set missed_occurrences = missed_occurrences + {n}::integer, caught_up_through = {now}::timestamptz \
         where series_id = {id}::uuid and date_trunc('milliseconds', caught_up_through) is not distinct from {prev}::timestamptz",
        n = b.bind(skipped),
        now = b.bind(now.to_rfc3339_opts(SecondsFormat::Millis, true)),
        id = b.bind(id.as_str()),
        prev = b.bind(
            previous
                .map(|p| Value::String(p.to_rfc3339_opts(SecondsFormat::Millis, true)))
                .unwrap_or(Value::Null)
        ),
    );
    b.finish(sql)
}

/// Records that `consumer` handled `event_id` (for consumers whose effect is not a database
/// write, e.g. scheduling a job under a deterministic name).
pub fn record_processed(consumer: &str, event_id: &str) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "insert into processed_events (consumer, event_id) values ({}, {}) on conflict do nothing",
        b.bind(consumer),
        b.bind(event_id)
    );
    b.finish(sql)
}

/// Pre-creates the instance of an active fixed-grid series at `occurrence` (from the series
/// template, with the reminders of the latest earlier instance) with its `v1.task.created`
/// event on `task-operations` and, when it has reminders, a `v1.reminder.planned` event on `alerts`; records `job` for
/// `consumer` in `processed_events` in the same statement. An occurrence that exists already
/// (created on completion, or deleted) is left alone: `on conflict (series_id, recurrence_id)
/// do nothing`. Answers one row `[newly processed, instances created, events, largest reminder
/// offset (seconds) of the occurrence's instance (or, before it is visible, the one it copies)]`.
pub fn precreate_instance(
    consumer: &str,
    job: &str,
    series: &TaskId,
    occurrence: DateTime<Utc>,
    upcoming: Option<DateTime<Utc>>,
) -> Statement {
    let mut b = Binder::default();
    let c = b.bind(consumer);
    let j = b.bind(job);
    let sid = b.bind(series.as_str());
    let occ = b.bind(rfc3339(occurrence));
    let up = b.bind(opt_time(upcoming));
    let reminders = "coalesce((select jsonb_agg(r.offset_text order by r.offset_secs desc) from reminders r join prev p on r.task_id = p.task_id), '[]'::jsonb)";
    let sql = format!(
        "with pe as (insert into processed_events (consumer, event_id) values ({c}, {j}) \
         on conflict do nothing returning event_id), \
         ser as (select s.* from series s join pe on true where s.series_id = {sid}::uuid and s.is_active and s.mode = 'fixed'), \
         prev as (select t.task_id from tasks t join ser on t.series_id = ser.series_id \
         where t.recurrence_id < {occ}::timestamptz order by t.recurrence_id desc limit 1), \
         nxt as (insert into tasks (task_id, series_id, user_id, title, description, priority, due_date, is_recurring, recurrence_id, recurrence_pattern, recurrence_end_date, upcoming_occurrence) \
         select gen_random_uuid(), s.series_id, s.user_id, s.title, s.description, s.priority, {occ}::timestamptz, true, {occ}::timestamptz, s.recurrence_pattern, s.end_date, {up}::timestamptz \
         from ser s on conflict (series_id, recurrence_id) do nothing returning *), \
         nrem as (insert into reminders (reminder_id, task_id, user_id, offset_text, offset_secs, remind_at) \
         select gen_random_uuid(), n.task_id, n.user_id, r.offset_text, r.offset_secs, n.due_date - r.offset_secs * interval '1 second' \
         from nxt n join prev p on true join reminders r on r.task_id = p.task_id returning task_id), \
         nxr as (select * from nxt where task_id in (select task_id from nrem)), \
         nob as ({created}), \
         aob as ({due}) \
         select (select count(*) from pe) > 0, (select count(*) from nxt), \
         (select coalesce(jsonb_agg(e order by e->>'time'), '[]'::jsonb) from (select {e1} as e from nob o union all select {e2} from aob o) x)::text, \
         (select max(r.offset_secs) from reminders r where r.task_id = (select t.task_id from tasks t \
         where t.series_id = {sid}::uuid and t.recurrence_id <= {occ}::timestamptz \
         order by t.recurrence_id desc limit 1))",
        created = outbox_insert_from(ENGINE_SOURCE, "nxt", "v1.task.created", "task-operations", &task_json("s", reminders), "s.series_id", ""),
        due = outbox_insert_from(ENGINE_SOURCE, "nxr", "v1.reminder.planned", "alerts", &task_json("s", reminders), "s.series_id", ""),
        e1 = event_json("o"),
        e2 = event_json("o"),
    );
    b.finish(sql)
}

/// CTEs keeping the reminders of the updated tasks `src` consistent. With `offsets`, the
/// reminders of every task of `src` that is not deleted are replaced (removed offsets deleted,
/// the others upserted); without, their `remind_at` follows the (maybe new) due date. Returns
/// the CTEs and a function giving the reminders JSON of a row alias (after the change).
fn reminder_ctes(
    b: &mut Binder,
    src: &str,
    offsets: Option<&[ReminderOffset]>,
) -> (String, String, impl Fn(&str) -> String) {
    let set = b.bind(offsets.is_some());
    let list: Vec<Value> = offsets
        .unwrap_or_default()
        .iter()
        .map(|r| json!({"off": r.as_str(), "secs": r.seconds()}))
        .collect();
    let rem = b.bind(Value::Array(list).to_string());
    let ctes = format!(
        "rset as (select o.off, o.secs from jsonb_to_recordset({rem}::jsonb) as o(off text, secs integer)), \
         rdel as (delete from reminders r using {src} u where {set}::boolean and r.task_id = u.task_id \
         and u.status <> 'deleted' and r.offset_text not in (select off from rset) returning r.task_id), \
         rups as (insert into reminders (reminder_id, task_id, user_id, offset_text, offset_secs, remind_at) \
         select gen_random_uuid(), u.task_id, u.user_id, o.off, o.secs, u.due_date - o.secs * interval '1 second' \
         from {src} u, rset o where {set}::boolean and u.status <> 'deleted' \
         on conflict (task_id, offset_text) do update set offset_secs = excluded.offset_secs, remind_at = excluded.remind_at \
         returning task_id), \
         rtime as (update reminders r set remind_at = u.due_date - r.offset_secs * interval '1 second' \
         from {src} u where not {set}::boolean and r.task_id = u.task_id returning r.task_id), "
    );
    let flag = set.clone();
    let json = move |a: &str| {
        format!(
            "(case when {set}::boolean then (select coalesce(jsonb_agg(off order by secs desc), '[]'::jsonb) from rset) else {} end)",
            stored_reminders(a)
        )
    };
    (ctes, flag, json)
}

fn opt_text(v: Option<&str>) -> Value {
    v.map(Value::from).unwrap_or(Value::Null)
}

/// One occurrence to pre-create in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    /// Idempotency key (the occurrence's pre-creation job name).
    pub key: String,
    /// The series.
    pub series: TaskId,
    /// The occurrence.
    pub occurrence: DateTime<Utc>,
    /// The occurrence after it, if any.
    pub upcoming: Option<DateTime<Utc>>,
}

/// Pre-creates many occurrences (of different series) in one statement, as
/// [`precreate_instance`] does for one: each item's key is recorded for `consumer` in
/// `processed_events`, its instance is created from the series template (active fixed-grid
/// series only) with the reminders of the series' latest earlier instance, and its
/// `v1.task.created` and (when it has reminders) `v1.reminder.planned` events are written to the
/// outbox. Answers one row
/// `[newly processed, instances created, events]`.
pub fn precreate_batch(consumer: &str, items: &[BatchItem]) -> Statement {
    let mut b = Binder::default();
    let c = b.bind(consumer);
    let keys = b.bind(
        items
            .iter()
            .map(|i| i.key.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    let ids = b.bind(
        items
            .iter()
            .map(|i| i.series.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    let occs = b.bind(
        items
            .iter()
            .map(|i| rfc3339(i.occurrence))
            .collect::<Vec<_>>()
            .join(","),
    );
    let ups = b.bind(
        items
            .iter()
            .map(|i| i.upcoming.map(rfc3339).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(","),
    );
    let reminders =
        "coalesce((select jsonb_agg(r.offset_text order by r.offset_secs desc) from reminders r \
         join prev p on r.task_id = p.task_id where p.series_id = s.series_id), '[]'::jsonb)";
    let sql = format!(
        "with item as (select k, sid::uuid as series_id, occ::timestamptz as occ, nullif(up, '')::timestamptz as up \
         from unnest(string_to_array({keys}, ','), string_to_array({ids}, ','), string_to_array({occs}, ','), \
         string_to_array({ups}, ',')) as i(k, sid, occ, up)), \
         pe as (insert into processed_events (consumer, event_id) select {c}, k from item \
         on conflict do nothing returning event_id), \
         ser as (select s.*, i.occ, i.up from series s join item i on i.series_id = s.series_id \
         join pe on pe.event_id = i.k where s.is_active and s.mode = 'fixed'), \
         prev as (select distinct on (t.series_id) t.series_id, t.task_id from tasks t join ser on t.series_id = ser.series_id \
         where t.recurrence_id < ser.occ order by t.series_id, t.recurrence_id desc), \
         nxt as (insert into tasks (task_id, series_id, user_id, title, description, priority, due_date, is_recurring, recurrence_id, recurrence_pattern, recurrence_end_date, upcoming_occurrence) \
         select gen_random_uuid(), s.series_id, s.user_id, s.title, s.description, s.priority, s.occ, true, s.occ, s.recurrence_pattern, s.end_date, s.up \
         from ser s on conflict (series_id, recurrence_id) do nothing returning *), \
         nrem as (insert into reminders (reminder_id, task_id, user_id, offset_text, offset_secs, remind_at) \
         select gen_random_uuid(), n.task_id, n.user_id, r.offset_text, r.offset_secs, n.due_date - r.offset_secs * interval '1 second' \
         from nxt n join prev p on p.series_id = n.series_id join reminders r on r.task_id = p.task_id returning task_id), \
         nxr as (select * from nxt where task_id in (select task_id from nrem)), \
         nob as ({created}), \
         aob as ({due}) \
         select (select count(*) from pe), (select count(*) from nxt), \
         (select coalesce(jsonb_agg(e order by e->>'time'), '[]'::jsonb) from (select {e1} as e from nob o union all select {e2} from aob o) x)::text",
        created = outbox_insert_from(ENGINE_SOURCE, "nxt", "v1.task.created", "task-operations", &task_json("s", reminders), "s.series_id", ""),
        due = outbox_insert_from(ENGINE_SOURCE, "nxr", "v1.reminder.planned", "alerts", &task_json("s", reminders), "s.series_id", ""),
        e1 = event_json("o"),
        e2 = event_json("o"),
    );
    b.finish(sql)
}

/// Edits a task (scope `this`) or, for a series instance, also the series template (so the
/// instances created later follow) and the later pending instances (`following`) or all pending
/// instances (`all`); completed instances keep their values. Given reminders replace those of
/// every task edited; a new due date moves their reminder times. `version` is the `If-Match`
/// precondition. One `v1.task.updated` event per changed task.
/// Always answers one row `[task or null, events, current version or null, retry_after]`: a
/// null version means not found (or the write limit reached: `retry_after` set); a null task
/// with a version means the precondition failed. `claim_email` is recorded like
/// [`create_task`]'s (a patch may set reminders).
pub fn patch_task(
    user: &str,
    id: &TaskId,
    p: &PatchTask,
    scope: Scope,
    version: Option<i64>,
    limit: u32,
    claim_email: Option<&str>,
) -> Statement {
    let mut b = Binder::default();
    let idp = b.bind(id.as_str());
    let u = b.bind(user);
    let rl = rate_limit(&mut b, &u, limit);
    let claim = record_claim_email_when(&mut b, &u, claim_email, "exists (select 1 from upd)");
    let v = b.bind(version.map(Value::from).unwrap_or(Value::Null));
    let title = b.bind(opt_text(p.title.as_ref().map(|t| t.as_str())));
    let desc = b.bind(opt_text(p.description.as_deref()));
    let prio = b.bind(opt_text(p.priority.map(|x| x.as_str())));
    let set_due = b.bind(p.due_date.is_some());
    let due = b.bind(opt_time(p.due_date.flatten()));
    let sc = b.bind(scope.as_str());
    let (rem_ctes, _, rem_json) = reminder_ctes(&mut b, "upd", p.reminders.as_deref());
    let sql = format!(
        "with {rlc}cur as (select * from tasks where task_id = {idp}::uuid and user_id = {u} and status <> 'deleted' and {gate} for update), \
         ok as (select * from cur where {v}::integer is null or cur.version = {v}::integer), \
         ser as (update series s set title = coalesce({title}, s.title), description = coalesce({desc}, s.description), \
         priority = coalesce({prio}, s.priority), updated_at = now() from ok \
         where {sc} <> 'this' and s.series_id = ok.series_id returning s.series_id), \
         upd as (update tasks t set title = coalesce({title}, t.title), description = coalesce({desc}, t.description), \
         priority = coalesce({prio}, t.priority), \
         due_date = case when {set_due}::boolean and t.task_id = ok.task_id then {due}::timestamptz else t.due_date end, \
         is_exception = t.is_exception or (t.series_id is not null and {sc} = 'this' and ({title} is not null \
         or {desc} is not null or {prio} is not null or {set_due}::boolean)), \
         version = t.version + 1, updated_at = now() from ok \
         where t.task_id = ok.task_id or ({sc} <> 'this' and ok.series_id is not null and t.series_id = ok.series_id \
         and t.status = 'pending' and ({sc} = 'all' or t.recurrence_id >= ok.recurrence_id)) returning t.*), \
         {rem_ctes}\
         {claim}ob as ({outbox}) \
         select (select {json} from upd where upd.task_id = {idp}::uuid)::text, {events}, (select version from cur), {rate}",
        rlc = rl.ctes,
        gate = rl.gate,
        rate = rl.column,
        outbox = outbox_insert("upd", "v1.task.updated", "task-modifications", &task_json("s", &rem_json("s")),
            &format!(", 'scope', {sc}::text, 'rule_changed', false")),
        json = task_json("upd", &rem_json("upd")),
        events = events_of("ob"),
    );
    b.finish(sql)
}

/// What a series edit reads first: the edited task in its series, the stored series, and its
/// instances that matter for the plan (pending ones, and recent ones of any status):
/// `[status, recurrence_id, series_id, rule, dtstart_local, tzid, end_date, mode, is_active,
/// instances, has_earlier]` with `instances` a JSON array of `{task_id, recurrence_id, status,
/// is_exception}`. No row if the task does not exist for the user.
pub fn edit_context(user: &str, id: &TaskId) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "select t.status, {rid}, t.series_id::text, s.recurrence_pattern, s.dtstart_local, s.tzid, {end}, s.mode, s.is_active, \
         (select coalesce(jsonb_agg(jsonb_build_object('task_id', x.task_id::text, 'recurrence_id', {xrid}, \
         'status', x.status, 'is_exception', x.is_exception)), '[]'::jsonb) from tasks x \
         where x.series_id = t.series_id and (x.status = 'pending' or x.recurrence_id > now() - interval '2 days'))::text, \
         exists (select 1 from tasks x where x.series_id = t.series_id and x.status <> 'deleted' and x.recurrence_id < t.recurrence_id) \
         from tasks t left join series s on s.series_id = t.series_id \
         where t.task_id = {id}::uuid and t.user_id = {u} and t.status <> 'deleted'",
        rid = ts("t.recurrence_id"),
        xrid = ts("x.recurrence_id"),
        end = ts("s.end_date"),
        id = b.bind(id.as_str()),
        u = b.bind(user),
    );
    b.finish(sql)
}

/// Edits a series' rule or splits it (scope `all` or `following`, see [`crate::edit`]): updates
/// the series (`all`) or ends it just before the edited occurrence (end date, and the rule cut
/// by [`crate::edit::split_rules`]) and inserts the new series
/// that the edited instance and the later pending ones move to (split); applies the plan to the
/// pending instances in scope (keep, move, delete), the patch's template fields and reminders,
/// and creates the next instance if the plan says so. Events: `v1.task.updated` (with
/// `rule_changed` and, on a split, `new_series_id`) per edited task, `v1.task.deleted` per
/// removed instance, `v1.task.created` for a created one. Answers like [`patch_task`].
pub fn edit_series(
    user: &str,
    id: &TaskId,
    p: &PatchTask,
    scope: Scope,
    version: Option<i64>,
    edit: &SeriesEdit,
    limit: u32,
) -> Statement {
    let mut b = Binder::default();
    let idp = b.bind(id.as_str());
    let u = b.bind(user);
    let rl = rate_limit(&mut b, &u, limit);
    let v = b.bind(version.map(Value::from).unwrap_or(Value::Null));
    let title = b.bind(opt_text(p.title.as_ref().map(|t| t.as_str())));
    let desc = b.bind(opt_text(p.description.as_deref()));
    let prio = b.bind(opt_text(p.priority.map(|x| x.as_str())));
    let sc = b.bind(scope.as_str());
    let split = b.bind(edit.split);
    let changed = b.bind(edit.rule_changed);
    let rule = b.bind(edit.plan.rule.as_str());
    let old_rule = b.bind(opt_text(edit.old_rule.as_deref()));
    let tz = b.bind(edit.plan.tzid.as_str());
    let start = b.bind(rfc3339(edit.plan.start_at));
    let local = b.bind(edit.plan.dtstart_local.format(LOCAL_FORMAT).to_string());
    let end = b.bind(opt_time(edit.plan.end_date));
    let mode = b.bind(edit.plan.mode.as_str());
    let plan: Vec<Value> = edit
        .instances
        .iter()
        .map(|i| {
            let (action, due) = match i.action {
                Action::Keep => ("keep", None),
                Action::Move(t) => ("move", Some(t)),
                Action::Delete => ("delete", None),
            };
            json!({"task_id": i.task_id, "action": action, "due": opt_time(due), "upcoming": opt_time(i.upcoming)})
        })
        .collect();
    let plan = b.bind(Value::Array(plan).to_string());
    let cdue = b.bind(opt_time(edit.create.map(|c| c.due)));
    let cup = b.bind(opt_time(edit.create.and_then(|c| c.upcoming)));
    let (rem_ctes, set_rem, rem_json) = reminder_ctes(&mut b, "upd", p.reminders.as_deref());
    let created_reminders = format!(
        "(case when {set_rem}::boolean then (select coalesce(jsonb_agg(off order by secs desc), '[]'::jsonb) from rset) \
         else coalesce((select jsonb_agg(r.offset_text order by r.offset_secs desc) from reminders r join ok on r.task_id = ok.task_id), '[]'::jsonb) end)"
    );
    let new_series = "(select case when {split}::boolean then sid::text end from tgt)"
        .replace("{split}", &split);
    let extra = format!(
        ", 'scope', {sc}::text, 'rule_changed', {changed}::boolean, 'new_series_id', {new_series}"
    );
    let template = |col: &str, val: &str| format!("coalesce({val}, s.{col})");
    let sql = format!(
        "with {rlc}cur as (select * from tasks where task_id = {idp}::uuid and user_id = {u} and status <> 'deleted' and {gate} for update), \
         ok as (select * from cur where ({v}::integer is null or cur.version = {v}::integer) and cur.series_id is not null), \
         nser as (insert into series (series_id, user_id, title, description, priority, recurrence_pattern, tzid, start_at, dtstart_local, end_date, mode) \
         select gen_random_uuid(), s.user_id, {t_title}, {t_desc}, {t_prio}, {rule}, {tz}, {start}::timestamptz, {local}, {end}::timestamptz, {mode} \
         from series s join ok on s.series_id = ok.series_id where {split}::boolean returning series_id), \
         oser as (update series s set \
         title = case when {split}::boolean then s.title else {t_title} end, \
         description = case when {split}::boolean then s.description else {t_desc} end, \
         priority = case when {split}::boolean then s.priority else {t_prio} end, \
         recurrence_pattern = case when {split}::boolean then coalesce({old_rule}::text, s.recurrence_pattern) else {rule} end, \
         tzid = case when {split}::boolean then s.tzid else {tz} end, \
         start_at = case when {split}::boolean then s.start_at else {start}::timestamptz end, \
         dtstart_local = case when {split}::boolean then s.dtstart_local else {local} end, \
         mode = case when {split}::boolean then s.mode else {mode} end, \
         end_date = case when {split}::boolean then ok.recurrence_id - interval '1 second' else {end}::timestamptz end, \
         updated_at = now() from ok where s.series_id = ok.series_id returning s.series_id), \
         tgt as (select coalesce((select series_id from nser), ok.series_id) as sid from ok), \
         plan as (select * from jsonb_to_recordset({plan}::jsonb) as p(task_id uuid, action text, due timestamptz, upcoming timestamptz)), \
         scoped as (select t.task_id, p.action, p.due, p.upcoming from tasks t join ok on t.series_id = ok.series_id \
         left join plan p on p.task_id = t.task_id \
         where t.task_id = ok.task_id or (t.status = 'pending' and ({sc} = 'all' or t.recurrence_id >= ok.recurrence_id))), \
         upd as (update tasks t set series_id = tgt.sid, title = coalesce({title}, t.title), \
         description = coalesce({desc}, t.description), priority = coalesce({prio}, t.priority), \
         status = case when scoped.action = 'delete' then 'deleted' else t.status end, \
         due_date = case when scoped.action = 'move' then scoped.due else t.due_date end, \
         recurrence_id = case when scoped.action = 'move' then scoped.due else t.recurrence_id end, \
         upcoming_occurrence = case when scoped.action in ('keep', 'move') then scoped.upcoming else t.upcoming_occurrence end, \
         recurrence_pattern = case when t.status = 'pending' then {rule} else t.recurrence_pattern end, \
         recurrence_end_date = case when t.status = 'pending' then {end}::timestamptz else t.recurrence_end_date end, \
         version = t.version + 1, updated_at = now() from scoped, tgt where t.task_id = scoped.task_id returning t.*), \
         {rem_ctes}\
         nxt as (insert into tasks (task_id, series_id, user_id, title, description, priority, due_date, is_recurring, recurrence_id, recurrence_pattern, recurrence_end_date, upcoming_occurrence) \
         select gen_random_uuid(), tgt.sid, ok.user_id, {t_title}, {t_desc}, {t_prio}, {cdue}::timestamptz, true, {cdue}::timestamptz, {rule}, {end}::timestamptz, {cup}::timestamptz \
         from ok join series s on s.series_id = ok.series_id, tgt where {cdue}::timestamptz is not null \
         on conflict (series_id, recurrence_id) do nothing returning *), \
         nrem as (insert into reminders (reminder_id, task_id, user_id, offset_text, offset_secs, remind_at) \
         select gen_random_uuid(), n.task_id, n.user_id, r.off, r.secs, n.due_date - r.secs * interval '1 second' from nxt n, \
         (select off, secs from rset where {set_rem}::boolean union all select r.offset_text, r.offset_secs from reminders r \
         join ok on r.task_id = ok.task_id where not {set_rem}::boolean) r returning task_id), \
         kept as (select * from upd where status <> 'deleted'), \
         gone as (select * from upd where status = 'deleted'), \
         ob as ({updated}), \
         dob as ({deleted}), \
         nob as ({created}) \
         select (select {json} from upd where upd.task_id = {idp}::uuid)::text, \
         (select coalesce(jsonb_agg(e order by e->>'time', e->>'type'), '[]'::jsonb) from (select {e1} as e from ob o \
         union all select {e2} from dob o union all select {e3} from nob o) x)::text, \
         (select version from cur), {rate}",
        rlc = rl.ctes,
        gate = rl.gate,
        rate = rl.column,
        t_title = template("title", &title),
        t_desc = template("description", &desc),
        t_prio = template("priority", &prio),
        updated = outbox_insert_for("kept", "v1.task.updated", "task-modifications", &task_json("s", &rem_json("s")), "(select series_id from ok)", &extra),
        deleted = outbox_insert_for("gone", "v1.task.deleted", "task-operations", &task_json("s", &stored_reminders("s")), "(select series_id from ok)", &extra),
        created = outbox_insert("nxt", "v1.task.created", "task-operations", &task_json("s", &created_reminders), ""),
        json = task_json("upd", &rem_json("upd")),
        e1 = event_json("o"),
        e2 = event_json("o"),
        e3 = event_json("o"),
    );
    b.finish(sql)
}

/// Deletes a task (`this`; completed instances stay in history unless deleted one by one), or
/// for a series instance this and later pending instances (`following`, the series ends
/// before it) or all pending instances (`all`, the series stops). One `v1.task.deleted` event
/// per deleted task; `next` is the instance to create when one instance is skipped.
/// Answers one row `[deleted count, events, retry_after]`: no task was deleted if it does not
/// exist for the user or the write limit is reached (then `retry_after` is set).
pub fn delete_task(
    user: &str,
    id: &TaskId,
    scope: Scope,
    next: Option<NextInstance>,
    limit: u32,
) -> Statement {
    let mut b = Binder::default();
    let idp = b.bind(id.as_str());
    let u = b.bind(user);
    let rl = rate_limit(&mut b, &u, limit);
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
         select (select count(*) from del), \
         (select coalesce(jsonb_agg(e order by e->>'time'), '[]'::jsonb) from (select {e1} as e from ob o union all select {e2} from nob o) x)::text, \
         {rate}",
        rlc = rl.ctes,
        gate = rl.gate,
        rate = rl.column,
        outbox = outbox_insert("del", "v1.task.deleted", "task-operations", &task_json("s", &stored_reminders("s")), &format!(", 'scope', {sc}::text")),
        e1 = event_json("o"),
        e2 = event_json("o"),
    );
    b.finish(sql)
}

/// One series of the user: `[series, rule, dtstart_local, tzid, end_date, mode]`.
pub fn get_series(user: &str, id: &TaskId) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "select jsonb_build_object('series_id', s.series_id::text, 'title', s.title, 'description', s.description, \
         'priority', s.priority, 'recurrence_pattern', s.recurrence_pattern, 'tzid', s.tzid, 'start', {start}, \
         'dtstart_local', s.dtstart_local, 'end_date', {end}, 'mode', s.mode, 'is_active', s.is_active, \
         'completed_at', {done}, 'created_at', {created}, 'updated_at', {updated})::text, \
         s.recurrence_pattern, s.dtstart_local, s.tzid, {end}, s.mode \
         from series s where s.series_id = {id}::uuid and s.user_id = {u}",
        start = ts("s.start_at"),
        end = ts("s.end_date"),
        done = ts_ms("s.completed_at"),
        created = ts_ms("s.created_at"),
        updated = ts_ms("s.updated_at"),
        id = b.bind(id.as_str()),
        u = b.bind(user),
    );
    b.finish(sql)
}

/// The user's calendar: every active series with its removed and edited instances, and every
/// one-off task that is not deleted. Rows: `[kind, uid, title, description, due, status, rule,
/// dtstart_local, tzid, end_date, mode, exdates, exceptions]` with `kind` `series` or `task`,
/// `exdates` a JSON array of the deleted instances' recurrence ids and `exceptions` a JSON array
/// of `{recurrence_id, due_date, title}` of the edited instances that are not deleted (the
/// series columns are null for a task).
pub fn calendar(user: &str) -> Statement {
    let mut b = Binder::default();
    let u = b.bind(user);
    let sql = format!(
        "(select 'series', s.series_id::text, s.title, s.description, null::text, 'pending', s.recurrence_pattern, \
         s.dtstart_local, s.tzid, {end}, s.mode, \
         (select coalesce(jsonb_agg({xrid} order by x.recurrence_id), '[]'::jsonb) from tasks x \
         where x.series_id = s.series_id and x.status = 'deleted')::text, \
         (select coalesce(jsonb_agg(jsonb_build_object('recurrence_id', {xrid}, 'due_date', {xdue}, 'title', x.title) \
         order by x.recurrence_id), '[]'::jsonb) from tasks x \
         where x.series_id = s.series_id and x.is_exception and x.status <> 'deleted')::text \
         from series s where s.user_id = {u} and s.is_active order by s.created_at limit 1000) \
         union all \
         (select 'task', t.task_id::text, t.title, t.description, {due}, t.status, null, null, null, null, null, null, null \
         from tasks t where t.user_id = {u} and t.series_id is null and t.status <> 'deleted' order by t.created_at limit 1000)",
        end = ts("s.end_date"),
        xrid = ts("x.recurrence_id"),
        xdue = ts("x.due_date"),
        due = ts("t.due_date"),
    );
    b.finish(sql)
}

/// Marks outbox rows published: `ids` are event ids.
pub fn mark_published(ids: &[&str]) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "update outbox set published_at = now() where event_id = any(string_to_array({}, ',')::uuid[]) and published_at is null",
        b.bind(ids.join(","))
    );
    b.finish(sql)
}

/// Failed publish attempts a row may have before it can be parked.
pub const OUTBOX_MAX_ATTEMPTS: u32 = 10;

/// Counts a failed publish attempt for outbox rows: records `error`, holds each row back for
/// `2^attempts` seconds (at most 5 minutes), and parks a row that has failed
/// [`OUTBOX_MAX_ATTEMPTS`] times while other events were published in the last minute (the
/// broker works, so the failure is the row's own; during an outage nothing is parked).
pub fn mark_failed(ids: &[&str], error: &str) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "update outbox o set retry_count = o.retry_count + 1, last_error = left({e}, 2000), \
         next_attempt_at = now() + least(300, power(2, least(o.retry_count + 1, 9))) * interval '1 second', \
         parked_at = case when o.retry_count + 1 >= {max} and exists (select 1 from outbox p \
         where p.published_at > now() - interval '1 minute') then now() end \
         where o.event_id = any(string_to_array({ids}, ',')::uuid[]) and o.published_at is null",
        e = b.bind(error),
        max = b.bind(OUTBOX_MAX_ATTEMPTS),
        ids = b.bind(ids.join(",")),
    );
    b.finish(sql)
}

/// Parks an outbox row at once: it is not a valid event and no attempt can publish it.
pub fn park(id: &str, reason: &str) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "update outbox set parked_at = now(), last_error = left({r}, 2000) \
         where event_id = {id}::uuid and published_at is null",
        r = b.bind(reason),
        id = b.bind(id),
    );
    b.finish(sql)
}

/// The unpublished, unparked outbox rows that are due, in the order they were written
/// (through the partial index): `[event_id, event]`. A row held back after a failure holds back
/// the later rows of its user (per-user order) and no one else's.
pub fn unpublished(limit: u32) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "select o.event_id::text, {}::text from outbox o where o.published_at is null and o.parked_at is null \
         and (o.next_attempt_at is null or o.next_attempt_at <= now()) \
         and not exists (select 1 from outbox q where q.user_id = o.user_id and q.published_at is null \
         and q.parked_at is null and q.seq < o.seq and q.next_attempt_at > now()) order by o.seq limit {}",
        event_json("o"),
        b.bind(limit)
    );
    b.finish(sql)
}

/// Records that a Dapr job was scheduled (or ran, with `ran`).
pub fn record_job(name: &str, kind: &str, data: &Value, ran: bool) -> Statement {
    let mut b = Binder::default();
    let sql = format!(
        "insert into jobs (name, kind, data, scheduled_at, last_run_at, runs) values ({n}, {k}, {d}::jsonb, now(), \
         case when {r}::boolean then now() end, case when {r}::boolean then 1 else 0 end) \
         on conflict (name) do update set data = excluded.data, \
         scheduled_at = case when {r}::boolean then jobs.scheduled_at else now() end, \
         last_run_at = coalesce(excluded.last_run_at, jobs.last_run_at), runs = jobs.runs + excluded.runs",
        n = b.bind(name),
        k = b.bind(kind),
        d = b.bind(data.to_string()),
        r = b.bind(ran),
    );
    b.finish(sql)
}

/// The outbox figures the Task API's `/metrics` exposes, one row of integers as text:
/// `[parked, pending, oldest_pending_age_seconds]`. Parked rows are the ones
/// `scripts/dlq.sh list outbox` lists (they wait for an operator); pending rows are unpublished
/// and not parked. Each count reads its partial index only (migration 0010).
pub fn outbox_gauges() -> Statement {
    Statement {
        sql: "select (select count(*) from outbox where parked_at is not null and published_at is null)::text, \
              (select count(*) from outbox where published_at is null and parked_at is null)::text, \
              coalesce((select floor(extract(epoch from now() - created_at))::bigint from outbox \
              where published_at is null and parked_at is null order by seq limit 1), 0)::text"
            .into(),
        params: Vec::new(),
    }
}

/// Readiness probe of the database through the binding.
pub fn ping() -> Statement {
    Statement {
        sql: "select 1".into(),
        params: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::parse_create;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn id() -> TaskId {
        TaskId::parse("0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a").expect("id")
    }

    /// Every placeholder used is bound and every bound value is used.
    fn assert_placeholders(s: &Statement) {
        for n in 1..=s.params.len() {
            assert!(s.sql.contains(&format!("${n}")), "${n} unused in {}", s.sql);
        }
        assert!(
            !s.sql.contains(&format!("${}", s.params.len() + 1)),
            "unbound placeholder"
        );
    }

    #[test]
    fn user_input_is_bound_never_interpolated() {
        let evil = "x'); drop table tasks; --";
        let t = parse_create(&json!({"title": evil, "description": evil, "due_date": "2026-12-01T09:00:00Z", "reminders": ["PT1H"]}), now())
            .expect("valid");
        let stmts = [
            create_task(evil, &t, Some((evil, "h")), 600, Some(evil)),
            create_task(evil, &t, None, 0, None),
            get_task(evil, &id()),
            list_tasks(
                evil,
                &ListFilter {
                    limit: 50,
                    ..Default::default()
                },
            ),
            complete_task(evil, &id(), None, 600, Some("a@b.c")),
            delete_task(evil, &id(), Scope::All, None, 600),
            idempotent_replay(evil, evil),
            get_series(evil, &id()),
            calendar(evil),
            get_settings(evil),
            issue_push_password(evil, 600, Some("a@b.c")),
            issue_push_password(evil, 0, None),
            issue_push_password(evil, 0, Some("a@b.c")),
            put_settings(
                evil,
                &crate::settings::parse_settings(&json!({"default_reminders": ["PT1H"]}))
                    .expect("valid"),
                600,
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
        let s = create_task("u1", &absent, None, 0, None);
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
            let s = create_task("u1", &given, None, 0, None);
            assert!(!s.sql.contains("user_settings"), "{}", s.sql);
            assert_placeholders(&s);
        }
        let s = put_settings(
            "u1",
            &crate::settings::parse_settings(&json!({"default_reminders": ["P1D", "PT0S"]}))
                .expect("valid"),
            0,
            None,
        );
        assert_eq!(
            s.params,
            [
                json!("u1"),
                json!(r#"[{"off":"P1D","secs":86400},{"off":"PT0S","secs":0}]"#),
                json!(null),
                json!(null)
            ]
        );
        let s = create_task("u1", &absent, None, 0, Some("u1@example.com"));
        assert!(
            s.sql.starts_with("with ce as (insert into user_settings"),
            "{}",
            s.sql
        );
        assert_eq!(s.params[1], json!("u1@example.com"));
        assert_placeholders(&s);
    }

    #[test]
    fn recurring_create_binds_the_series() {
        let t = parse_create(
            &json!({"title": "Standup", "recurrence": "daily", "due_date": "2026-12-01T09:00:00Z"}),
            now(),
        )
        .expect("valid");
        let s = create_task("u1", &t, None, 600, None);
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
                series_id: Some(id()),
                cursor: Some(c),
                limit: 500,
            },
        );
        assert_eq!(s.params.last(), Some(&json!(51)));
        assert_placeholders(&s);
        let patch = crate::input::parse_patch(&json!({"title": "t"}), true).expect("patch");
        assert_placeholders(&patch_task(
            "u",
            &id(),
            &patch,
            Scope::Following,
            Some(3),
            600,
            Some("a@b.c"),
        ));
        assert_placeholders(&patch_task("u", &id(), &patch, Scope::This, None, 0, None));
        assert_placeholders(&patch_task(
            "u",
            &id(),
            &patch,
            Scope::This,
            None,
            0,
            Some("a@b.c"),
        ));
        assert_placeholders(&mark_published(&["a", "b"]));
        assert_placeholders(&record_job("outbox-repair", "outbox", &json!({}), true));
        assert_eq!(mark_published(&["a", "b"]).params_json(), r#"["a,b"]"#);
    }

    #[test]
    fn series_edits_bind_everything() {
        use crate::edit::{plan_edit, resolve_series, Known, StoredSeries};
        let evil = "x'); drop table tasks; --";
        let stored = StoredSeries {
            rule: "FREQ=DAILY".into(),
            dtstart_local: "2026-12-01T09:00:00".into(),
            tzid: "UTC".into(),
            end_date: None,
            mode: crate::Mode::Fixed,
        };
        let patch = crate::input::parse_patch(
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
        for s in [
            edit_series(evil, &id(), &patch, Scope::Following, Some(2), &edit, 600),
            edit_series(evil, &id(), &patch, Scope::All, None, &edit, 0),
            edit_context(evil, &id()),
        ] {
            assert!(!s.sql.contains("drop table"), "{}", s.sql);
            assert_placeholders(&s);
        }
        let s = edit_series("u", &id(), &patch, Scope::All, None, &edit, 600);
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
        for s in [
            completed_instance(evil, &id()),
            ensure_next_instance(evil, evil, &id(), Some(next)),
            ensure_next_instance(evil, evil, &id(), None),
            engine_series(&id()),
            precreate_instance(evil, evil, &id(), now(), Some(now())),
            precreate_instance(evil, evil, &id(), now(), None),
            series_chains(&[id(), id()]),
            stuck_chains(evil, now(), 100),
            record_catch_up(&id(), 3, now(), Some(now())),
            record_catch_up(&id(), 0, now(), None),
            record_processed(evil, evil),
            precreate_batch(
                evil,
                &[BatchItem {
                    key: evil.into(),
                    series: id(),
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
}
