//! Every SQL statement of the notification service, each one statement (the Dapr `PostgreSQL`
//! binding runs one per call) with bound parameters, never interpolated values.
//!
//! - [`reconcile_tasks`] brings the reminder rows of some tasks in line with the stored tasks and
//!   answers the reminders whose job must be scheduled or deleted;
//! - [`record_jobs`] records what was done with the jobs;
//! - [`claim_deliveries`] takes, per channel, the right to deliver one reminder time (the
//!   idempotency record: a channel already `sent` is never claimed again);
//! - [`record_outcome`] marks each claimed channel sent (with its lateness) or failed;
//! - [`entering_horizon`] finds the tasks of reminders that have come within the horizon
//!   without a job, for the horizon job;
//! - [`overdue_undelivered`] finds reminders whose delivery has not converged (a job trigger
//!   lost while Kafka or the sidecar was down, a failed channel, a crashed claim), for the sweep.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::outbox::Events;
use crate::statement::{ts_ms, Binder, Query};
use domain::{ReminderId, TaskId};

use notify::job::{rfc3339_ms, JOB_PREFIX};
use notify::Channel;

/// A `sending` claim older than this is taken over (its holder crashed between sending and
/// recording; the channel may then be delivered twice, the only case where it can). Longer than
/// a sidecar call may take (`DAPR_TIMEOUT_SECS`, 30 s) twice over, so a slow send is never
/// claimed again while it is still under way.
pub const CLAIM_LEASE_SECS: i64 = 90;

/// Attempts a channel gets; a channel that failed this often is `dead` (visible, not retried).
pub const MAX_DELIVERY_ATTEMPTS: i64 = 12;

/// How late a reminder that was scheduled is still delivered (marked late) after an outage;
/// older ones are recorded `missed` (visible in the reminder's status).
pub const LATE_DELIVERY_MAX_SECS: i64 = 24 * 3600;
// The sweep's range bound ([`overdue_undelivered`]) is the longer of its two windows.
const _: () = assert!(LATE_DELIVERY_MAX_SECS >= notify::job::LATE_GRACE_SECS);

/// A reminder that needs work after [`reconcile_tasks`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconciledReminder {
    /// The reminder.
    pub reminder_id: String,
    /// Its task.
    pub task_id: String,
    /// The owner.
    pub user_id: String,
    /// Its status after the reconciliation.
    pub status: String,
    /// Its time (none when the task has no due date).
    pub remind_at: Option<DateTime<Utc>>,
    /// The job recorded for it.
    pub job_name: Option<String>,
    /// The task's status.
    pub task_status: String,
    /// Cancelled by this reconciliation.
    pub newly_cancelled: bool,
    /// The `v1.reminder.cancelled` outbox rows the statement wrote (the same on every row).
    pub events: Events,
}

impl ReconciledReminder {
    /// The row as `notify::reconcile` plans it; `None` if an id is not a UUID.
    #[must_use]
    pub fn plan_row(&self) -> Option<notify::reconcile::ReminderRow> {
        Some(notify::reconcile::ReminderRow {
            reminder_id: ReminderId::parse(&self.reminder_id)?,
            task_id: TaskId::parse(&self.task_id)?,
            user_id: self.user_id.clone(),
            status: self.status.clone(),
            remind_at: self.remind_at,
            has_job: self.job_name.is_some(),
            task_status: self.task_status.clone(),
            newly_cancelled: self.newly_cancelled,
        })
    }
}

/// What [`record_jobs`] did.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsRecorded {
    /// Comma-separated scheduled reminders that were cancelled meanwhile (their job must be
    /// deleted again).
    pub orphans: String,
    /// Reminders recorded scheduled.
    pub scheduled: i64,
    /// Reminders whose job was cleared.
    pub cleared: i64,
    /// Reminders recorded missed.
    pub missed: i64,
}

