-- Reminder delivery (the notification service): each reminder row gets a status, its channels
-- and the bookkeeping of its Dapr job; each delivery on one channel of one reminder time is one
-- row of reminder_deliveries, the idempotency record of that channel (claimed, then marked sent
-- in the statement that records the outcome).

alter table reminders add column if not exists status text not null default 'pending';
alter table reminders add constraint reminders_status
    check (status in ('pending', 'sent', 'cancelled', 'missed'));
-- Both channels are mandatory today; the column lets a user preference narrow them later.
alter table reminders add column if not exists channels text[] not null default '{email,push}';
-- The Dapr job (deterministic name) and the time it was scheduled for; null when no job exists.
alter table reminders add column if not exists job_name text;
alter table reminders add column if not exists scheduled_for timestamptz;
alter table reminders add column if not exists sent_at timestamptz;
alter table reminders add column if not exists cancelled_at timestamptz;

create table if not exists reminder_deliveries (
    reminder_id  uuid        not null references reminders (reminder_id),
    remind_at    timestamptz not null,                 -- the reminder time this delivery is for
    channel      text        not null check (channel in ('email', 'push')),
    status       text        not null check (status in ('sending', 'sent', 'failed')),
    attempts     integer     not null default 1,
    claimed_at   timestamptz not null default now(),   -- a 'sending' claim older than the lease is retaken
    delivered_at timestamptz,
    lateness_ms  bigint,                               -- delivered_at - remind_at
    last_error   text,
    event_id     text        not null,                 -- the v1.reminder.due event that delivered it
    primary key (reminder_id, remind_at, channel)
);
