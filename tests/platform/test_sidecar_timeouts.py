"""Every sidecar call of a component is bounded (WASI HTTP request options): a sidecar that
accepts the connection but never answers (as daprd did while PostgreSQL was stopping) fails the
call after DAPR_TIMEOUT_SECS, so readiness answers 503 and a delivery answers RETRY instead of
hanging. Runs the real recurrence-engine component in its own runtime process (Spin, or `wasmtime
serve` with RUNTIME=wasmtime) against a silent TCP server."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import uuid

import pytest
import requests

from support.runtime import serve
from support.stack import ENV, STACK_DIR, sidecar_headers, wait_until
from support.taskapi import User

@pytest.fixture
def silent_sidecar():
    """Accepts connections, reads requests, never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    conns = []
    stop = threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
                conns.append(c)
            except OSError:
                continue

    threading.Thread(target=serve, daemon=True).start()
    yield srv.getsockname()[1]
    stop.set()
    for c in conns:
        c.close()
    srv.close()


@pytest.fixture
def engine(silent_sidecar):
    with serve("recurrence-engine", f"http://127.0.0.1:{silent_sidecar}",
               {"APP_ID": "timeout-test", "DAPR_TIMEOUT_SECS": "2"}) as (_, url):
        yield url


def test_a_silent_sidecar_fails_calls_after_the_timeout(engine):
    start = time.monotonic()
    r = requests.get(f"{engine}/readyz", timeout=60)
    took = time.monotonic() - start
    assert r.status_code == 503, r.text
    assert r.json()["detail"] == "the Dapr sidecar did not answer in time", r.text
    assert 1.5 < took < 10, took

    task = str(uuid.uuid4())
    event = {"id": str(uuid.uuid4()), "specversion": "1.0", "source": "/tests", "type": "v1.task.completed",
             "time": "2026-11-26T08:00:00Z", "datacontenttype": "application/json",
             "data": {"task_id": task, "user_id": "u", "series_id": str(uuid.uuid4()),
                      "task": {"task_id": task, "title": "t", "status": "completed", "version": 2}}}
    start = time.monotonic()
    r = requests.post(f"{engine}/events/task-operations", json=event, timeout=60,
                      headers={**sidecar_headers(), "content-type": "application/cloudevents+json"})
    took = time.monotonic() - start
    assert r.status_code == 503 and r.json() == {"status": "RETRY"}, r.text
    assert 1.5 < took < 10, took


@pytest.fixture
def task_api_hung():
    """The stack's Task API component stopped (SIGSTOP): its daprd forwards invocations to an app
    that accepts them and never answers."""
    pid = int((STACK_DIR / "run" / "task-api.pid").read_text().strip())
    os.killpg(pid, signal.SIGSTOP)  # with its children (`spin up` serves from one)
    try:
        yield
    finally:
        os.killpg(pid, signal.SIGCONT)
        wait_until("task-api answering again",
                   lambda: requests.get(f"http://127.0.0.1:{ENV['APP_PORT_BASE']}/healthz", timeout=2).ok, 30)


@pytest.mark.parametrize(("name", "app", "index", "request_args"), [
    ("dashboard", "dashboard", 4, ("GET", "/api/tasks", None)),
    ("chat", "chat", 3, ("POST", "/api/chat", {"message": "what's due today?"})),
], ids=["dashboard-proxy", "chat-invoke"])
def test_service_invocation_of_a_hung_app_fails_after_the_timeout(task_api_hung, name, app, index, request_args):
    """Guards: service invocation (chat's component-kit `invoke`, the dashboard's proxy) had no
    timeout, so a Task API that hung held every chat and dashboard request (and its Wasm
    instance) until the host's 600 s default. Now each answers 503 after DAPR_TIMEOUT_SECS."""
    with serve(name, f"http://127.0.0.1:{int(ENV['DAPR_HTTP_BASE']) + index}",
               {"APP_ID": app, "DAPR_TIMEOUT_SECS": "2"}) as (_, url):
        user = User()
        method, path, body = request_args
        start = time.monotonic()
        r = requests.request(method, url + path, json=body, headers=user.headers(), timeout=60)
        took = time.monotonic() - start
        assert r.status_code == 503, (r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("application/problem+json"), r.headers
        assert 1.5 < took < 15, took
