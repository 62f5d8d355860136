"""The transactional outbox on the real stack: unpublishable rows are parked instead of blocking
the rows behind them, a reminder cancellation is committed with its event, and a row republished
by the Task API's repair job keeps the source of the service that wrote it."""

from __future__ import annotations

import os
import subprocess
import time
import uuid

import requests

from support.stack import ROOT, STACK, sidecar_headers, wait_until
from support.taskapi import BASE, User, future, iso, psql, read_events

MAX_ATTEMPTS = 10  # store::outbox::OUTBOX_MAX_ATTEMPTS


def repair() -> dict:
    r = requests.post(f"{BASE}/job/outbox-repair", data=b"{}", headers=sidecar_headers(), timeout=120)
    assert r.status_code in (200, 503), r.text
    return r.json()


def insert_rows(user_ids: list[str], topic: str) -> list[str]:
    """Unpublished outbox rows as a write leaves them when its publish never happened (a minute
    old: the repair jobs leave younger rows that never failed to the outbox relay)."""
    rows = psql(
        "insert into outbox (event_id, type, topic, user_id, payload, created_at) "
        f"select gen_random_uuid(), 'v1.task.updated', '{topic}', u, "
        "jsonb_build_object('task_id', gen_random_uuid()::text, 'user_id', u), now() - interval '1 minute' "
        f"from unnest(array[{','.join(repr(u) for u in user_ids)}]) with ordinality as t(u, n) order by n "
        "returning event_id")
    return [r[0] for r in rows if len(r[0]) == 36]  # not the command tag


def test_unpublishable_rows_are_parked_and_never_starve_the_rows_behind_them():
    """Guards: the repair job always took the oldest 200 unpublished rows and never parked one
    that could never publish, so 200 poison rows blocked every newer event forever. Now a failed
    row waits (backoff) while the rows behind it are published, and is parked with its reason
    after bounded attempts while other events are published; `scripts/dlq.sh list outbox` shows
    it and `replay` makes it due again. On the old code the good rows stayed unpublished."""
    run = uuid.uuid4().hex[:8]
    poison = insert_rows([f"poison-{run}-{i}" for i in range(210)], "bad topic!")
    good_user = User()
    good = insert_rows([good_user.id] * 3, "task-modifications")
    ids = "','".join(good)
    for _ in range(4):
        repair()
        if psql(f"select count(*) from outbox where event_id in ('{ids}') and published_at is null") == [["0"]]:
            break
    assert psql(f"select count(*) from outbox where event_id in ('{ids}') and published_at is not null") == [["3"]]
    on_kafka = [e["id"] for k, e in read_events("task-modifications") if k == good_user.id]
    assert on_kafka == good, "the good rows are published once each, in their written order"

    pids = "','".join(poison)
    for _ in range(3 * MAX_ATTEMPTS):
        if psql(f"select count(*) from outbox where event_id in ('{pids}') and parked_at is null") == [["0"]]:
            break
        good_user.create(title="the broker works")  # an event published within the last minute
        psql(f"update outbox set next_attempt_at = now() where event_id in ('{pids}')")  # skip the backoff
        repair()
    parked = psql(f"select count(*), min(retry_count), max(retry_count), bool_and(last_error like '%publishing to topic bad topic!%') "
                  f"from outbox where event_id in ('{pids}') and parked_at is not null and published_at is null")
    assert parked[0][0] == "210" and int(parked[0][1]) >= MAX_ATTEMPTS and parked[0][3] == "t", parked

    env = {**os.environ, "STACK": STACK}
    listed = subprocess.run(["bash", str(ROOT / "scripts/dlq.sh"), "list", "outbox"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert poison[0] in listed.stdout and "bad topic!" in listed.stdout
    replayed = subprocess.run(["bash", str(ROOT / "scripts/dlq.sh"), "replay", "outbox", poison[0]], env=env,
                              capture_output=True, text=True, timeout=60)
    assert replayed.returncode == 0 and "replayed=1" in replayed.stdout, replayed.stdout + replayed.stderr
    assert psql(f"select parked_at is null, retry_count from outbox where event_id = '{poison[0]}'") == [["t", "0"]]
    psql(f"update outbox set parked_at = now() where event_id in ('{pids}')")  # leave nothing due behind


def test_a_reminder_cancellation_is_committed_with_its_event_and_republished_with_its_source():
    """Guards: the dispatcher committed a reminder's `cancelled` status, then published
    `v1.reminder.cancelled`; a failed publish was never redone (a redelivery no longer saw the
    reminder as newly cancelled). The event is now an outbox row of the same statement. Made
    unpublished again (as after a failed publish), the Task API's repair job publishes it with
    its own source `/notification`, not `/task-api`. On the old code no outbox row existed."""
    user = User()
    # Due tomorrow at 09:00: its reminder is 8 to 32 hours ahead whatever the time of day, so
    # always inside the 48-hour horizon within which reminders get their job (two days ahead put
    # it beyond the horizon for runs before 08:00 UTC, and it was never scheduled).
    task = user.create(title="cancel my reminder", due_date=iso(future(days=1)), reminders=["PT1H"])
    wait_until("reminder scheduled", lambda: psql(
        f"select 1 from reminders where task_id = '{task['task_id']}' and scheduled_for is not null") or None, 60)
    assert user.request("DELETE", f"/api/tasks/{task['task_id']}").status_code in (200, 204)
    row = wait_until("cancellation in the outbox", lambda: psql(
        f"select event_id, source, topic, published_at is not null from outbox "
        f"where task_id = '{task['task_id']}' and type = 'v1.reminder.cancelled'") or None, 60)
    assert len(row) == 1, row
    event_id, source, topic, _ = row[0]
    assert (source, topic) == ("/notification", "alerts")
    wait_until("cancellation published", lambda: psql(
        f"select 1 from outbox where event_id = '{event_id}' and published_at is not null") or None, 60)

    psql(f"update outbox set published_at = null where event_id = '{event_id}'")
    deadline = time.monotonic() + 60
    while psql(f"select 1 from outbox where event_id = '{event_id}' and published_at is null") and time.monotonic() < deadline:
        repair()
    assert psql(f"select 1 from outbox where event_id = '{event_id}' and published_at is not null") == [["1"]]
    copies = [e for _, e in read_events("alerts") if e.get("id") == event_id]
    assert len(copies) == 2, "published by the dispatcher, then again by the repair job"
    assert {e["source"] for e in copies} == {"/notification"}, copies
    assert {e["type"] for e in copies} == {"v1.reminder.cancelled"}
    assert copies[0]["data"]["reason"] == "task deleted"
