"""Structured logs with trace context, on the real stack: a component's log lines are JSON with
time, level, service and the request's trace id; the trace of a request continues through the
sidecar into the service it invokes (chat → Task API by Dapr service invocation), so the Task
API's line about a request made through the chat carries the trace id the chat's caller sent."""

import json
import secrets
from contextlib import contextmanager

import requests

from support.stack import STACK_DIR, app_url
from support.taskapi import User, psql

CHAT = app_url("chat")


def json_lines(log, mark: int) -> list[dict]:
    out = []
    for raw in log.read_bytes()[mark:].decode(errors="replace").splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict) and "msg" in line:
            out.append(line)
    return out


@contextmanager
def tasks_unreadable():
    """PostgreSQL refuses the tasks table meanwhile: the Task API's reads fail upstream."""
    psql("REVOKE SELECT ON tasks FROM CURRENT_USER")
    try:
        yield
    finally:
        psql("GRANT SELECT ON tasks TO CURRENT_USER")


def traceparent() -> tuple[str, str]:
    trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, f"00-{trace_id}-{parent}-01"


def test_a_failure_is_logged_as_json_with_the_requests_trace_id():
    user = User()
    log = STACK_DIR / "logs" / "task-api.log"
    trace_id, header = traceparent()
    mark = log.stat().st_size
    with tasks_unreadable():
        r = user.request("GET", "/api/tasks", headers={"traceparent": header})
    assert r.status_code == 503
    ours = [l for l in json_lines(log, mark) if l.get("trace_id") == trace_id]
    assert ours, log.read_bytes()[mark:].decode(errors="replace")[-2000:]
    line = ours[0]
    assert line["level"] == "error" and line["service"] == "task-api" and "upstream failure" in line["msg"]
    assert line["time"].endswith("Z") and len(line["span_id"]) == 16 and line["span_id"] != header.split("-")[2]


def test_the_trace_continues_through_service_invocation():
    user = User()
    log = STACK_DIR / "logs" / "task-api.log"
    trace_id, header = traceparent()
    mark = log.stat().st_size
    with tasks_unreadable():
        r = requests.post(f"{CHAT}/api/chat", json={"message": "what's due today?"},
                          headers={**user.headers(), "traceparent": header}, timeout=60)
    assert r.status_code == 503, r.text
    lines = [l for l in json_lines(log, mark) if "upstream failure" in l["msg"]]
    assert any(l.get("trace_id") == trace_id for l in lines), lines
