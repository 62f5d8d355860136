//! The Task API's edits: a patch of one task or of a series' pending instances, and the rule
//! edit or split of a series (planned by `domain::edit`).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use domain::edit::{Action, SeriesEdit};
use domain::schedule::LOCAL_FORMAT;
use domain::{PatchTask, Scope, TaskId};

use events::EventType;

use crate::fragments::{
    events_of, events_of_all, outbox_insert, outbox_insert_from, rate_limit,
    record_claim_email_when, relay_idle, reminder_ctes, stored_reminders, task_json, Admission,
    RateLimit, TASK_API_SOURCE,
};
use crate::outbox::Events;
use crate::statement::{opt_text, opt_time, rfc3339, ts, Binder, Query};

/// The row of an edit ([`patch_task`], [`edit_series`]). A null `version` means not found (or
/// the write limit reached: `retry_after` set); a null task with a version means the
/// precondition failed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskEdited {
    /// The edited task as the API answers it.
    pub task: Option<Value>,
    /// The outbox events the statement wrote.
    pub events: Events,
    /// The task's version before the edit.
    pub version: Option<i64>,
    /// Seconds until the user's write window ends, when the write limit refused the write.
    pub retry_after: Option<i64>,
    /// The service was overloaded when the statement ran: nothing was written.
    pub shed: bool,
    /// The outbox relay was idle when the write committed: the writer arms it for its events.
    pub relay_idle: bool,
}

/// Edits a task (scope `this`) or, for a series instance, also the series template (so the
/// instances created later follow) and the later pending instances (`following`) or all pending
/// instances (`all`); completed instances keep their values. Given reminders replace those of
/// every task edited; a new due date moves their reminder times. `version` is the `If-Match`
/// precondition. One `v1.task.updated` event per changed task.
/// Always answers one [`TaskEdited`]. `claim_email` is recorded like
/// [`crate::tasks::create_task`]'s (a patch may set reminders).
pub fn patch_task(
    user: &str,
    id: &TaskId,
    p: &PatchTask,
    scope: Scope,
    version: Option<i64>,
    admission: &Admission,
    claim_email: Option<&str>,
) -> Query<TaskEdited> {
    let mut b = Binder::default();
    let idp = b.bind(id.as_str());
    let u = b.bind(user);
    let rl = rate_limit(&mut b, &u, admission);
    let claim = record_claim_email_when(&mut b, &u, claim_email, "exists (select 1 from upd)");
    let v = b.bind(version.map_or(Value::Null, Value::from));
    let title = b.bind(opt_text(p.title.as_ref().map(domain::Title::as_str)));
    let desc = b.bind(opt_text(p.description.as_deref()));
    let prio = b.bind(opt_text(p.priority.map(domain::Priority::as_str)));
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
         select (select {json} from upd where upd.task_id = {idp}::uuid) as task, {events} as events, \
         (select version from cur) as version, {rate} as retry_after, {shed} as shed, {relay} as relay_idle",
        rlc = rl.ctes,
        gate = rl.gate,
        rate = rl.column,
        shed = rl.shed,
        relay = relay_idle(),
        outbox = outbox_insert("upd", EventType::TaskUpdated, &task_json("s", &rem_json("s")),
            &format!(", 'scope', {sc}::text, 'rule_changed', false")),
        json = task_json("upd", &rem_json("upd")),
        events = events_of("ob"),
    );
    b.finish_query(sql)
}

/// An instance of the edited series, as [`edit_context`] reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownInstance {
    /// Task id.
    pub task_id: String,
    /// Its occurrence.
    pub recurrence_id: Option<DateTime<Utc>>,
    /// Its status.
    pub status: String,
    /// Moved or edited on its own.
    pub is_exception: bool,
}

/// What a series edit reads first ([`edit_context`]); the series columns are null for a
/// one-off task.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditContext {
    /// The edited task's status.
    pub status: String,
    /// Its occurrence.
    pub recurrence_id: Option<DateTime<Utc>>,
    /// Its series.
    pub series_id: Option<String>,
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
    /// False once the series was stopped.
    pub is_active: Option<bool>,
    /// The series' instances that matter for the plan.
    pub instances: Vec<KnownInstance>,
    /// True when a live instance comes before the edited one.
    pub has_earlier: bool,
}

