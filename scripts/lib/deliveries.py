"""What the overload benchmarks check while users overload a component: that the platform's own
deliveries keep working. Dead letters are counted from the end offsets of the dead-letter topics
(Kafka's GetOffsetShell), a reminder is created to fall due during the load and its delivery
read back from the dispatcher's records, and a series instance is completed so that the engine
must create the next one. Imported with PYTHONPATH=scripts/lib."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
from datetime import datetime, timedelta, timezone

import requests

DLQS = ("task-events-dlq", "updates-dlq", "alerts-dlq")


def token(secrets_file: str, user: str, lifetime: int = 3600) -> str:
    """An HS256 token for `user`, signed like scripts/dev-token.sh."""
    secret = json.load(open(secrets_file))["jwt-secret"].encode()
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64(json.dumps({"sub": user, "iat": now, "exp": now + lifetime,
                           "iss": os.environ.get("JWT_ISSUER") or "todo-platform",
                           "aud": os.environ.get("JWT_AUDIENCE") or "todo-api"}, separators=(",", ":")).encode())
    sig = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def dlq_total(kafka_libs: str, log4j: str, brokers: str) -> int:
    """Messages ever written to the dead-letter topics (sum of their end offsets)."""
    cmd = ["java", "-Xmx256m", f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{kafka_libs}/*",
           "org.apache.kafka.tools.GetOffsetShell", "--bootstrap-server", brokers, "--time", "-1"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    total = 0
    for line in out.splitlines():
        topic, _, rest = line.partition(":")
        if topic in DLQS:
            total += int(rest.rsplit(":", 1)[-1])
    return total


def _psql(dsn: str, q: str) -> str:
    return subprocess.run(["psql", dsn, "-AtX", "-c", q], capture_output=True, text=True, check=True).stdout.strip()


def _write(http: requests.Session, method: str, url: str, headers: dict, body: dict | None = None) -> dict:
    """A write that is retried as the service asks while it sheds load (503/429 + Retry-After)."""
    for _ in range(60):
        r = http.request(method, url, headers=headers, json=body, timeout=60)
        if r.status_code in (429, 503) and r.headers.get("retry-after"):
            time.sleep(float(r.headers["retry-after"]))
            continue
        r.raise_for_status()
        return r.json()
    raise SystemExit(f"{method} {url} was refused 60 times")


class Probe:
    """A reminder due `lead_s` after `start()`, and a completed series instance whose next one the
    engine must create, both through the Task API at `api` as their own users."""

    def __init__(self, api: str, secrets_file: str, run: str):
        self.api, self.http = api, requests.Session()
        self.rem = {"authorization": f"Bearer {token(secrets_file, f'probe-remind-{run}')}"}
        self.eng = {"authorization": f"Bearer {token(secrets_file, f'probe-engine-{run}')}"}
        self.run = run
        self.reminder_task = None
        self.engine_next_s = None

    def start(self, lead_s: int = 12) -> None:
        due = (datetime.now(timezone.utc) + timedelta(seconds=lead_s)).replace(microsecond=0)
        self.reminder_task = _write(self.http, "POST", f"{self.api}/api/tasks", self.rem, {
            "title": f"probe reminder {self.run}", "due_date": due.isoformat().replace("+00:00", "Z"),
            "reminders": ["PT0S"]})["task_id"]
        first = _write(self.http, "POST", f"{self.api}/api/tasks", self.eng,
                       {"title": f"probe series {self.run}", "recurrence": "FREQ=DAILY"})
        t0 = time.monotonic()
        _write(self.http, "POST", f"{self.api}/api/tasks/{first['task_id']}/complete", self.eng)
        while time.monotonic() - t0 < 60:
            r = self.http.get(f"{self.api}/api/tasks", headers=self.eng, timeout=60)
            if r.ok and any(t["task_id"] != first["task_id"] and t.get("status") == "pending"
                            for t in r.json()["items"]):
                self.engine_next_s = round(time.monotonic() - t0, 2)
                return
            time.sleep(0.5)

    def reminder_late_ms(self, dsn: str, timeout_s: float = 60) -> int | None:
        """How late the reminder's delivery was (ms), once sent; None if not sent in time."""
        return Probe.late_ms(dsn, self.reminder_task, timeout_s)

    @staticmethod
    def late_ms(dsn: str, reminder_task: str, timeout_s: float = 60) -> int | None:
        """How late the reminder of task `reminder_task` was delivered (ms); None if not in time."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            sent, worst = _psql(dsn, "select count(*) filter (where d.status = 'sent'), max(d.lateness_ms) "
                                     "from reminders r join reminder_deliveries d using (reminder_id) "
                                     f"where r.task_id = '{reminder_task}'").split("|")
            if int(sent) > 0:
                return int(worst or 0)
            time.sleep(1)
        return None
