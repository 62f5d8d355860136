-- Admission for the dashboard's long polls: a waiting poll holds one slot (numbered 1..N) until
-- it answers; the dashboard admits at most MAX_LIVE_POLLS at once (slot <= the cap) and answers
-- 503 with Retry-After beyond it, so waiting pages never take the instances that Dapr's
-- deliveries need. A slot whose holder died frees itself when `held_until` passes.
create table if not exists live_poll_slots (
    slot int primary key,
    held_until timestamptz not null default '-infinity',
    holder text
);
insert into live_poll_slots (slot) select generate_series(1, 10000) on conflict do nothing;
