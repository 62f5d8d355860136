-- The outbox keeps what each event needs to be republished faithfully by any service's sweep,
-- publishes in a sequence, and parks rows that can never publish instead of retrying them first
-- forever:
--   source          the CloudEvent `source` of the service that wrote the row (the Task API's
--                   sweep republishes the recurrence engine's and the dispatcher's rows too);
--   seq             the order rows were written in (one statement's rows share created_at);
--   next_attempt_at a failed row waits (exponential backoff) so rows behind it are published;
--   last_error      why the last attempt failed;
--   parked_at       set when a row failed its bounded attempts while others were published
--                   (or is not a valid event at all); parked rows are listed and replayed by
--                   scripts/dlq.sh outbox.
alter table outbox add column if not exists source text not null default '/task-api';
alter table outbox add column if not exists seq bigserial;
alter table outbox add column if not exists next_attempt_at timestamptz;
alter table outbox add column if not exists last_error text;
alter table outbox add column if not exists parked_at timestamptz;

drop index if exists outbox_unpublished;
create index if not exists outbox_pending on outbox (seq) where published_at is null and parked_at is null;
create index if not exists outbox_parked on outbox (parked_at) where parked_at is not null and published_at is null;
create index if not exists outbox_pending_user on outbox (user_id, seq) where published_at is null and parked_at is null;

-- Retention (domain::retention, the Task API's `retention` job) deletes by age in batches: BRIN
-- indexes on the append-only time columns find old rows without a full scan and cost writers
-- almost nothing.
create index if not exists outbox_created_brin on outbox using brin (created_at);
create index if not exists processed_events_brin on processed_events using brin (processed_at);
create index if not exists dashboard_changes_brin on dashboard_changes using brin (recorded_at);
create index if not exists idempotency_keys_brin on idempotency_keys using brin (created_at);
