-- The reminder sweep (`store::reminders::overdue_undelivered`, every run of the notification
-- service's recurring sweep job) looks at the reminders due in the last 24 hours that are not
-- yet delivered everywhere. Without an index on `remind_at` PostgreSQL walked every pending task
-- and probed its reminders: 620 ms a run (370 ms of it JIT compilation) with 100,000 tasks on
-- the test stack, growing with the number of tasks. This index holds the reminders the sweep
-- can pick (pending or sent); the sweep's lower bound on `remind_at` makes it a range scan.
create index if not exists reminders_sweepable on reminders (remind_at)
    where status in ('pending', 'sent');
