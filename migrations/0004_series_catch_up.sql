-- Catch-up of missed occurrences by the recurrence engine: occurrences that passed without an
-- instance (the engine was down when their pre-creation job was due) are skipped under the
-- recurrence library's default policy, and counted here rather than lost silently.
alter table series add column if not exists missed_occurrences integer not null default 0;
-- Missed occurrences up to this instant are counted (so a repeated catch-up counts none twice).
alter table series add column if not exists caught_up_through timestamptz;