/// What a series edit reads first: the edited task in its series, the stored series, and its
/// instances that matter for the plan (pending ones, and recent ones of any status). No row if
/// the task does not exist for the user.
#[must_use]
pub fn edit_context(user: &str, id: &TaskId) -> Query<EditContext> {
    let mut b = Binder::default();
    let sql = format!(
        "select t.status as status, {rid} as recurrence_id, t.series_id::text as series_id, \
         s.recurrence_pattern as rule, s.dtstart_local as dtstart_local, s.tzid as tzid, {end} as end_date, \
         s.mode as mode, s.is_active as is_active, \
         (select coalesce(jsonb_agg(jsonb_build_object('task_id', x.task_id::text, 'recurrence_id', {xrid}, \
         'status', x.status, 'is_exception', x.is_exception)), '[]'::jsonb) from tasks x \
         where x.series_id = t.series_id and (x.status = 'pending' or x.recurrence_id > now() - interval '2 days')) as instances, \
         exists (select 1 from tasks x where x.series_id = t.series_id and x.status <> 'deleted' and x.recurrence_id < t.recurrence_id) as has_earlier \
         from tasks t left join series s on s.series_id = t.series_id \
         where t.task_id = {id}::uuid and t.user_id = {u} and t.status <> 'deleted'",
        rid = ts("t.recurrence_id"),
        xrid = ts("x.recurrence_id"),
        end = ts("s.end_date"),
        id = b.bind(id.as_str()),
        u = b.bind(user),
    );
    b.finish_query(sql)
}

/// Edits a series' rule or splits it (scope `all` or `following`, see `domain::edit`): updates
/// the series (`all`) or ends it just before the edited occurrence (end date, and the rule cut
/// by `domain::edit::split_rules`) and inserts the new series
/// that the edited instance and the later pending ones move to (split); applies the plan to the
/// pending instances in scope (keep, move, delete), the patch's template fields and reminders,
/// and creates the next instance if the plan says so. Events: `v1.task.updated` (with
/// `rule_changed` and, on a split, `new_series_id`) per edited task, `v1.task.deleted` per
/// removed instance, `v1.task.created` for a created one. Answers a [`TaskEdited`] like
/// [`patch_task`].
#[must_use]
pub fn edit_series(
    user: &str,
    id: &TaskId,
    p: &PatchTask,
    scope: Scope,
    version: Option<i64>,
    edit: &SeriesEdit,
    admission: &Admission,
) -> Query<TaskEdited> {
    let mut b = Binder::default();
    let e = EditBinds::bind(&mut b, user, id, p, scope, version, admission);
    let t = TemplateBinds::bind(&mut b, edit);
    let series = if edit.split {
        split_series_ctes(&e, &t)
    } else {
        replace_series_ctes(&e, &t)
    };
    let instances = planned_instance_ctes(&mut b, &e, &t, edit);
    let (rem_ctes, set_rem, rem_json) = reminder_ctes(&mut b, "upd", p.reminders.as_deref());
    let created = created_instance_ctes(&mut b, &e, &t, edit, &set_rem);
    let events = edit_event_ctes(&mut b, &e, edit, &set_rem, &rem_json);
    let sql = format!(
        "with {rlc}cur as (select * from tasks where task_id = {idp}::uuid and user_id = {u} and status <> 'deleted' and {gate} for update), \
         ok as (select * from cur where ({v}::integer is null or cur.version = {v}::integer) and cur.series_id is not null), \
         {series}{instances}{rem_ctes}{created}{events}\
         select (select {json} from upd where upd.task_id = {idp}::uuid) as task, {all_events} as events, \
         (select version from cur) as version, {rate} as retry_after, {shed} as shed, {relay} as relay_idle",
        relay = relay_idle(),
        rlc = e.rate.ctes,
        gate = e.rate.gate,
        rate = e.rate.column,
        shed = e.rate.shed,
        idp = e.id,
        u = e.user,
        v = e.version,
        json = task_json("upd", &rem_json("upd")),
        all_events = events_of_all(&["ob", "dob", "nob"]),
    );
    b.finish_query(sql)
}

/// The bound values of a series edit's request: the edited task, the caller's write limit, the
/// precondition, the patch's template fields and the scope.
struct EditBinds {
    id: String,
    user: String,
    rate: RateLimit,
    version: String,
    title: String,
    description: String,
    priority: String,
    scope: String,
}