/// One channel of a reminder, as [`claim_deliveries`] answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelClaim {
    /// The channel.
    pub channel: String,
    /// True when this call claimed it.
    pub claimed: bool,
    /// The delivery's status before (or after, when not claimed) this call.
    pub previous_status: Option<String>,
    /// The task.
    pub task_id: String,
    /// The owner.
    pub user_id: String,
    /// The task's title.
    pub title: String,
    /// The task's due date.
    pub due_date: Option<DateTime<Utc>>,
    /// The reminder's offset (ISO 8601 duration).
    pub offset_text: String,
    /// The offset in seconds.
    pub offset_secs: i64,
    /// The reminder time.
    pub remind_at: DateTime<Utc>,
    /// The owner's own address: the one set in `user_settings`, else the token claim recorded
    /// there; null without either.
    pub email: Option<String>,
}

/// What [`record_outcome`] recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRecorded {
    /// Deliveries recorded.
    pub deliveries: i64,
    /// 1 when the reminder was marked sent.
    pub marked_sent: i64,
}

/// A task with a reminder inside the horizon and no job ([`entering_horizon`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HorizonTask {
    /// The task.
    pub task_id: String,
}

/// A reminder whose delivery has not converged ([`overdue_undelivered`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverdueReminder {
    /// The reminder.
    pub reminder_id: String,
    /// Its task.
    pub task_id: String,
    /// The owner.
    pub user_id: String,
    /// Its time.
    pub remind_at: DateTime<Utc>,
}

