"""Where the test stack runs and how to control it through scripts/stack.sh."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import tomllib
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
STACK = os.environ.get("TEST_STACK", "test")


def stack_env() -> dict[str, str]:
    """The stack's ports and paths, as scripts/lib/stack.sh computes them."""
    out = subprocess.run(
        ["bash", str(ROOT / "scripts/stack.sh"), STACK, "env"],
        check=True, capture_output=True, text=True,
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


ENV = stack_env()
STACK_DIR = Path(ENV["STACK_DIR"])
KAFKA_BROKERS = ENV["KAFKA_BROKERS"]
PG_DSN = ENV["PG_DSN"]
SCHEDULER = f"127.0.0.1:{ENV['SCHEDULER_PORT']}"
TOOLS = ROOT / ".tools"
# Each app's component (scripts/lib/stack.sh APP_COMPONENT), port and route base (the component's
# ROUTE_PREFIX in spin.toml): Spin routes only the manifest's routes, so every app but the Task API
# is reached under its base, as through the ingress.
_MANIFEST = tomllib.loads((ROOT / "spin.toml").read_text())["component"]
_APPS = {"task-api": ("task-api", int(ENV["APP_PORT_BASE"])),
         "recurrence-engine": ("recurrence-engine", int(ENV["APP_PORT_BASE"]) + 1),
         "notification": ("reminder-dispatcher", int(ENV["APP_PORT_BASE"]) + 2),
         "chat": ("chat", int(ENV["APP_PORT_BASE"]) + 3),
         "dashboard": ("dashboard", 3000 + int(ENV["PORT_OFFSET"]))}
APP_PORTS = {app: (port, _MANIFEST[comp].get("environment", {}).get("ROUTE_PREFIX", ""))
             for app, (comp, port) in _APPS.items()}


def app_url(app: str) -> str:
    """The base URL of an app of the stack: its own port and its route base."""
    port, prefix = APP_PORTS[app]
    return f"http://127.0.0.1:{port}{prefix}"


def stack(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Runs scripts/stack.sh against the test stack."""
    return subprocess.run(
        ["bash", str(ROOT / "scripts/stack.sh"), STACK, *args],
        check=check, capture_output=True, text=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(what: str, predicate, timeout: float = 30.0, interval: float = 0.2):
    """Polls predicate until it returns a truthy value; fails the test after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:  # noqa: BLE001 - keep polling, report the last error
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def bulk_delivery(events: list[dict], topic: str) -> dict:
    """The body daprd posts to a bulk subscription's route: Dapr's bulk envelope holding `events`
    as entries `e0`, `e1`, ... in order."""
    entries = [{"entryId": f"e{i}", "event": e, "contentType": "application/cloudevents+json", "metadata": {}}
               for i, e in enumerate(events)]
    return {"id": str(uuid.uuid4()), "topic": topic, "pubsubname": "pubsub",
            "type": "com.dapr.event.sent.bulk", "metadata": {}, "entries": entries}


def sidecar_headers() -> dict[str, str]:
    """The header each daprd sends to its app: what a test that plays the sidecar must send to a
    Dapr-facing route (`/job/...`, `/events/...`, `/dapr/...`)."""
    token = (STACK_DIR / "secrets" / "app-api-token").read_text().strip()
    return {"dapr-api-token": token}
