"""The per-user write limit on the real stack: the task-api is restarted with a low
RATE_LIMIT_PER_MINUTE, a burst of writes from one user hits it (429 problem+json with
Retry-After, nothing written), reads and other users are unaffected. The component is restarted
with the stack's default afterwards."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
import requests

from support.stack import ROOT, STACK, wait_until
from support.taskapi import BASE, User, psql

LIMIT = 5


def restart_component(env: dict[str, str]) -> None:
    def run(*args: str) -> None:
        subprocess.run(["bash", str(ROOT / "scripts/stack.sh"), STACK, *args], check=True,
                       capture_output=True, text=True, env={**os.environ, **env})
    run("stop", "task-api")
    run("start", "task-api")
    wait_until("task-api ready", lambda: requests.get(f"{BASE}/readyz", timeout=10).status_code == 200, 60)


@pytest.fixture(scope="module")
def low_limit():
    restart_component({"RATE_LIMIT_PER_MINUTE": str(LIMIT)})
    try:
        yield
    finally:
        restart_component({})  # the stack's own setting again


def fresh_window() -> None:
    """Waits until a minute has at least 20 s left, so a burst stays in one window."""
    while time.time() % 60 > 40:
        time.sleep(1)


def test_a_burst_of_writes_from_one_user_is_limited(low_limit):
    user, other = User(), User()
    fresh_window()
    created = [user.create(title=f"burst {i}") for i in range(LIMIT - 1)]
    # The limit counts every write: an edit is the fifth.
    assert user.request("PATCH", f"/api/tasks/{created[0]['task_id']}", json={"title": "edited"}).status_code == 200
    refused = [
        user.request("POST", "/api/tasks", json={"title": "one too many"}),
        user.request("PATCH", f"/api/tasks/{created[0]['task_id']}", json={"title": "refused"}),
        user.request("POST", f"/api/tasks/{created[1]['task_id']}/complete"),
        user.request("DELETE", f"/api/tasks/{created[2]['task_id']}"),
    ]
    for r in refused:
        assert r.status_code == 429, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "https://todo.example/problems/rate-limited" and r.json()["status"] == 429
        assert 1 <= int(r.headers["retry-after"]) <= 60
    # Nothing was written by the refused requests.
    assert psql(f"select count(*) from tasks where user_id = '{user.id}'") == [[str(LIMIT - 1)]]
    assert psql(f"select count(*) from tasks where user_id = '{user.id}' and status = 'pending'") == [[str(LIMIT - 1)]]
    assert psql(f"select title from tasks where task_id = '{created[0]['task_id']}'") == [["edited"]]
    assert psql(f"select count(*) from outbox where user_id = '{user.id}'") == [[str(LIMIT)]]
    # Reads are not limited, other users are not affected.
    assert user.request("GET", "/api/tasks").status_code == 200
    assert other.request("POST", "/api/tasks", json={"title": "mine"}).status_code == 201
    # The next window accepts writes again.
    wait_for = int(refused[0].headers["retry-after"])
    time.sleep(wait_for + 0.5)
    assert user.request("POST", "/api/tasks", json={"title": "next minute"}).status_code == 201
