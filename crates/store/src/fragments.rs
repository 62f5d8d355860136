//! SQL fragments the writing statements share: the API's task and event JSON, the outbox
//! inserts, the per-user write limit, the recorded token e-mail, and the CTEs that create a
//! series' next instance or keep reminders in step with their task.

use serde_json::{json, Value};

use events::EventType;

use domain::schedule::NextInstance;
use domain::ReminderOffset;

use crate::statement::{opt_time, ts, ts_ms, Binder};

/// The API representation of a task row `a`, with `reminders` a jsonb array expression.
pub(crate) fn task_json(a: &str, reminders: &str) -> String {
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
pub(crate) fn stored_reminders(a: &str) -> String {
    format!(
        "coalesce((select jsonb_agg(r.offset_text order by r.offset_secs desc) from reminders r where r.task_id = {a}.task_id), '[]'::jsonb)"
    )
}

/// An outbox row `o` as the event JSON the publisher reads.
pub(crate) fn event_json(o: &str) -> String {
    format!(
        "jsonb_build_object('event_id', {o}.event_id::text, 'type', {o}.type, 'topic', {o}.topic, \
         'user_id', {o}.user_id, 'source', {o}.source, 'time', {time}, 'data', {o}.payload)",
        time = ts_ms(&format!("{o}.created_at"))
    )
}

/// The outbox rows a statement's CTE `cte` inserted, in their written order, as the jsonb array
/// of the `events` column every publisher reads ([`crate::outbox::OutboxEvent`]).
#[must_use]
pub fn events_of(cte: &str) -> String {
    format!(
        "(select coalesce(jsonb_agg({} order by o.seq), '[]'::jsonb) from {cte} o)",
        event_json("o")
    )
}

/// [`events_of`] for the rows several CTEs inserted, by event time, then type.
pub(crate) fn events_of_all(ctes: &[&str]) -> String {
    let each: Vec<String> = ctes
        .iter()
        .map(|c| format!("select {} as e from {c} o", event_json("o")))
        .collect();
    format!(
        "(select coalesce(jsonb_agg(e order by e->>'time', e->>'type'), '[]'::jsonb) from ({}) x)",
        each.join(" union all ")
    )
}

/// Shards of a user's rate-limit counter (see `migrations/0003_rate_limits.sql`).
pub(crate) const RATE_SHARDS: u32 = 8;

/// How a write is admitted: the per-user limit, and the load shedding of the whole service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// Writes one user may make per minute (0: no per-user limit).
    pub per_user_per_minute: u32,
    /// When the request reached the service (its handler started).
    pub received: chrono::DateTime<chrono::Utc>,
    /// Longest the request may have waited before its statement runs (sidecar and database
    /// queues, CPU); a statement that starts later writes nothing and answers `shed` (0: off).
    pub max_queue_ms: u32,
}

/// The admission folded into a write statement: CTEs that decide it (and count this write in
/// the user's current one-minute window), the condition that gates the write, and the output
/// columns: `retry_after` (null when allowed by the per-user limit, else the seconds until the
/// window ends, for `Retry-After`) and `shed` (the statement started too late: the service is
/// overloaded; nothing was written or counted).
pub(crate) struct RateLimit {
    pub(crate) ctes: String,
    pub(crate) gate: String,
    pub(crate) column: String,
    pub(crate) shed: String,
}

pub(crate) fn rate_limit(b: &mut Binder, user: &str, a: &Admission) -> RateLimit {
    let received = b.bind(
        a.received
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    );
    let max = b.bind(a.max_queue_ms);
    let adm = format!(
        "adm as (select {max}::integer > 0 and clock_timestamp() - {received}::timestamptz \
         > {max}::integer * interval '1 millisecond' as shed), "
    );
    let shed = "(select shed from adm)".to_string();
    if a.per_user_per_minute == 0 {
        return RateLimit {
            ctes: adm,
            gate: "not (select shed from adm)".into(),
            column: "null::integer".into(),
            shed,
        };
    }
    let lim = b.bind(a.per_user_per_minute);
    let shard = format!("(pg_backend_pid() % {RATE_SHARDS})");
    let window = "date_trunc('minute', now())";
    RateLimit {
        ctes: format!(
            "{adm}rl_hit as (insert into rate_limits (user_id, shard, window_start, hits) \
             select {user}, {shard}, {window}, 1 where not (select shed from adm) \
             on conflict (user_id, shard) do update set hits = case when rate_limits.window_start = excluded.window_start \
             then rate_limits.hits + 1 else 1 end, window_start = excluded.window_start returning hits), \
             rl as (select (select hits from rl_hit) + coalesce((select sum(r.hits) from rate_limits r where r.user_id = {user} \
             and r.window_start = {window} and r.shard <> {shard}), 0) > {lim}::integer as limited, \
             greatest(1, ceil(extract(epoch from {window} + interval '1 minute' - clock_timestamp())))::integer as retry_after), "
        ),
        gate: "not (select shed from adm) and not (select limited from rl)".into(),
        column: "(select case when limited then retry_after end from rl)".into(),
        shed,
    }
}

