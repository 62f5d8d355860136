-- The Task API's batching outbox relay (ADR 0012). One row: `armed_at` is set by the write that
-- scheduled the relay's next one-shot job and cleared by that job before it reads the pending
-- rows.
--
-- Every Task API write reads the row `for share` in its own statement, which takes a ROW SHARE
-- lock on this table before the statement runs and holds it to the commit. Arming and clearing
-- go through the functions below, which first take an EXCLUSIVE lock on the table: it waits for
-- the writes in flight to commit, and writes that start meanwhile queue behind it (table locks
-- are granted in order, so a steady stream of writes cannot starve the relay, and a queued write
-- holds no row lock yet, so no deadlock can form). The relay's read after the clearing therefore
-- sees every write that found the relay armed; a write that commits after it finds the relay
-- idle and arms it again.
create table if not exists outbox_relay (
    id smallint primary key default 1 check (id = 1),
    armed_at timestamptz
);
insert into outbox_relay (id) values (1) on conflict do nothing;

-- Arms the relay unless it is armed (an arm older than `stale_secs` counts as idle); one row
-- when this call armed it.
create or replace function outbox_relay_arm(stale_secs integer) returns table (armed boolean)
language plpgsql as $$
begin
    lock table outbox_relay in exclusive mode;
    return query update outbox_relay r set armed_at = now()
        where r.id = 1 and (r.armed_at is null or r.armed_at < now() - make_interval(secs => stale_secs))
        returning true;
end $$;

-- Clears the arm once the writes in flight have committed; one row (`armed` false).
create or replace function outbox_relay_disarm() returns table (armed boolean)
language plpgsql as $$
begin
    lock table outbox_relay in exclusive mode;
    return query update outbox_relay r set armed_at = null where r.id = 1
        returning r.armed_at is not null;
end $$;
