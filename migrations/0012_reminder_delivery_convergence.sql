-- Every due reminder converges per channel: a failed channel is claimed again by the sweep until
-- it is sent, or, after notify::sql::MAX_DELIVERY_ATTEMPTS, is `dead` (visible with its last error
-- in scripts/dlq.sh reminders), never silently left `failed` or `sending`.
alter table reminder_deliveries drop constraint if exists reminder_deliveries_status_check;
alter table reminder_deliveries add constraint reminder_deliveries_status_check
    check (status in ('sending', 'sent', 'failed', 'skipped', 'dead'));
-- The sweep looks for deliveries that did not converge.
create index if not exists reminder_deliveries_open on reminder_deliveries (remind_at)
    where status in ('sending', 'failed');