impl EditBinds {
    fn bind(
        b: &mut Binder,
        user: &str,
        id: &TaskId,
        p: &PatchTask,
        scope: Scope,
        version: Option<i64>,
        admission: &Admission,
    ) -> Self {
        let id = b.bind(id.as_str());
        let user = b.bind(user);
        let rate = rate_limit(b, &user, admission);
        EditBinds {
            id,
            rate,
            user,
            version: b.bind(version.map_or(Value::Null, Value::from)),
            title: b.bind(opt_text(p.title.as_ref().map(domain::Title::as_str))),
            description: b.bind(opt_text(p.description.as_deref())),
            priority: b.bind(opt_text(p.priority.map(domain::Priority::as_str))),
            scope: b.bind(scope.as_str()),
        }
    }

    /// A template column of series `s` after the patch (the patched value, else the stored one).
    fn template(&self, column: &str) -> String {
        let value = match column {
            "title" => &self.title,
            "description" => &self.description,
            _ => &self.priority,
        };
        format!("coalesce({value}, s.{column})")
    }
}

/// The bound values of the series' new recurrence (the plan of `domain::edit`).
struct TemplateBinds {
    rule: String,
    /// The old series' cut rule (bound for a split only).
    old_rule: String,
    tzid: String,
    start: String,
    local: String,
    end: String,
    mode: String,
}

impl TemplateBinds {
    fn bind(b: &mut Binder, edit: &SeriesEdit) -> Self {
        TemplateBinds {
            rule: b.bind(edit.plan.rule.as_str()),
            old_rule: if edit.split {
                b.bind(opt_text(edit.old_rule.as_deref()))
            } else {
                String::new()
            },
            tzid: b.bind(edit.plan.tzid.as_str()),
            start: b.bind(rfc3339(edit.plan.start_at)),
            local: b.bind(edit.plan.dtstart_local.format(LOCAL_FORMAT).to_string()),
            end: b.bind(opt_time(edit.plan.end_date)),
            mode: b.bind(edit.plan.mode.as_str()),
        }
    }
}

/// The series' columns after the edit: the template (the patch over the stored values) and the
/// plan's recurrence, as `(column, value)`.
fn series_values(e: &EditBinds, t: &TemplateBinds) -> [(&'static str, String); 9] {
    [
        ("title", e.template("title")),
        ("description", e.template("description")),
        ("priority", e.template("priority")),
        ("recurrence_pattern", t.rule.clone()),
        ("tzid", t.tzid.clone()),
        ("start_at", format!("{}::timestamptz", t.start)),
        ("dtstart_local", t.local.clone()),
        ("end_date", format!("{}::timestamptz", t.end)),
        ("mode", t.mode.clone()),
    ]
}

/// Scope `all` without a split: the series takes the new recurrence and template (`oser`); the
/// instances stay in it (`tgt`).
fn replace_series_ctes(e: &EditBinds, t: &TemplateBinds) -> String {
    let set: Vec<String> = series_values(e, t)
        .iter()
        .map(|(column, value)| format!("{column} = {value}"))
        .collect();
    format!(
        "oser as (update series s set {set}, updated_at = now() \
         from ok where s.series_id = ok.series_id returning s.series_id), \
         tgt as (select ok.series_id as sid from ok), ",
        set = set.join(", "),
    )
}

/// A split: a new series with the new recurrence and template (`nser`) takes the edited
/// instance and the later pending ones (`tgt`); the old series ends just before the edited
/// occurrence, its rule cut by `domain::edit::split_rules` (`oser`).
fn split_series_ctes(e: &EditBinds, t: &TemplateBinds) -> String {
    let (columns, values): (Vec<&str>, Vec<String>) = series_values(e, t).into_iter().unzip();
    format!(
        "nser as (insert into series (series_id, user_id, {columns}) \
         select gen_random_uuid(), s.user_id, {values} \
         from series s join ok on s.series_id = ok.series_id returning series_id), \
         oser as (update series s set recurrence_pattern = coalesce({old_rule}::text, s.recurrence_pattern), \
         end_date = ok.recurrence_id - interval '1 second', updated_at = now() \
         from ok where s.series_id = ok.series_id returning s.series_id), \
         tgt as (select coalesce((select series_id from nser), ok.series_id) as sid from ok), ",
        columns = columns.join(", "),
        values = values.join(", "),
        old_rule = t.old_rule,
    )
}

/// The plan applied to the instances in scope (`upd`): each moves to the target series with the
/// patch's fields and the new recurrence (pending ones), and is kept, moved or deleted as the
/// plan says.
fn planned_instance_ctes(
    b: &mut Binder,
    e: &EditBinds,
    t: &TemplateBinds,
    edit: &SeriesEdit,
) -> String {
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
    format!(
        "plan as (select * from jsonb_to_recordset({plan}::jsonb) as p(task_id uuid, action text, due timestamptz, upcoming timestamptz)), \
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
         version = t.version + 1, updated_at = now() from scoped, tgt where t.task_id = scoped.task_id returning t.*), ",
        sc = e.scope,
        title = e.title,
        desc = e.description,
        prio = e.priority,
        rule = t.rule,
        end = t.end,
    )
}

