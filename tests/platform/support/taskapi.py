"""Client helpers for the task-api of the test stack: tokens (minted here with the local dev
secrets, including deliberately broken ones), requests, the database and Kafka topics."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone

import requests

from . import kafka
from .stack import ENV, PG_DSN, ROOT, STACK_DIR, stack

BASE = f"http://127.0.0.1:{ENV['APP_PORT_BASE']}"
SECRETS = json.loads((ROOT / "runtime-config/local/secrets.json").read_text())
SECRET = SECRETS["jwt-secret"].encode()
PREVIOUS_SECRET = SECRETS["jwt-secret-previous"].encode()
# The issuer and audience the components check (JWT_ISSUER / JWT_AUDIENCE, these by default).
ISSUER = os.environ.get("JWT_ISSUER") or "todo-platform"
AUDIENCE = os.environ.get("JWT_AUDIENCE") or "todo-api"


def iso(dt: datetime) -> str:
    """RFC 3339 in UTC, to the second."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def future(days: int, hour: int = 9) -> datetime:
    """A whole hour `days` from now (UTC)."""
    d = datetime.now(timezone.utc) + timedelta(days=days)
    return d.replace(hour=hour, minute=0, second=0, microsecond=0)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(header: dict, claims: dict, secret: bytes = SECRET, alg=hashlib.sha256) -> str:
    h = b64(json.dumps(header, separators=(",", ":")).encode())
    c = b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = b64(hmac.new(secret, f"{h}.{c}".encode(), alg).digest())
    return f"{h}.{c}.{sig}"


def token(sub: str | None, lifetime: int = 900, secret: bytes = SECRET, **extra) -> str:
    now = int(time.time())
    claims = {"iat": now, "exp": now + lifetime, "iss": ISSUER, "aud": AUDIENCE, **extra}
    if sub is not None:
        claims["sub"] = sub
    return sign({"alg": "HS256", "typ": "JWT"}, claims, secret)


class User:
    """A user with a fresh id and a valid token. The token carries an `email` claim (where the
    user's reminder emails go) unless `email` is False; by default `<id>@example.com`."""

    def __init__(self, name: str | None = None, email: str | bool = True):
        self.id = name or f"user-{uuid.uuid4().hex[:10]}"
        self.email = f"{self.id}@example.com" if email is True else (email or None)
        self.token = token(self.id, **({"email": self.email} if self.email else {}))

    def headers(self, **extra) -> dict:
        return {"authorization": f"Bearer {self.token}", **extra}

    def request(self, method: str, path: str, **kw) -> requests.Response:
        headers = self.headers(**kw.pop("headers", {}))
        return requests.request(method, f"{BASE}{path}", headers=headers, timeout=30, **kw)

    def create(self, **body) -> dict:
        r = self.request("POST", "/api/tasks", json=body)
        assert r.status_code == 201, r.text
        return r.json()


def psql(sql: str) -> list[list[str]]:
    """Runs SQL against the test database as the app's role; rows of text columns."""
    out = subprocess.run(["psql", PG_DSN, "-v", "ON_ERROR_STOP=1", "-AtF", "\t", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def read_events(topic: str, timeout_ms: int = 6000) -> list[tuple[str, dict]]:
    """Every message of a topic from the beginning, with a fresh consumer group: (key, CloudEvent)."""
    out = kafka._java(
        "org.apache.kafka.tools.consumer.ConsoleConsumer", "--bootstrap-server", kafka.KAFKA_BROKERS,
        "--topic", topic, "--from-beginning", "--timeout-ms", str(timeout_ms),
        "--property", "print.key=true", "--property", "key.separator=\t",
        "--group", f"task-api-tests-{uuid.uuid4().hex[:8]}", timeout=timeout_ms / 1000 + 90,
    )
    events = []
    for line in out.splitlines():
        if "\t" in line:
            key, value = line.split("\t", 1)
            try:
                events.append((key, json.loads(value)))
            except json.JSONDecodeError:
                pass
    return events


def _gone_or_zombie(pid: int) -> bool:
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def restart_sidecar(sig: int = signal.SIGTERM, app: str = "task-api") -> None:
    """Stops the stack's daprd of `app` with `sig` (SIGKILL for a crash) and starts it again.

    A daprd restarted from a test is re-parented to PID 1 once scripts/stack.sh exits, and PID 1
    here may reap it late: a killed daprd then lingers as a zombie whose pid file makes
    `stack.sh start` think it still runs. So wait for the process to be gone or a zombie, then
    drop its pid file before starting."""
    name = f"daprd-{app}"
    pidfile = STACK_DIR / "run" / f"{name}.pid"
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        pid = None
    if pid is not None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 30
        while not _gone_or_zombie(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _gone_or_zombie(pid):
            os.kill(pid, signal.SIGKILL)
            while not _gone_or_zombie(pid):
                time.sleep(0.1)
        pidfile.unlink(missing_ok=True)
    stack("start", name)
