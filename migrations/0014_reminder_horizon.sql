-- Reminders beyond the notification service's horizon (48 h) get no Dapr job when their task is
-- written; the recurring `horizon-reminders` job schedules them once they come within it. This
-- index holds exactly the rows that job looks for: pending reminders without a job.
create index if not exists reminders_unscheduled on reminders (remind_at, task_id)
    where status = 'pending' and job_name is null and remind_at is not null;
