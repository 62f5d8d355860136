-- Reminder channels of a real user. Email goes only to the user's own address: the one set in
-- the settings (user_settings.email, PUT /api/users/me/settings) or else the token's `email`
-- claim the Task API last recorded (user_settings.token_email). A reminder of a user without any
-- address records its email delivery as 'skipped' (visible, never retried, never sent to a made-up
-- address).

alter table user_settings add column if not exists email text
    check (email is null or octet_length(email) between 3 and 254);
alter table user_settings add column if not exists token_email text
    check (token_email is null or octet_length(token_email) between 3 and 254);

alter table reminder_deliveries drop constraint if exists reminder_deliveries_status_check;
alter table reminder_deliveries add constraint reminder_deliveries_status_check
    check (status in ('sending', 'sent', 'failed', 'skipped'));