fn ids(list: &[ReminderId]) -> String {
    list.iter()
        .map(ReminderId::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

/// Recomputes every reminder of the given tasks from the stored tasks (one statement for a bulk
/// delivery's tasks): a pending task's reminders fall at `due_date - offset` (a moved due date
/// makes sent or missed reminders pending again); a completed or deleted task's pending
/// reminders are cancelled. Answers the reminders that need work: pending ones whose job is not
/// scheduled for their time, and ones whose job must go (cancelled, or no due date any more) or
/// that were cancelled just now. A reminder cancelled now gets its `v1.reminder.cancelled`
/// outbox row in the same statement (`events`, the same on every row), so the cancellation is
/// never committed without its event. Unknown task ids match nothing. The rows are locked in
/// reminder order first, so two such statements over overlapping tasks (the two topics' bulk
/// deliveries) wait for each other instead of deadlocking.
#[must_use]
pub fn reconcile_tasks(tasks: &[TaskId]) -> Query<ReconciledReminder> {
    let mut b = Binder::default();
    let list = tasks
        .iter()
        .map(TaskId::as_str)
        .collect::<Vec<_>>()
        .join(",");
    let ids = b.bind(list);
    let sql = format!(
        "with t as (select task_id, status, due_date from tasks \
         where task_id = any(string_to_array({ids}, ',')::uuid[])), \
         locked as (select r.reminder_id from reminders r join t on r.task_id = t.task_id \
         order by r.reminder_id for update of r), \
         upd as (update reminders r set \
         remind_at = case when t.status = 'pending' then t.due_date - r.offset_secs * interval '1 second' else r.remind_at end, \
         status = case when r.status = 'pending' and t.status <> 'pending' then 'cancelled' \
         when t.status = 'pending' and r.status in ('sent', 'missed') \
         and (t.due_date - r.offset_secs * interval '1 second') is distinct from r.remind_at then 'pending' \
         else r.status end, \
         cancelled_at = case when r.status = 'pending' and t.status <> 'pending' then now() else r.cancelled_at end \
         from t, locked l where r.task_id = t.task_id and r.reminder_id = l.reminder_id \
         returning r.reminder_id, r.task_id, r.user_id, r.status, r.remind_at, r.scheduled_for, r.job_name, \
         r.cancelled_at, t.status as task_status), \
         ob as (insert into outbox (event_id, type, topic, user_id, task_id, payload, source) \
         select md5('{cancelled}:' || u.reminder_id::text)::uuid, '{cancelled}', '{alerts}', u.user_id, u.task_id, \
         jsonb_build_object('reminder_id', u.reminder_id::text, 'task_id', u.task_id::text, 'user_id', u.user_id, \
         'reason', 'task ' || u.task_status), '{source}' \
         from upd u where u.status = 'cancelled' and u.cancelled_at = now() \
         on conflict (event_id) do nothing returning *) \
         select reminder_id::text as reminder_id, task_id::text as task_id, user_id, status, {at} as remind_at, \
         job_name, task_status, (status = 'cancelled' and cancelled_at = now()) as newly_cancelled, \
         {events} as events \
         from upd where (status = 'pending' and remind_at is not null and remind_at is distinct from scheduled_for) \
         or (job_name is not null and (status <> 'pending' or remind_at is null)) \
         or (status = 'cancelled' and cancelled_at = now())",
        at = ts_ms("remind_at"),
        events = crate::events_of("ob"),
        cancelled = notify::alert::CANCELLED,
        alerts = notify::alert::ALERTS_TOPIC,
        source = notify::alert::SOURCE,
    );
    b.finish_query(sql)
}

/// Records the job work of a reconciliation: `scheduled` reminders (id, time) now have their
/// job (only if still pending at that time), `cleared` ones no job any more, `missed` ones
/// are past their grace period. Answers one [`JobsRecorded`].
#[must_use]
pub fn record_jobs(
    scheduled: &[(ReminderId, DateTime<Utc>)],
    cleared: &[ReminderId],
    missed: &[ReminderId],
) -> Query<JobsRecorded> {
    let mut b = Binder::default();
    let rows: Vec<Value> = scheduled
        .iter()
        .map(|(id, at)| json!({"id": id.as_str(), "at": rfc3339_ms(*at)}))
        .collect();
    let s = b.bind(Value::Array(rows).to_string());
    let prefix = b.bind(JOB_PREFIX);
    let c = b.bind(ids(cleared));
    let m = b.bind(ids(missed));
    let sql = format!(
        "with s as (select x.id::uuid as id, x.at::timestamptz as at from jsonb_to_recordset({s}::jsonb) as x(id text, at text)), \
         sch as (update reminders r set scheduled_for = r.remind_at, job_name = {prefix} || r.reminder_id::text from s \
         where r.reminder_id = s.id and r.status = 'pending' and date_trunc('milliseconds', r.remind_at) = s.at returning r.reminder_id), \
         clr as (update reminders r set job_name = null, scheduled_for = null \
         where r.reminder_id = any(string_to_array({c}, ',')::uuid[]) and (r.status <> 'pending' or r.remind_at is null) returning r.reminder_id), \
         mis as (update reminders r set status = 'missed', job_name = null, scheduled_for = null \
         where r.reminder_id = any(string_to_array({m}, ',')::uuid[]) and r.status = 'pending' returning r.reminder_id) \
         select coalesce((select string_agg(s.id::text, ',') from s join reminders r on r.reminder_id = s.id \
         where r.status <> 'pending'), '') as orphans, (select count(*) from sch) as scheduled, \
         (select count(*) from clr) as cleared, (select count(*) from mis) as missed"
    );
    b.finish_query(sql)
}

/// Claims the delivery of a reminder at `remind_at` on each of its channels for `event_id`,
/// unless the reminder is cancelled, missed, moved to another time, or its task is no longer
/// pending (no rows then). A channel is claimed when it has no delivery yet, failed before, or
/// its `sending` claim is older than [`CLAIM_LEASE_SECS`] (a `skipped` one never is). One
/// [`ChannelClaim`] per channel.
#[must_use]
pub fn claim_deliveries(
    reminder: &ReminderId,
    remind_at: DateTime<Utc>,
    event_id: &str,
) -> Query<ChannelClaim> {
    let mut b = Binder::default();
    let id = b.bind(reminder.as_str());
    let at = b.bind(rfc3339_ms(remind_at));
    let ev = b.bind(event_id);
    let lease = b.bind(CLAIM_LEASE_SECS);
    let sql = format!(
        "with r as (select r.reminder_id, r.task_id, r.user_id, r.remind_at, r.channels, r.offset_text, r.offset_secs, \
         t.title, t.due_date from reminders r join tasks t on t.task_id = r.task_id \
         where r.reminder_id = {id}::uuid and date_trunc('milliseconds', r.remind_at) = {at}::timestamptz \
         and r.status in ('pending', 'sent') and t.status = 'pending'), \
         ch as (select r.*, c.channel from r, unnest(r.channels) as c(channel)), \
         cl as (insert into reminder_deliveries (reminder_id, remind_at, channel, status, attempts, claimed_at, event_id) \
         select reminder_id, remind_at, channel, 'sending', 1, now(), {ev} from ch \
         on conflict (reminder_id, remind_at, channel) do update set status = 'sending', \
         attempts = reminder_deliveries.attempts + 1, claimed_at = now(), event_id = excluded.event_id \
         where reminder_deliveries.status = 'failed' or (reminder_deliveries.status = 'sending' \
         and reminder_deliveries.claimed_at < now() - {lease}::integer * interval '1 second') returning channel) \
         select ch.channel as channel, ch.channel in (select channel from cl) as claimed, \
         (select d.status from reminder_deliveries d where d.reminder_id = ch.reminder_id \
         and d.remind_at = ch.remind_at and d.channel = ch.channel) as previous_status, \
         ch.task_id::text as task_id, ch.user_id as user_id, ch.title as title, {due} as due_date, \
         ch.offset_text as offset_text, ch.offset_secs as offset_secs, {rat} as remind_at, \
         (select coalesce(us.email, us.token_email) from user_settings us where us.user_id = ch.user_id) as email \
         from ch order by ch.channel",
        due = ts_ms("ch.due_date"),
        rat = ts_ms("ch.remind_at"),
    );
    b.finish_query(sql)
}

/// What became of one claimed channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The provider accepted it at this time.
    Sent(DateTime<Utc>),
    /// The provider refused it or could not be reached (retried).
    Failed(String),
    /// It cannot be delivered (the user has no address on this channel): recorded `skipped`
    /// with the reason, never retried, nothing sent.
    Skipped(String),
}

/// The result of delivering one claimed channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The channel.
    pub channel: Channel,
    /// What became of it.
    pub result: Delivery,
}

