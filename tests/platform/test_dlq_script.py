"""scripts/dlq.sh on the real test stack: a completion that arrived before its task existed is
dead-lettered by the recurrence engine (DROP → task-events-dlq); `dlq.sh list` shows it, and
once the task exists `dlq.sh replay` republishes it (same id) and the engine handles it."""

from __future__ import annotations

import os
import subprocess
import uuid
from datetime import datetime, timedelta, timezone

import requests

from support.stack import ENV, ROOT, wait_until
from support.taskapi import User, future, iso, psql

TASK_API_DAPR = f"http://127.0.0.1:{ENV['DAPR_HTTP_BASE']}"


def dlq(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "scripts/dlq.sh"), *args], capture_output=True, text=True,
                          timeout=180, env={**os.environ, "STACK": "test", "TIMEOUT_MS": "4000"})


def dead_lettered(topic: str, dlq_topic: str, event: dict, key: str, timeout: float) -> str:
    """Publishes `event` (a CloudEvent, keyed by `key`) to `topic` through the Task API's sidecar
    and waits until `dlq.sh list <dlq_topic>` shows it; answers its listing line."""
    r = requests.post(f"{TASK_API_DAPR}/v1.0/publish/pubsub/{topic}", json=event, timeout=30,
                      params={"metadata.partitionKey": key},
                      headers={"content-type": "application/cloudevents+json"})
    assert r.status_code == 204, r.text

    def listed():
        out = dlq("list", dlq_topic)
        assert out.returncode == 0, out.stderr
        return event["id"] in out.stdout and out.stdout

    text = wait_until(f"the event on {dlq_topic}", listed, timeout=timeout, interval=1)
    return next(line for line in text.splitlines() if event["id"] in line)


def test_dead_lettered_events_are_listed_and_replayed():
    user = User()
    due = future(2)
    t = user.create(title="early bird", recurrence="daily", due_date=iso(due))
    # A completion of the series' next instance, delivered before that instance is written.
    early_id = str(uuid.uuid4())
    event = {"id": str(uuid.uuid4()), "specversion": "1.0", "source": "/tests", "type": "v1.task.completed",
             "time": iso(datetime.now(timezone.utc)), "datacontenttype": "application/json",
             "data": {"task_id": early_id, "user_id": user.id, "series_id": t["series_id"],
                      "task": {**t, "task_id": early_id, "status": "completed"}}}
    line = dead_lettered("task-operations", "task-events-dlq", event, user.id, timeout=60)
    assert "v1.task.completed" in line and user.id in line and early_id in line, line

    # The instance now exists (completed): replaying the event lets the engine create the next one.
    nxt = due + timedelta(days=1)
    psql(f"""insert into tasks (task_id, series_id, user_id, title, due_date, is_recurring, recurrence_id,
                                recurrence_pattern, status, completed_at)
             values ('{early_id}', '{t['series_id']}', '{user.id}', 'early bird', '{iso(nxt)}', true, '{iso(nxt)}',
                     'FREQ=DAILY', 'completed', now())""")
    out = dlq("replay", "task-events-dlq", event["id"])
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"replayed {event['id']}" in out.stdout and "replayed=1 failed=0 missing=0" in out.stdout
    wait_until("the replayed event processed", lambda: psql(
        f"select count(*) from processed_events where consumer = 'recurrence-engine/task-operations' "
        f"and event_id = '{event['id']}'")[0][0] == "1", timeout=30)
    rows = psql(f"""select to_char(due_date at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') from tasks
                    where series_id = '{t['series_id']}' and status = 'pending' order by due_date""")
    assert [iso(due + timedelta(days=2))] in rows, rows
    # Unknown ids are reported, and the command fails.
    missing = dlq("replay", "task-events-dlq", "no-such-event")
    assert missing.returncode != 0 and "not on the dead-letter topic" in missing.stderr
    assert dlq("list", "no-such-dlq").returncode != 0


def test_a_modification_for_an_unknown_series_reaches_updates_dlq():
    """`updates-dlq` is exercised: a `v1.task.updated` of a series that does not exist is poison
    for the recurrence engine (DROP), Dapr moves it to the dead-letter topic of
    `task-modifications`, and `dlq.sh list updates-dlq` shows it with its id and type."""
    user = User()
    series, task = str(uuid.uuid4()), str(uuid.uuid4())
    event = {"id": str(uuid.uuid4()), "specversion": "1.0", "source": "/tests", "type": "v1.task.updated",
             "time": iso(datetime.now(timezone.utc)), "datacontenttype": "application/json",
             "data": {"task_id": task, "user_id": user.id, "series_id": series, "scope": "all",
                      "rule_changed": True,
                      "task": {"task_id": task, "series_id": series, "title": "ghost", "status": "pending"}}}
    line = dead_lettered("task-modifications", "updates-dlq", event, user.id, timeout=90)
    assert "v1.task.updated" in line and user.id in line, line
