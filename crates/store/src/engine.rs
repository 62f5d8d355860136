//! The recurrence engine's statements: the completion safety net, pre-creation of fixed-grid
//! instances (one or a batch) and the catch-up of stuck chains.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::Value;

use domain::schedule::NextInstance;
use domain::{SeriesId, TaskId};

use events::EventType;

use crate::fragments::{
    events_of, events_of_all, next_instance_ctes, outbox_insert_from, task_json, ENGINE_SOURCE,
};
use crate::outbox::Events;
use crate::statement::{opt_time, rfc3339, ts, ts_ms, Binder, Query, Statement};

/// A completed instance with its series ([`completed_instance`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletedInstance {
    /// The instance's status.
    pub status: String,
    /// Its occurrence.
    pub recurrence_id: Option<DateTime<Utc>>,
    /// The series' RRULE.
    pub rule: String,
    /// The series' local DTSTART.
    pub dtstart_local: String,
    /// The series' time zone.
    pub tzid: String,
    /// The series' end.
    pub end_date: Option<DateTime<Utc>>,
    /// The series' mode.
    pub mode: String,
    /// When the instance was completed (milliseconds).
    pub completed_at: Option<DateTime<Utc>>,
}

/// What a pre-creating or completing write of the engine did.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstancesCreated {
    /// False when the event or job was processed before (nothing was done).
    pub newly_processed: bool,
    /// Instances created.
    pub created: i64,
    /// The outbox events the statement wrote.
    pub events: Events,
    /// [`precreate_instance`] only: the largest reminder offset (seconds) of the occurrence's
    /// instance (or, before it is visible, of the one it copies).
    #[serde(default)]
    pub largest_offset_secs: Option<i64>,
}

/// What [`precreate_batch`] did.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchCreated {
    /// Items newly processed.
    pub processed: i64,
    /// Instances created.
    pub created: i64,
    /// The outbox events the statement wrote.
    pub events: Events,
}

/// A series for pre-creation ([`engine_series`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSeries {
    /// RRULE.
    pub rule: String,
    /// Local DTSTART.
    pub dtstart_local: String,
    /// Time zone.
    pub tzid: String,
    /// End.
    pub end_date: Option<DateTime<Utc>>,
    /// Mode.
    pub mode: String,
    /// False once stopped.
    pub is_active: bool,
}

/// A series' pre-creation chain ([`series_chains`], [`stuck_chains`]). The frontier is the
/// latest occurrence with a live (not deleted) instance.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chain {
    /// The series.
    pub series_id: String,
    /// RRULE.
    pub rule: String,
    /// Local DTSTART.
    pub dtstart_local: String,
    /// Time zone.
    pub tzid: String,
    /// End.
    pub end_date: Option<DateTime<Utc>>,
    /// Mode.
    pub mode: String,
    /// False once stopped.
    pub is_active: bool,
    /// The frontier occurrence.
    pub frontier: Option<DateTime<Utc>>,
    /// The occurrence after the frontier.
    pub frontier_upcoming: Option<DateTime<Utc>>,
    /// Where the last catch-up left the series (milliseconds).
    pub caught_up_through: Option<DateTime<Utc>>,
    /// The largest reminder offset (seconds) of the frontier instance.
    pub largest_offset_secs: Option<i64>,
}

/// The completed instance of a `v1.task.completed` event with its series, for the recurrence
/// engine. No row if the task or its series does not exist.
#[must_use]
pub fn completed_instance(user: &str, id: &TaskId) -> Query<CompletedInstance> {
    let mut b = Binder::default();
    let sql = format!(
        "select t.status as status, {rid} as recurrence_id, s.recurrence_pattern as rule, s.dtstart_local as dtstart_local, \
         s.tzid as tzid, {end} as end_date, s.mode as mode, {done} as completed_at \
         from tasks t join series s on s.series_id = t.series_id \
         where t.task_id = {id}::uuid and t.user_id = {u}",
        rid = ts("t.recurrence_id"),
        end = ts("s.end_date"),
        done = ts_ms("t.completed_at"),
        id = b.bind(id.as_str()),
        u = b.bind(user),
    );
    b.finish_query(sql)
}

/// The recurrence engine's safety net after a completion: records `event_id` for `consumer` in
/// `processed_events` and, in the same statement, creates `next` unless the event was processed
/// before or the series already moved on: an instance after the completed one, or one created
/// with or after the completion (the Task API creates the next instance in the completing
/// statement, so its `created_at` equals `completed_at`; from completion, the next occurrence
/// may fall before the completed one's). `on conflict (series_id, recurrence_id) do nothing`
/// covers a concurrent creator. With `next` absent (the rule is exhausted) the series is marked
/// completed. Answers one [`InstancesCreated`].
#[must_use]
pub fn ensure_next_instance(
    consumer: &str,
    event_id: &str,
    id: &TaskId,
    next: Option<NextInstance>,
) -> Query<InstancesCreated> {
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
         select (select count(*) from pe) > 0 as newly_processed, (select count(*) from nxt) as created, {events} as events",
        events = events_of("nob"),
    );
    b.finish_query(sql)
}

