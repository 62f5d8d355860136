-- Platform-wide tables shared by every consumer.

-- Idempotent consumers: a consumer records each event id in the same statement as its effect,
-- so a redelivered event changes nothing.
create table if not exists processed_events (
    consumer     text        not null,
    event_id     text        not null,
    processed_at timestamptz not null default now(),
    primary key (consumer, event_id)
);