/// The instance the plan creates, if any (`nxt`), with the patch's reminders or else the edited
/// instance's (`nrem`).
fn created_instance_ctes(
    b: &mut Binder,
    e: &EditBinds,
    t: &TemplateBinds,
    edit: &SeriesEdit,
    set_rem: &str,
) -> String {
    let due = b.bind(opt_time(edit.create.map(|c| c.due)));
    let upcoming = b.bind(opt_time(edit.create.and_then(|c| c.upcoming)));
    format!(
        "nxt as (insert into tasks (task_id, series_id, user_id, title, description, priority, due_date, is_recurring, recurrence_id, recurrence_pattern, recurrence_end_date, upcoming_occurrence) \
         select gen_random_uuid(), tgt.sid, ok.user_id, {title}, {desc}, {prio}, {due}::timestamptz, true, {due}::timestamptz, {rule}, {end}::timestamptz, {upcoming}::timestamptz \
         from ok join series s on s.series_id = ok.series_id, tgt where {due}::timestamptz is not null \
         on conflict (series_id, recurrence_id) do nothing returning *), \
         nrem as (insert into reminders (reminder_id, task_id, user_id, offset_text, offset_secs, remind_at) \
         select gen_random_uuid(), n.task_id, n.user_id, r.off, r.secs, n.due_date - r.secs * interval '1 second' from nxt n, \
         (select off, secs from rset where {set_rem}::boolean union all select r.offset_text, r.offset_secs from reminders r \
         join ok on r.task_id = ok.task_id where not {set_rem}::boolean) r returning task_id), ",
        title = e.template("title"),
        desc = e.template("description"),
        prio = e.template("priority"),
        rule = t.rule,
        end = t.end,
    )
}

/// The edit's outbox rows: `v1.task.updated` per kept instance (`ob`), `v1.task.deleted` per
/// removed one (`dob`), `v1.task.created` for a created one (`nob`); the first two carry the
/// scope, whether the rule changed and, on a split, the new series.
fn edit_event_ctes(
    b: &mut Binder,
    e: &EditBinds,
    edit: &SeriesEdit,
    set_rem: &str,
    rem_json: &impl Fn(&str) -> String,
) -> String {
    let changed = b.bind(edit.rule_changed);
    let new_series = if edit.split {
        "(select sid::text from tgt)"
    } else {
        "null::text"
    };
    let extra = format!(
        ", 'scope', {sc}::text, 'rule_changed', {changed}::boolean, 'new_series_id', {new_series}",
        sc = e.scope
    );
    let created_reminders = format!(
        "(case when {set_rem}::boolean then (select coalesce(jsonb_agg(off order by secs desc), '[]'::jsonb) from rset) \
         else coalesce((select jsonb_agg(r.offset_text order by r.offset_secs desc) from reminders r join ok on r.task_id = ok.task_id), '[]'::jsonb) end)"
    );
    let old_series = "(select series_id from ok)";
    format!(
        "kept as (select * from upd where status <> 'deleted'), \
         gone as (select * from upd where status = 'deleted'), \
         ob as ({updated}), \
         dob as ({deleted}), \
         nob as ({created}) ",
        updated = outbox_insert_from(
            TASK_API_SOURCE,
            "kept",
            EventType::TaskUpdated,
            &task_json("s", &rem_json("s")),
            old_series,
            &extra
        ),
        deleted = outbox_insert_from(
            TASK_API_SOURCE,
            "gone",
            EventType::TaskDeleted,
            &task_json("s", &stored_reminders("s")),
            old_series,
            &extra
        ),
        created = outbox_insert(
            "nxt",
            EventType::TaskCreated,
            &task_json("s", &created_reminders),
            ""
        ),
    )
}
