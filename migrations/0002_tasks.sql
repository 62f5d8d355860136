-- Tasks, recurring series, reminders, the transactional outbox, idempotency keys and Dapr job
-- bookkeeping. Every write of the task-api is one statement (bindings.postgresql runs one
-- statement per call), so a row and its outbox event commit together.

create table if not exists series (
    series_id          uuid        primary key,
    user_id            text        not null,
    title              text        not null,
    description        text        not null default '',
    priority           text        not null default 'medium' check (priority in ('low', 'medium', 'high')),
    recurrence_pattern text        not null,           -- canonical RRULE text
    tzid               text        not null default 'UTC',
    start_at           timestamptz not null,           -- DTSTART as an instant
    dtstart_local      text        not null,           -- DTSTART as local wall time in tzid
    end_date           timestamptz,
    mode               text        not null default 'fixed' check (mode in ('fixed', 'from_completion')),
    is_active          boolean     not null default true,
    completed_at       timestamptz,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now()
);
create index if not exists series_user on series (user_id);

create table if not exists tasks (
    task_id             uuid        primary key,
    series_id           uuid        references series (series_id),
    user_id             text        not null,
    title               text        not null,
    description         text        not null default '',
    priority            text        not null default 'medium' check (priority in ('low', 'medium', 'high')),
    due_date            timestamptz,
    status              text        not null default 'pending' check (status in ('pending', 'completed', 'deleted')),
    is_exception        boolean     not null default false,
    recurrence_id       timestamptz,                   -- original occurrence instant
    recurrence_pattern  text,
    recurrence_end_date timestamptz,
    upcoming_occurrence timestamptz,
    is_recurring        boolean     not null default false,
    completed_at        timestamptz,
    version             integer     not null default 1,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    -- An occurrence can never exist twice.
    unique (series_id, recurrence_id)
);
-- Keyset pagination per user, newest first.
create index if not exists tasks_user_page on tasks (user_id, created_at desc, task_id desc);
create index if not exists tasks_user_due on tasks (user_id, due_date);
create index if not exists tasks_series on tasks (series_id, recurrence_id);

create table if not exists reminders (
    reminder_id uuid        primary key,
    task_id     uuid        not null references tasks (task_id),
    user_id     text        not null,
    offset_text text        not null,                  -- ISO 8601 duration before due, e.g. PT1H
    offset_secs integer     not null,
    remind_at   timestamptz,
    created_at  timestamptz not null default now(),
    unique (task_id, offset_text)
);

create table if not exists outbox (
    event_id     uuid        primary key,
    type         text        not null,
    topic        text        not null,
    user_id      text        not null,
    task_id      uuid,
    series_id    uuid,
    payload      jsonb       not null,
    created_at   timestamptz not null default now(),
    published_at timestamptz,
    retry_count  integer     not null default 0
);
-- The repair job reads only this small index of unpublished rows.
create index if not exists outbox_unpublished on outbox (created_at) where published_at is null;

create table if not exists idempotency_keys (
    user_id      text        not null,
    key          text        not null,
    request_hash text        not null,
    task_id      uuid        not null,
    response     jsonb       not null,
    created_at   timestamptz not null default now(),
    primary key (user_id, key)
);

create table if not exists jobs (
    name         text        primary key,
    kind         text        not null,
    data         jsonb,
    scheduled_at timestamptz not null default now(),
    last_run_at  timestamptz,
    runs         integer     not null default 0
);
