-- One outbox relay run at a time (ADR 0012, decision 7).
--
-- A relay job can fire while an earlier run is still publishing (a run slower than the 250 ms
-- window, or a broker that does not answer). Two runs claim different rows (`for update skip
-- locked`), so the later one could publish a user's later events before the earlier run had
-- sent that user's earlier ones. A run now starts only when no other run holds the relay: the
-- start records the run and its lease here; a job that finds a live run answers 503 and its
-- failure policy retries it. The run clears its own lease when it ends; a run that died leaves
-- a lease that expires. Writes never touch this table.
create table if not exists outbox_relay_run (
    id smallint primary key default 1 check (id = 1),
    run_id uuid,
    running_until timestamptz
);
insert into outbox_relay_run (id) values (1) on conflict do nothing;

-- Starts a relay run unless another one holds a live lease: clears the arm once the writes in
-- flight have committed (the EXCLUSIVE lock of migration 0015, which also serializes starts) and
-- answers the new run's id; answers a null id when another run is publishing (the arm stays, so
-- later writes leave their rows to the retried job).
create or replace function outbox_relay_start(lease_secs integer) returns table (run text)
language plpgsql as $$
declare
    new_run uuid := gen_random_uuid();
begin
    lock table outbox_relay in exclusive mode;
    if exists (select 1 from outbox_relay_run r where r.id = 1 and r.running_until > clock_timestamp()) then
        return query select null::text;
        return;
    end if;
    update outbox_relay_run r set run_id = new_run,
        running_until = clock_timestamp() + make_interval(secs => lease_secs) where r.id = 1;
    update outbox_relay r set armed_at = null where r.id = 1;
    return query select new_run::text;
end $$;

-- Ends the run `p_run` (a run whose lease expired and was taken over clears nothing).
create or replace function outbox_relay_finish(p_run text) returns table (finished boolean)
language plpgsql as $$
begin
    return query update outbox_relay_run r set run_id = null, running_until = null
        where r.id = 1 and r.run_id = p_run::uuid returning true;
end $$;
