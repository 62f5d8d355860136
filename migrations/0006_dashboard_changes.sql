-- The dashboard's live updates: every task event of a user, recorded once (unique event_id), with
-- a per-user sequence number; `dashboard_cursors` holds each user's latest number, which the
-- dashboard's long poll re-reads. Both are written by one statement per event.

create table if not exists dashboard_cursors (
    user_id    text        primary key,
    seq        bigint      not null,
    updated_at timestamptz not null default now()
);

create table if not exists dashboard_changes (
    event_id    text        primary key,
    user_id     text        not null,
    seq         bigint      not null,
    event_type  text        not null,
    task_id     text,
    series_id   text,
    event_time  timestamptz,
    recorded_at timestamptz not null default now(),
    unique (user_id, seq)
);