/// `CloudEvent` `source` of the Task API's events.
pub const TASK_API_SOURCE: &str = "/task-api";
/// `CloudEvent` `source` of the recurrence engine's events.
pub const ENGINE_SOURCE: &str = "/recurrence-engine";

/// Seconds after which an armed outbox relay counts as idle again: the write that armed it
/// failed to schedule its job, or the job was lost with its service (ADR 0012).
pub const RELAY_STALE_SECS: u32 = 5;

/// The `relay_idle` column of every Task API write: reads the `outbox_relay` row `for share`,
/// which takes the table's ROW SHARE lock before the statement runs and holds it to the commit
/// (so the relay's clearing, which takes the EXCLUSIVE lock, waits for this write, and its read
/// then sees this write's rows), and answers whether the relay was idle, in which case the
/// writer arms it after the commit ([`crate::outbox::arm_relay`]). Writes do not wait for each
/// other on it.
pub(crate) fn relay_idle() -> String {
    format!(
        "coalesce((select r.armed_at is null or r.armed_at < now() - interval '{RELAY_STALE_SECS} seconds' \
         from outbox_relay r where r.id = 1 for share), true)"
    )
}

/// Outbox insert for every row of `src` (a CTE of task rows `s`), with a jsonb `task` expression:
/// the Task API's `event` about each row.
pub(crate) fn outbox_insert(src: &str, event: EventType, task: &str, extra: &str) -> String {
    outbox_insert_from(TASK_API_SOURCE, src, event, task, "s.series_id", extra)
}

/// [`outbox_insert`] for events of the service `source`, with the event's `series_id` given as
/// an expression. The topic is the event type's.
pub(crate) fn outbox_insert_from(
    source: &str,
    src: &str,
    event: EventType,
    task: &str,
    series: &str,
    extra: &str,
) -> String {
    format!(
        "insert into outbox (event_id, type, topic, user_id, task_id, series_id, payload, source) \
         select gen_random_uuid(), '{event_type}', '{topic}', s.user_id, s.task_id, {series}, \
         jsonb_build_object('task_id', s.task_id::text, 'user_id', s.user_id, 'series_id', ({series})::text, 'task', {task}{extra}), \
         '{source}' from {src} s returning *",
        event_type = event.name(),
        topic = event.topic().name(),
    )
}

/// Reminder offsets as the JSON text stored in `user_settings.default_reminders` and read by
/// `jsonb_to_recordset(... as o(off text, secs integer))`.
pub(crate) fn offsets_json(offsets: &[ReminderOffset]) -> String {
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
pub(crate) fn record_claim_email(b: &mut Binder, u: &str, claim_email: Option<&str>) -> String {
    record_claim_email_when(b, u, claim_email, "true")
}

/// [`record_claim_email`], written only when `when` (SQL over the CTEs before it) holds: a
/// refused or missing-row write records nothing.
pub(crate) fn record_claim_email_when(
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
pub(crate) fn default_offsets(u: &str) -> String {
    format!(
        "coalesce((select us.default_reminders from user_settings us where us.user_id = {u}), '[]'::jsonb)"
    )
}

/// CTE creating the series' next instance (with the series' template and the finished
/// instance's reminders) after the rows of `src`; ignores an occurrence that already exists or
/// that falls after the series' end date as stored now (a concurrent "this and following" edit
/// may have ended the series after the caller computed `next`).
pub(crate) fn next_instance_ctes(b: &mut Binder, src: &str, next: Option<NextInstance>) -> String {
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
            EventType::TaskCreated,
            &task_json("s", &format!("coalesce((select jsonb_agg(r.offset_text order by r.offset_secs desc) from reminders r join {src} f on r.task_id = f.task_id), '[]'::jsonb)")),
            ""
        ),
    )
}

/// CTEs keeping the reminders of the updated tasks `src` consistent. With `offsets`, the
/// reminders of every task of `src` that is not deleted are replaced (removed offsets deleted,
/// the others upserted); without, their `remind_at` follows the (maybe new) due date. Returns
/// the CTEs and a function giving the reminders JSON of a row alias (after the change).
pub(crate) fn reminder_ctes(
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