/// Records the outcome of each claimed channel (sent with its lateness, failed with the error,
/// to be claimed again by a retry or the sweep and `dead` after [`MAX_DELIVERY_ATTEMPTS`], or
/// skipped with its reason), and marks the reminder sent once a channel delivered.
#[must_use]
pub fn record_outcome(
    reminder: &ReminderId,
    remind_at: DateTime<Utc>,
    outcomes: &[Outcome],
) -> Query<OutcomeRecorded> {
    let mut b = Binder::default();
    let rows: Vec<Value> = outcomes
        .iter()
        .map(|o| match &o.result {
            Delivery::Sent(at) => json!({"channel": o.channel.as_str(), "status": "sent", "at": rfc3339_ms(*at), "error": null}),
            Delivery::Failed(e) => json!({"channel": o.channel.as_str(), "status": "failed", "at": null, "error": e}),
            Delivery::Skipped(e) => json!({"channel": o.channel.as_str(), "status": "skipped", "at": null, "error": e}),
        })
        .collect();
    let o = b.bind(Value::Array(rows).to_string());
    let id = b.bind(reminder.as_str());
    let at = b.bind(rfc3339_ms(remind_at));
    let max = b.bind(MAX_DELIVERY_ATTEMPTS);
    let sql = format!(
        "with o as (select x.*, x.status = 'sent' as ok from jsonb_to_recordset({o}::jsonb) as x(channel text, status text, at text, error text)), \
         d as (update reminder_deliveries d set status = case when o.status = 'failed' and d.attempts >= {max}::integer \
         then 'dead' else o.status end, \
         delivered_at = case when o.ok then o.at::timestamptz end, \
         lateness_ms = case when o.ok then round(extract(epoch from (o.at::timestamptz - d.remind_at)) * 1000)::bigint end, \
         last_error = o.error from o \
         where d.reminder_id = {id}::uuid and date_trunc('milliseconds', d.remind_at) = {at}::timestamptz \
         and d.channel = o.channel and d.status = 'sending' returning d.channel), \
         r as (update reminders r set status = 'sent', sent_at = coalesce(r.sent_at, now()), job_name = null \
         where r.reminder_id = {id}::uuid and r.status = 'pending' and date_trunc('milliseconds', r.remind_at) = {at}::timestamptz \
         and exists (select 1 from o where o.ok) returning r.reminder_id) \
         select (select count(*) from d) as deliveries, (select count(*) from r) as marked_sent"
    );
    b.finish_query(sql)
}

