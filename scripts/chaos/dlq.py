"""A poison event through the dead-letter path and back: a completion of a series instance that
does not exist yet is answered DROP by the recurrence engine, so Dapr moves it to
task-events-dlq; `scripts/dlq.sh list` shows it; once the cause is fixed (the instance exists)
`scripts/dlq.sh replay` republishes it with its id and the engine creates the next instance."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from datetime import timedelta

import requests

from load import Signer, iso, now
from stackctl import ROOT, STACK, TASK_API, dapr_url, psql, say


def _dlq(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "scripts/dlq.sh"), *args], capture_output=True, text=True,
                          timeout=240, env={**os.environ, "STACK": STACK, "TIMEOUT_MS": "15000"})


def _publish(event: dict, key: str, within_s: float = 90.0) -> str | None:
    """Publishes the poison event through the Task API's sidecar, retrying the same event id while
    the sidecar answers 5xx or cannot be reached (its Kafka producer reconnects for some seconds
    after the Kafka fault that precedes this step). Answers None, or why it never went through."""
    deadline, last = time.time() + within_s, ""
    while time.time() < deadline:
        try:
            p = requests.post(f"{dapr_url('task-api')}/v1.0/publish/pubsub/task-operations", json=event,
                              timeout=30, params={"metadata.partitionKey": key},
                              headers={"content-type": "application/cloudevents+json"})
            if p.status_code < 300:
                return None
            last = f"HTTP {p.status_code}: {p.text[:300]}"
            if p.status_code < 500:
                break
        except requests.RequestException as e:
            last = str(e)
        say(f"  publishing the poison event: {last}; retrying")
        time.sleep(2)
    return f"the poison event could not be published: {last}"


def poison_and_replay(run: str, signer: Signer) -> tuple[bool, str]:
    """Answers (restored, what happened)."""
    user = f"chaos-{run}-dlq"
    due = (now() + timedelta(days=2)).replace(microsecond=0)
    r = requests.post(f"{TASK_API}/api/tasks", timeout=15, headers={"authorization": f"Bearer {signer.token(user)}"},
                      json={"title": "chaos dlq", "recurrence": "daily", "due_date": iso(due)})
    r.raise_for_status()
    t = r.json()
    early = str(uuid.uuid4())
    event = {"id": str(uuid.uuid4()), "specversion": "1.0", "source": "/chaos", "type": "v1.task.completed",
             "time": iso(now()), "datacontenttype": "application/json",
             "data": {"task_id": early, "user_id": user, "series_id": t["series_id"],
                      "task": {**t, "task_id": early, "status": "completed"}}}
    publish_error = _publish(event, user)
    if publish_error:
        return False, publish_error
    t0 = time.time()
    listed_after = None
    while time.time() - t0 < 120:
        out = _dlq("list", "task-events-dlq")
        if out.returncode != 0:
            return False, f"dlq.sh list failed: {out.stderr[-400:]}"
        if event["id"] in out.stdout:
            listed_after = time.time() - t0
            break
        time.sleep(1)
    if listed_after is None:
        return False, "the poison event never reached task-events-dlq"
    nxt = due + timedelta(days=1)
    psql(f"""insert into tasks (task_id, series_id, user_id, title, due_date, is_recurring, recurrence_id,
                                recurrence_pattern, status, completed_at)
             values ('{early}', '{t['series_id']}', '{user}', 'chaos dlq', '{iso(nxt)}', true, '{iso(nxt)}',
                     'FREQ=DAILY', 'completed', now())""")
    out = _dlq("replay", "task-events-dlq", event["id"])
    if out.returncode != 0 or "replayed=1 failed=0 missing=0" not in out.stdout:
        return False, f"dlq.sh replay failed: {out.stdout[-300:]} {out.stderr[-300:]}"
    t1 = time.time()
    while time.time() - t1 < 60:
        done = psql(f"select count(*) from processed_events where consumer = 'recurrence-engine/task-operations' "
                    f"and event_id = '{event['id']}'")[0][0] == "1"
        nexts = psql(f"select count(*) from tasks where series_id = '{t['series_id']}' "
                     f"and recurrence_id > '{iso(nxt)}'")[0][0]
        if done and nexts == "1":
            return True, (f"poison dead-lettered and listed after {listed_after:.1f}s; replayed after the fix, "
                          f"processed once in {time.time() - t1:.1f}s (next instance created)")
        time.sleep(0.5)
    return False, "the replayed event was not processed"
