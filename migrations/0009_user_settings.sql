-- Per-user settings of the Task API. default_reminders is a jsonb array of
-- {"off": ISO 8601 duration text, "secs": its seconds}: the reminders a new task with a due date
-- gets when its create request has no `reminders` field (series instances then inherit them
-- from the previous instance like any reminders).

create table if not exists user_settings (
    user_id           text        primary key,
    default_reminders jsonb       not null default '[]'::jsonb
        check (jsonb_typeof(default_reminders) = 'array' and jsonb_array_length(default_reminders) <= 10),
    updated_at        timestamptz not null default now()
);
