"""A steady load of task operations against the Task API, recording each operation the API
committed (a 2xx answer) with its ids, and each one that failed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import requests

from stackctl import STACK_DIR, TASK_API


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(sub: str, secret: str, lifetime: int = 900) -> str:
    now = int(time.time())
    h = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    # The email claim is where the user's reminder emails go (no address is made up from the id).
    claims = {"sub": sub, "email": f"{sub}@users.todo.local", "iat": now, "exp": now + lifetime,
              "iss": os.environ.get("JWT_ISSUER") or "todo-platform", "aud": os.environ.get("JWT_AUDIENCE") or "todo-api"}
    c = b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = b64(hmac.new(secret.encode(), f"{h}.{c}".encode(), hashlib.sha256).digest())
    return f"{h}.{c}.{sig}"


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime:
    return datetime.now(timezone.utc)


class Signer:
    """The secret the load signs its tokens with; switched during a rotation."""

    def __init__(self):
        self.secret = json.loads((STACK_DIR / "secrets" / "secrets.json").read_text())["jwt-secret"]
        self._lock = threading.Lock()

    def use(self, secret: str) -> None:
        with self._lock:
            self.secret = secret

    def token(self, sub: str) -> str:
        with self._lock:
            return token(sub, self.secret)


@dataclass
class Op:
    kind: str  # create | create-recurring | complete | patch | delete
    user: str
    task_id: str
    at: float
    series_id: str | None = None
    recurrence_id: str | None = None
    reminder_due: str | None = None


@dataclass
class Failure:
    kind: str
    at: float
    status: int | None
    detail: str


@dataclass
class Record:
    committed: list[Op] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, op: Op) -> None:
        with self.lock:
            self.committed.append(op)

    def failed(self, f: Failure) -> None:
        with self.lock:
            self.failures.append(f)


class Load:
    """`workers` users, each doing one operation after another with `pause` seconds between.
    One-off tasks carry an at-due reminder 20-45 s ahead, so reminders fire during the run;
    recurring (daily) tasks are due days ahead and carry a one-hour reminder."""

    def __init__(self, run: str, signer: Signer, workers: int, pause: float):
        self.run, self.signer, self.pause = run, signer, pause
        self.users = [f"chaos-{run}-u{i}" for i in range(workers)]
        self.record = Record()
        self.stop_at_reminders = float("inf")
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, args=(u, i), daemon=True)
                         for i, u in enumerate(self.users)]
        self.title_seq = 0

    def start(self) -> "Load":
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)

    def _req(self, user: str, kind: str, method: str, path: str, body: dict | None = None):
        t = time.time()
        try:
            r = requests.request(method, f"{TASK_API}{path}", json=body, timeout=15,
                                 headers={"authorization": f"Bearer {self.signer.token(user)}"})
        except requests.RequestException as e:
            self.record.failed(Failure(kind, t, None, type(e).__name__))
            return None
        if 200 <= r.status_code < 300:
            return r
        self.record.failed(Failure(kind, t, r.status_code, r.text[:200]))
        return None

    def stop_reminders(self) -> float:
        """No new reminders from now on; answers when the last one given is due."""
        self.stop_at_reminders = time.time()
        return self.stop_at_reminders + 45

    def _reminder_due(self) -> datetime:
        return now() + timedelta(seconds=random.uniform(20, 45))

    def _work(self, user: str, n: int) -> None:
        rnd = random.Random(f"{self.run}-{n}")
        pending: list[dict] = []  # tasks this user may still complete, patch or delete
        seq = 0
        while not self._stop.is_set():
            seq += 1
            roll = rnd.random()
            t0 = time.time()
            reminders_on = t0 < self.stop_at_reminders
            if len(pending) < 3 or roll < 0.35:
                recurring = rnd.random() < 0.35
                title = f"chaos {self.run} {user} #{seq}"
                if recurring:
                    body = {"title": title, "recurrence": "daily",
                            "due_date": iso(now() + timedelta(days=rnd.randint(1, 3))), "reminders": ["PT1H"]}
                else:
                    due = self._reminder_due() if reminders_on else now() + timedelta(days=2)
                    body = {"title": title, "due_date": iso(due), "reminders": ["PT0S"] if reminders_on else []}
                kind = "create-recurring" if recurring else "create"
                r = self._req(user, kind, "POST", "/api/tasks", body)
                if r is not None:
                    task = r.json()
                    self.record.ok(Op(kind, user, task["task_id"], t0, task.get("series_id"),
                                      task.get("recurrence_id")))
                    pending.append(task)
            else:
                task = pending.pop(rnd.randrange(len(pending)))
                roll = rnd.random()
                if roll < 0.4:
                    r = self._req(user, "complete", "POST", f"/api/tasks/{task['task_id']}/complete")
                    if r is not None:
                        self.record.ok(Op("complete", user, task["task_id"], t0, task.get("series_id"),
                                          task.get("recurrence_id")))
                elif roll < 0.75 and not task.get("series_id"):
                    due = self._reminder_due() if reminders_on else now() + timedelta(days=3)
                    r = self._req(user, "patch", "PATCH", f"/api/tasks/{task['task_id']}", {"due_date": iso(due)})
                    if r is not None:
                        self.record.ok(Op("patch", user, task["task_id"], t0))
                        pending.append(r.json())
                else:
                    r = self._req(user, "delete", "DELETE", f"/api/tasks/{task['task_id']}")
                    if r is not None:
                        self.record.ok(Op("delete", user, task["task_id"], t0, task.get("series_id")))
            self._stop.wait(self.pause)
