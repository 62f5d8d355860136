"""The Task API's batching outbox relay (ADR 0012) on the real stack: concurrent writes share
relay runs (one bulk publish per topic and window), every committed event reaches Kafka once per
id in its user's order, and an arm whose job never came recovers without an operator."""

from __future__ import annotations

import concurrent.futures
import time

import requests

from support.stack import wait_until
from support.taskapi import BASE, User, psql, read_events

OPERATIONS = "task-operations"
STALE_SECS = 5  # store::fragments::RELAY_STALE_SECS


def published(user_id: str) -> list[list[str]]:
    """The user's outbox rows as (event id, published_at text or '') in written order."""
    return psql("select event_id, coalesce(published_at::text, '') from outbox "
                f"where user_id = '{user_id}' order by seq")


def sweep_runs() -> int:
    rows = psql("select runs from jobs where name = 'outbox-sweep'")
    return int(rows[0][0]) if rows else 0


def test_concurrent_writes_share_relay_runs_and_every_event_reaches_kafka_in_order():
    """Guards: every write published its own events (one Dapr publish and one Kafka produce per
    event). With the relay, the events of writes committed in one window are published by one
    run: the run marks them in one statement, so they share a `published_at`. Fewer distinct
    marks than a tenth of the events proves batching. Eight users write at once, each one write
    after the other (so each user's writes have an order: the next starts after the last one
    committed); each event then appears on Kafka once, under its user's key, in that order."""
    users = [User() for _ in range(8)]
    wait_until("task-api ready", lambda: requests.get(f"{BASE}/readyz", timeout=10).status_code == 200, 60)

    def write(u: User) -> int:
        return len([u.create(title=f"relay {i}") for i in range(20)])

    with concurrent.futures.ThreadPoolExecutor(len(users)) as pool:
        assert sum(pool.map(write, users)) == 160
    rows = {u.id: wait_until("every event published", lambda u=u: (r := published(u.id)) and all(p for _, p in r) and r, 30)
            for u in users}
    marks = {p for r in rows.values() for _, p in r}
    print(f"\n160 creates by 8 users at once: {len(marks)} relay marks")
    assert all(len(r) == 20 for r in rows.values()) and len(marks) <= 16, len(marks)
    ids = {u.id: [e for e, _ in rows[u.id]] for u in users}

    def on_kafka() -> dict[str, list[str]] | None:
        keyed: dict[str, list[str]] = {u.id: [] for u in users}
        for key, ev in read_events(OPERATIONS):
            if key in keyed:
                keyed[key].append(ev["id"])
        return keyed if all(len(set(k)) == 20 for k in keyed.values()) else None

    seen = wait_until("events on Kafka", on_kafka, 60, interval=1)
    for u in users:
        assert seen[u.id] == ids[u.id], f"user {u.id}: events in their written order, once each"


def test_a_relay_job_that_finds_a_run_publishing_waits_for_it():
    """A relay job can fire while an earlier run still publishes. Two runs at once could send a
    user's later events before that user's earlier ones, so a job that finds a live run answers
    503 and its failure policy retries it (migration 0016): nothing is published while the run
    holds the relay, and everything after it ends."""
    u = User()
    psql("update outbox_relay_run set run_id = gen_random_uuid(), "
         "running_until = clock_timestamp() + interval '3 seconds' where id = 1")
    u.create(title="written while another run publishes")
    time.sleep(2)
    assert published(u.id)[0][1] == "", "no second run while one holds the relay"
    rows = wait_until("published by the retried job", lambda: (r := published(u.id)) and all(p for _, p in r) and r,
                      STALE_SECS, interval=0.1)
    assert len(rows) == 1
    age = float(psql(f"select extract(epoch from published_at - created_at) from outbox where user_id = '{u.id}'")[0][0])
    print(f"\npublished {age:.2f} s after the write (the other run held the relay for 3 s)")
    assert 2 < age < STALE_SECS, "by the relay's retried job, before the sweep may take the row"
    assert psql("select run_id is null from outbox_relay_run") == [["t"]], "the retried run ended"


def test_an_arm_whose_job_never_came_goes_stale_and_the_next_write_relays_everything():
    """A crash between arming the relay and scheduling its job leaves the relay armed with no job
    coming. Writes then leave their rows to that run; after `RELAY_STALE_SECS` the next write
    arms it again, and its run publishes the waiting rows too (not only the 15 s sweep)."""
    u = User()
    # Start right after a run of the 15 s sweep, so that the sweep cannot publish the first row
    # in the seconds this test needs.
    sweeps = sweep_runs()
    wait_until("a sweep run", lambda: sweep_runs() > sweeps, 20, interval=0.1)
    psql("update outbox_relay set armed_at = now() where id = 1")  # armed, no job scheduled
    first = u.create(title="written while the relay is armed by no one")
    time.sleep(1.5)
    assert published(u.id)[0][1] == "", "left to the armed relay"
    time.sleep(STALE_SECS)
    u.create(title="finds the arm stale")
    rows = wait_until("both published by the new run", lambda: (r := published(u.id)) and all(p for _, p in r) and r,
                      5, interval=0.1)
    assert len(rows) == 2 and rows[0][1] == rows[1][1], "one run published both"
    assert psql(f"select count(*) from tasks where task_id = '{first['task_id']}'") == [["1"]]