/// A pending reminder is swept once its time is this far behind without any delivery attempt:
/// longer than a healthy trigger → publish → consume takes, so the sweep only picks up triggers
/// that were lost.
pub const SWEEP_AFTER_SECS: i64 = 20;

/// At most this many reminders per sweep run (the recurring job runs again shortly).
pub const SWEEP_LIMIT: i64 = 500;

/// Reminders of pending tasks whose time is at least [`SWEEP_AFTER_SECS`] behind and whose
/// delivery has not converged on every channel: no delivery record (the `v1.reminder.due` never
/// reached the alerts consumer: a job trigger lost while Kafka or the sidecar was down), a
/// `failed` channel with attempts left whose backoff has passed (15 s through the first four
/// attempts, which the subscription's own redeliveries make, then doubling up to 30 min), or a
/// `sending` claim older than [`CLAIM_LEASE_SECS`] (its holder crashed). Reminders that were scheduled are swept up to
/// [`LATE_DELIVERY_MAX_SECS`] late (delivered marked late); unscheduled ones within
/// [`notify::job::LATE_GRACE_SECS`]. The bound at the longer of the two (the grace is shorter)
/// makes it a range scan of the sweepable reminders' index (migration 0017): its cost follows the
/// reminders of the last day, not the number of tasks.
#[must_use]
pub fn overdue_undelivered() -> Query<OverdueReminder> {
    let mut b = Binder::default();
    let after = b.bind(SWEEP_AFTER_SECS);
    let grace = b.bind(notify::job::LATE_GRACE_SECS);
    let late = b.bind(LATE_DELIVERY_MAX_SECS);
    let lease = b.bind(CLAIM_LEASE_SECS);
    let max = b.bind(MAX_DELIVERY_ATTEMPTS);
    let limit = b.bind(SWEEP_LIMIT);
    let sql = format!(
        "select r.reminder_id::text as reminder_id, r.task_id::text as task_id, r.user_id as user_id, {at} as remind_at \
         from reminders r \
         join tasks t on t.task_id = r.task_id \
         where r.status in ('pending', 'sent') and t.status = 'pending' \
         and r.remind_at <= now() - {after}::int * interval '1 second' \
         and r.remind_at > now() - {late}::int * interval '1 second' \
         and r.remind_at > now() - case when r.scheduled_for is not null or r.status = 'sent' \
         then {late}::int else {grace}::int end * interval '1 second' \
         and exists (select 1 from unnest(r.channels) as c(channel) \
         left join reminder_deliveries d on d.reminder_id = r.reminder_id \
         and d.remind_at = date_trunc('milliseconds', r.remind_at) and d.channel = c.channel \
         where (d.status is null and r.status = 'pending') \
         or (d.status = 'failed' and d.attempts < {max}::int \
         and d.claimed_at < now() - least(15 * power(2, greatest(d.attempts - 4, 0)), 1800) * interval '1 second') \
         or (d.status = 'sending' and d.claimed_at < now() - {lease}::int * interval '1 second')) \
         order by r.remind_at limit {limit}::int",
        at = ts_ms("r.remind_at"),
    );
    b.finish_query(sql)
}

