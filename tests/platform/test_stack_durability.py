"""The platform's own stack under faults: events survive kill -9 of Kafka and of daprd, per-key
order holds, and consumer offsets survive scripts/dev-down.sh + scripts/dev-up.sh. The dev
entry points run here against the isolated test stack (TODO_STACK=test)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import pytest
import requests

from support import kafka
from support.app import DeliveryRecorder
from support.dapr import Sidecar
from support.runtime import RUNTIME
from support.stack import ENV, ROOT, STACK_DIR, free_port, stack, wait_until

ORDER_SUB = """apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: durability-order
spec:
  pubsubname: pubsub
  topic: contract-order
  routes:
    default: /order
  deadLetterTopic: contract-dlq
"""
USERS = [f"user-{i}" for i in range(5)]
GROUP = "durability"


def publish_until_accepted(sidecar: Sidecar, event: dict, key: str, deadline_s: float = 120) -> int:
    """At-least-once producer: retries a publish until daprd accepts it. Returns attempts."""
    attempts = 0
    deadline = time.monotonic() + deadline_s
    while True:
        attempts += 1
        try:
            r = requests.post(f"{sidecar.url}/v1.0/publish/pubsub/contract-order",
                              params={"metadata.partitionKey": key}, data=json.dumps(event),
                              headers={"content-type": "application/cloudevents+json"}, timeout=10)
            if r.status_code == 204:
                return attempts
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"publish of {event['id']} not accepted within {deadline_s}s")
        time.sleep(0.5)


def event(run: str, n: int) -> tuple[dict, str]:
    user = USERS[n % len(USERS)]
    return ({"specversion": "1.0", "id": f"{run}-{n}", "source": "/durability-test", "type": "v1.test.sequenced",
             "time": "2026-11-26T09:00:00Z", "datacontenttype": "application/json",
             "data": {"user": user, "seq": n}}, user)


def first_seen_order(app: DeliveryRecorder, run: str) -> dict[str, list[int]]:
    per_user: dict[str, list[int]] = {}
    seen = set()
    for rec in app.on("/order"):
        body = rec.json()
        if not body["id"].startswith(run + "-") or body["id"] in seen:
            continue
        seen.add(body["id"])
        per_user.setdefault(body["data"]["user"], []).append(body["data"]["seq"])
    return per_user


def run_entry_point(script: str) -> str:
    env = {**os.environ, "TODO_STACK": "test"}
    res = subprocess.run(["bash", str(ROOT / "scripts" / script)], env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, f"{script} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


@pytest.fixture(scope="module")
def consumer(contract_topics):
    app = DeliveryRecorder(free_port()).start()
    app.route("/dapr/subscribe", 200, b"[]")
    app.route("/order", 200, b"")
    app.route("/dlq", 200, b"")
    side = Sidecar(GROUP, app.port, extra_resources={"order.yaml": ORDER_SUB}, subscriptions=False).start()
    yield app, side
    side.cleanup()
    app.stop()


def test_events_survive_kill9_of_kafka_and_daprd_in_key_order(consumer, uid):
    app, side = consumer
    run = f"run-{uid}"
    total = 100
    retried = 0
    restarter = threading.Thread(target=lambda: (time.sleep(2), stack("start", "kafka")))
    for n in range(total):
        if n == 30:
            stack("kill", "kafka")
            restarter.start()  # the broker comes back while publishes keep retrying
        if n == 70:
            restarter.join()
            side.kill9()
            side.start()
        ev, key = event(run, n)
        retried += publish_until_accepted(side, ev, key) - 1

    def all_consumed():
        order = first_seen_order(app, run)
        return sum(len(v) for v in order.values()) == total and order
    order = wait_until("all 100 events consumed", all_consumed, 180, 1.0)
    for user, seqs in order.items():
        assert seqs == sorted(seqs), f"order broken for {user}: {seqs}"
    assert sorted(s for v in order.values() for s in v) == list(range(total))
    assert retried > 0, "the broker kill should have made some publishes retry"


def test_offsets_survive_dev_down_and_dev_up(consumer, uid):
    app, side = consumer
    before = wait_until("committed offsets", lambda: kafka.group_offsets(GROUP), 30)
    side.stop()
    run_entry_point("dev-down.sh")
    for name in ("postgres", "kafka", "scheduler", "daprd-task-api", "task-api"):
        pid_file = STACK_DIR / "run" / f"{name}.pid"
        assert not pid_file.exists(), f"{name} left a pid file behind"
    assert subprocess.run(["pgrep", "-f", str(STACK_DIR)], capture_output=True).stdout == b"", "orphan processes"

    up = run_entry_point("dev-up.sh")
    rows = [line.split() for line in up.splitlines() if line and line.split()[0] in
            {"postgres", "kafka", "scheduler", "task-api", "daprd-task-api", "recurrence-engine",
             "daprd-recurrence-engine", "reminder-dispatcher", "daprd-notification"}]
    assert len(rows) == 9, up
    # The components run under Spin (one `spin up` per component), as the table and ps both say.
    expected_cmd = {"postgres": "postgres", "kafka": "java", "scheduler": "scheduler"}
    for row in rows:
        name, pid, health, program = row[0], int(row[1]), row[3], row[4]
        assert health == "healthy", row
        comm = subprocess.run(["ps", "-o", "comm=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
        want = expected_cmd.get(name, "daprd" if name.startswith("daprd") else RUNTIME)
        assert comm == program == want, f"table says {name} is pid {pid} running {program}, ps says {comm!r}"
    assert requests.get(f"http://127.0.0.1:{ENV['APP_PORT_BASE']}/healthz", timeout=5).status_code == 200

    assert kafka.group_offsets(GROUP) == before, "committed offsets changed across dev-down/dev-up"
    app.clear()
    side.start()
    ev, key = event(f"after-{uid}", 0)
    publish_until_accepted(side, ev, key)
    wait_until("new event after restart", lambda: [r for r in app.on("/order") if r.json()["id"] == ev["id"]], 60)
    time.sleep(3)
    old = [r for r in app.on("/order") if r.json()["id"] != ev["id"]]
    assert old == [], f"{len(old)} already-consumed events were delivered again after dev-up"


def test_postgres_starts_again_right_after_kill9_of_its_postmaster(uid):
    """`scripts/stack.sh start postgres` just after SIGKILL of the postmaster: the killed process
    is still a zombie (pg_ctl counts it as running) and its backends may still hold the shared
    memory; the start waits both out instead of reporting "already running" and timing out.
    A row committed before the kill is still there."""
    from support.taskapi import BASE, User, psql

    user = User()
    task = user.create(title=f"durable {uid}")
    pid = int((STACK_DIR / "postgres" / "postmaster.pid").read_text().split()[0])
    os.kill(pid, 9)
    started = time.monotonic()
    r = stack("start", "postgres", check=False)
    assert r.returncode == 0, r.stdout[-800:] + r.stderr[-800:]
    assert time.monotonic() - started < 30, r.stdout
    assert psql(f"select title from tasks where task_id = '{task['task_id']}'") == [[f"durable {uid}"]]
    # The sidecars' connection pools recover by themselves: three reads in a row succeed.
    ok = {"n": 0}

    def reads_succeed():
        got = requests.get(f"{BASE}/api/tasks/{task['task_id']}", headers=user.headers(), timeout=10)
        ok["n"] = ok["n"] + 1 if got.status_code == 200 else 0
        return ok["n"] >= 3

    wait_until("the Task API reading from the restarted database", reads_succeed, timeout=60, interval=0.5)
