//! The Task API's series reads: one series, and the user's calendar feed.

use serde::Deserialize;

use domain::TaskId;

use crate::statement::*;

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
