//! The Task API's series reads: one series, and the user's calendar feed.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use domain::SeriesId;

use crate::statement::{ts, ts_ms, Binder, Query};

/// The columns of a series' instances that differ from its rule (`s` the series): `exdates`,
/// the recurrence ids of its deleted instances, and `exceptions`, its moved, edited or completed
/// instances that are not deleted (as [`EditedInstance`]s). The preview and the calendar export
/// read the same two columns, so they show the same series.
fn instance_columns() -> String {
    format!(
        "(select coalesce(jsonb_agg({xrid} order by x.recurrence_id), '[]'::jsonb) from tasks x \
         where x.series_id = s.series_id and x.status = 'deleted' and x.recurrence_id is not null) as exdates, \
         (select coalesce(jsonb_agg(jsonb_build_object('recurrence_id', {xrid}, 'due_date', {xdue}, 'title', x.title, \
         'description', x.description, 'priority', x.priority, 'status', x.status, 'completed_at', {xdone}, \
         'updated_at', {xupdated}) \
         order by x.recurrence_id), '[]'::jsonb) from tasks x \
         where x.series_id = s.series_id and (x.is_exception or x.status = 'completed') \
         and x.status <> 'deleted' and x.recurrence_id is not null) as exceptions",
        xrid = ts("x.recurrence_id"),
        xdue = ts("x.due_date"),
        xdone = ts("x.completed_at"),
        xupdated = ts("x.updated_at"),
    )
}

/// A series as the API answers it, its stored rule and its instances that differ from the rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesRow {
    /// The series JSON.
    pub series: Value,
    /// Its RRULE.
    pub rule: String,
    /// Its local DTSTART (`domain::schedule::LOCAL_FORMAT`).
    pub dtstart_local: String,
    /// Its time zone.
    pub tzid: String,
    /// Its end.
    pub end_date: Option<DateTime<Utc>>,
    /// `fixed` or `from_completion`.
    pub mode: String,
    /// The recurrence ids of its deleted instances.
    pub exdates: Vec<DateTime<Utc>>,
    /// Its moved, edited or completed instances that are not deleted.
    pub exceptions: Vec<EditedInstance>,
}

/// One series of the user.
#[must_use]
pub fn get_series(user: &str, id: &SeriesId) -> Query<SeriesRow> {
    let mut b = Binder::default();
    let sql = format!(
        "select jsonb_build_object('series_id', s.series_id::text, 'title', s.title, 'description', s.description, \
         'priority', s.priority, 'recurrence_pattern', s.recurrence_pattern, 'tzid', s.tzid, 'start', {start}, \
         'dtstart_local', s.dtstart_local, 'end_date', {end}, 'mode', s.mode, 'is_active', s.is_active, \
         'completed_at', {done}, 'created_at', {created}, 'updated_at', {updated}) as series, \
         s.recurrence_pattern as rule, s.dtstart_local as dtstart_local, s.tzid as tzid, {end} as end_date, s.mode as mode, \
         {instances} from series s where s.series_id = {id}::uuid and s.user_id = {u}",
        instances = instance_columns(),
        start = ts("s.start_at"),
        end = ts("s.end_date"),
        done = ts_ms("s.completed_at"),
        created = ts_ms("s.created_at"),
        updated = ts_ms("s.updated_at"),
        id = b.bind(id.as_str()),
        u = b.bind(user),
    );
    b.finish_query(sql)
}

/// An instance of a series that differs from the rule: moved, edited or completed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditedInstance {
    /// The occurrence it replaces.
    pub recurrence_id: DateTime<Utc>,
    /// Its due date.
    pub due_date: Option<DateTime<Utc>>,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: String,
    /// `low`, `medium` or `high`.
    pub priority: String,
    /// `pending` or `completed`.
    pub status: String,
    /// When it was completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// When it was last changed (its DTSTAMP in the export).
    pub updated_at: DateTime<Utc>,
}

impl EditedInstance {
    /// The instance as the effective series takes it (`domain::schedule::effective_series`).
    #[must_use]
    pub fn exception(&self) -> domain::schedule::Exception {
        domain::schedule::Exception {
            recurrence_id: self.recurrence_id,
            due_date: self.due_date,
            title: self.title.clone(),
        }
    }
}

/// An entry of the calendar feed: a series (`kind` `series`) or a one-off task (`task`); the
/// series columns are null for a task.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarEntry {
    /// `series` or `task`.
    pub kind: String,
    /// The series or task id.
    pub uid: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// `low`, `medium` or `high`.
    pub priority: String,
    /// The task's due date.
    pub due: Option<DateTime<Utc>>,
    /// The task's status (`pending` for a series).
    pub status: String,
    /// The series' RRULE.
    pub rule: Option<String>,
    /// The series' local DTSTART.
    pub dtstart_local: Option<String>,
    /// The series' time zone.
    pub tzid: Option<String>,
    /// The series' end.
    pub end_date: Option<DateTime<Utc>>,
    /// The series' mode.
    pub mode: Option<String>,
    /// The recurrence ids of the series' deleted instances.
    pub exdates: Option<Vec<DateTime<Utc>>>,
    /// The series' moved, edited or completed instances that are not deleted.
    pub exceptions: Option<Vec<EditedInstance>>,
    /// When the task, or the series or any of its instances, last changed (the DTSTAMP).
    pub updated_at: DateTime<Utc>,
}

/// The user's calendar: every active series with its removed and edited instances, and every
/// one-off task that is not deleted.
#[must_use]
pub fn calendar(user: &str) -> Query<CalendarEntry> {
    let mut b = Binder::default();
    let u = b.bind(user);
    let sql = format!(
        "(select 'series' as kind, s.series_id::text as uid, s.title as title, s.description as description, \
         s.priority as priority, null::text as due, 'pending' as status, s.recurrence_pattern as rule, \
         s.dtstart_local as dtstart_local, s.tzid as tzid, {end} as end_date, s.mode as mode, {instances}, \
         {series_updated} as updated_at \
         from series s where s.user_id = {u} and s.is_active order by s.created_at limit 1000) \
         union all \
         (select 'task', t.task_id::text, t.title, t.description, t.priority, {due}, t.status, null, null, null, null, null, \
         null::jsonb, null::jsonb, {task_updated} \
         from tasks t where t.user_id = {u} and t.series_id is null and t.status <> 'deleted' order by t.created_at limit 1000)",
        end = ts("s.end_date"),
        instances = instance_columns(),
        due = ts("t.due_date"),
        series_updated = ts("greatest(s.updated_at, (select max(x.updated_at) from tasks x where x.series_id = s.series_id))"),
        task_updated = ts("t.updated_at"),
    );
    b.finish_query(sql)
}