/// A series for the recurrence engine's pre-creation:
/// no row if it does not exist.
#[must_use]
pub fn engine_series(id: &SeriesId) -> Query<EngineSeries> {
    let mut b = Binder::default();
    let sql = format!(
        "select s.recurrence_pattern as rule, s.dtstart_local as dtstart_local, s.tzid as tzid, {end} as end_date, \
         s.mode as mode, s.is_active as is_active \
         from series s where s.series_id = {id}::uuid",
        end = ts("s.end_date"),
        id = b.bind(id.as_str()),
    );
    b.finish_query(sql)
}

/// The columns of a [`Chain`] (series joined as `s`, its frontier as `f`).
fn chain_columns() -> String {
    format!(
        "s.series_id::text as series_id, s.recurrence_pattern as rule, s.dtstart_local as dtstart_local, s.tzid as tzid, \
         {end} as end_date, s.mode as mode, s.is_active as is_active, {rid} as frontier, {up} as frontier_upcoming, \
         {caught} as caught_up_through, \
         (select max(r.offset_secs) from reminders r where r.task_id = f.task_id) as largest_offset_secs",
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

/// The pre-creation chains of some series (see [`Chain`]); unknown ids have no row.
pub fn series_chains(ids: &[SeriesId]) -> Query<Chain> {
    let mut b = Binder::default();
    let list: Vec<&str> = ids.iter().map(SeriesId::as_str).collect();
    let sql = format!(
        "select {cols} from series s {FRONTIER} where s.series_id = any(string_to_array({ids}, ',')::uuid[]) \
         order by s.series_id",
        cols = chain_columns(),
        ids = b.bind(list.join(",")),
    );
    b.finish_query(sql)
}

/// One page (at most `limit`, by series id after `after`) of active fixed-grid series whose
/// chain is stuck: the pre-creation time of the occurrence after the frontier has come at `now`
/// (its lead as `engine::precreate_lead_secs` of the frontier instance's reminders) but it has
/// no instance, and it was not handled by an earlier catch-up (`caught_up_through`). Rows are [`Chain`]s.
#[must_use]
pub fn stuck_chains(after: &str, now: DateTime<Utc>, limit: u32) -> Query<Chain> {
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
        lead = b.bind(engine::PRECREATE_LEAD_SECS),
        margin = b.bind(engine::REMINDER_MARGIN_SECS),
        limit = b.bind(limit),
    );
    b.finish_query(sql)
}

/// Records a catch-up of a series at `now`: adds the occurrences it skipped to
/// `series.missed_occurrences` and moves `caught_up_through` to `now`, only if no other
/// catch-up recorded one since `previous` (so a count is never added twice).
#[must_use]
pub fn record_catch_up(
    id: &SeriesId,
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
                .map_or(Value::Null, |p| Value::String(p.to_rfc3339_opts(SecondsFormat::Millis, true)))
        ),
    );
    b.finish(sql)
}

/// Pre-creates the instance of an active fixed-grid series at `occurrence` (from the series
/// template, with the reminders of the latest earlier instance) with its `v1.task.created`
/// event on `task-operations` and, when it has reminders, a `v1.reminder.planned` event on `alerts`; records `job` for
/// `consumer` in `processed_events` in the same statement. An occurrence that exists already
/// (created on completion, or deleted) is left alone: `on conflict (series_id, recurrence_id)
/// do nothing`. Answers one [`InstancesCreated`] with its `largest_offset_secs`.
#[must_use]
pub fn precreate_instance(
    consumer: &str,
    job: &str,
    series: &SeriesId,
    occurrence: DateTime<Utc>,
    upcoming: Option<DateTime<Utc>>,
) -> Query<InstancesCreated> {
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
         select (select count(*) from pe) > 0 as newly_processed, (select count(*) from nxt) as created, \
         {events} as events, \
         (select max(r.offset_secs) from reminders r where r.task_id = (select t.task_id from tasks t \
         where t.series_id = {sid}::uuid and t.recurrence_id <= {occ}::timestamptz \
         order by t.recurrence_id desc limit 1)) as largest_offset_secs",
        created = outbox_insert_from(ENGINE_SOURCE, "nxt", EventType::TaskCreated, &task_json("s", reminders), "s.series_id", ""),
        due = outbox_insert_from(ENGINE_SOURCE, "nxr", EventType::ReminderPlanned, &task_json("s", reminders), "s.series_id", ""),
        events = events_of_all(&["nob", "aob"]),
    );
    b.finish_query(sql)
}

/// One occurrence to pre-create in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    /// Idempotency key (the occurrence's pre-creation job name).
    pub key: String,
    /// The series.
    pub series: SeriesId,
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
/// outbox. Answers one [`BatchCreated`].
#[must_use]
pub fn precreate_batch(consumer: &str, items: &[BatchItem]) -> Query<BatchCreated> {
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
         select (select count(*) from pe) as processed, (select count(*) from nxt) as created, {events} as events",
        created = outbox_insert_from(ENGINE_SOURCE, "nxt", EventType::TaskCreated, &task_json("s", reminders), "s.series_id", ""),
        due = outbox_insert_from(ENGINE_SOURCE, "nxr", EventType::ReminderPlanned, &task_json("s", reminders), "s.series_id", ""),
        events = events_of_all(&["nob", "aob"]),
    );
    b.finish_query(sql)
}