/// The tasks (at most `limit`, in task id order after `after`, so that successive pages walk
/// the whole set once) with a pending reminder inside the horizon ([`notify::job::HORIZON_SECS`]
/// from now) that has no job: the reminders the task events left without one because they were
/// further ahead then. Reconciling these tasks schedules them.
#[must_use]
pub fn entering_horizon(after: Option<&TaskId>, limit: u32) -> Query<HorizonTask> {
    let mut b = Binder::default();
    let horizon = b.bind(notify::job::HORIZON_SECS);
    let after = b.bind(after.map_or("", TaskId::as_str));
    let limit = b.bind(limit);
    let sql = format!(
        "select distinct r.task_id::text as task_id from reminders r \
         where r.status = 'pending' and r.job_name is null and r.remind_at is not null \
         and r.remind_at <= now() + {horizon}::bigint * interval '1 second' \
         and r.task_id::text > {after} \
         order by 1 limit {limit}::int"
    );
    b.finish_query(sql)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::{assert_placeholders, statements};
    use chrono::TimeZone;

    fn rid() -> ReminderId {
        ReminderId::parse("0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a").expect("id")
    }

    fn id() -> TaskId {
        TaskId::parse("0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a").expect("id")
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn every_statement_binds_its_values() {
        let evil = "x'); drop table reminders; --";
        for s in statements![
            reconcile_tasks(&[id()]),
            reconcile_tasks(&[id(), id()]),
            record_jobs(&[(rid(), now())], &[rid()], &[rid(), rid()]),
            record_jobs(&[], &[], &[]),
            entering_horizon(None, 500),
            entering_horizon(Some(&id()), 1),
            claim_deliveries(&rid(), now(), evil),
            record_outcome(
                &rid(),
                now(),
                &[
                    Outcome {
                        channel: Channel::Email,
                        result: Delivery::Failed(evil.into()),
                    },
                    Outcome {
                        channel: Channel::Push,
                        result: Delivery::Sent(now()),
                    },
                    Outcome {
                        channel: Channel::Email,
                        result: Delivery::Skipped(evil.into()),
                    },
                ],
            ),
        ] {
            assert!(!s.sql.contains("drop table"), "{}", s.sql);
            assert_placeholders(&s);
        }
    }

    #[test]
    fn job_bookkeeping_binds_lists() {
        let s = record_jobs(&[(rid(), now())], &[], &[rid(), rid()]);
        assert_eq!(
            s.params[0],
            json!(
                r#"[{"at":"2026-11-26T08:00:00.000Z","id":"0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a"}]"#
            )
        );
        assert_eq!(s.params[1], json!("reminder-"));
        assert_eq!(s.params[2], json!(""));
        assert_eq!(
            s.params[3],
            json!("0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a,0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a")
        );
    }

    #[test]
    fn claims_are_idempotent_per_reminder_time_and_channel() {
        let s = claim_deliveries(&rid(), now(), "ev");
        assert!(s
            .sql
            .contains("on conflict (reminder_id, remind_at, channel) do update"));
        assert!(s.sql.contains("reminder_deliveries.status = 'failed'"));
        assert_eq!(s.params[3], json!(CLAIM_LEASE_SECS));
        let o = record_outcome(
            &rid(),
            now(),
            &[
                Outcome {
                    channel: Channel::Push,
                    result: Delivery::Sent(now()),
                },
                Outcome {
                    channel: Channel::Email,
                    result: Delivery::Skipped("no address".into()),
                },
            ],
        );
        let rows = o.params[0].as_str().expect("text");
        assert!(rows.contains("\"status\":\"sent\""), "{rows}");
        assert!(rows.contains("\"status\":\"skipped\""), "{rows}");
        let c = claim_deliveries(&rid(), now(), "ev");
        assert!(c.sql.contains("coalesce(us.email, us.token_email)"));
    }
}
