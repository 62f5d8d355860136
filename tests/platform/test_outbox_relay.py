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
    marks than a tenth of the events proves batching; each event then appears on Kafka under its
    user's key, in the order the writes committed."""
    u = User()
    wait_until("task-api ready", lambda: requests.get(f"{BASE}/readyz", timeout=10).status_code == 200, 60)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        created = list(pool.map(lambda i: u.create(title=f"relay {i}"), range(160)))
    assert len(created) == 160
    rows = wait_until("every event published", lambda: (r := published(u.id)) and all(p for _, p in r) and r, 30)
    marks = {p for _, p in rows}
    print(f"\n160 creates from 8 threads: {len(marks)} relay marks")
    assert len(rows) == 160 and len(marks) <= 16, len(marks)
    ids = [e for e, _ in rows]
    on_kafka = wait_until("events on Kafka", lambda: (k := [ev["id"] for key, ev in read_events(OPERATIONS)
                                                          if key == u.id]) and len(set(k)) == 160 and k, 60, interval=1)
    assert [e for e in on_kafka if e in set(ids)] == ids, "the user's events in their written order, once each"


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
