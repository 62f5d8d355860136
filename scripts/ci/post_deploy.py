"""Post-deploy tests of the deploy workflow against a live environment: smoke checks, then an
end-to-end subset with a throw-away test user (create a recurring task with a reminder -> complete
it -> the task-completed event reaches the recurrence engine -> the next instance exists with its
reminder -> that reminder's job exists in the Dapr scheduler, read through
GET /api/tasks/{id}/reminders, which asks the reminder dispatcher's sidecar), cleaned up whatever
happens. Exits non-zero on the first failure; the workflow then rolls the release back.

Against the local test stack (the Task API on 8000 + TEST_PORT_OFFSET, 18000 by default; plain HTTP):
  BASE_URL=http://127.0.0.1:18000 \
  JWT_SECRET="$(python3 -c 'import json; print(json.load(open("runtime-config/local/secrets.json"))["jwt-secret"])')" \
  .tools/venv/bin/python scripts/ci/post_deploy.py

Environment:
  BASE_URL        https://<public host>
  CA_BUNDLE       CA file to verify the host with (staging: the Let's Encrypt staging roots);
                  empty: the system trust store
  JWT_SECRET      the environment's jwt-secret (read from Key Vault by the workflow)
  JWT_ISSUER, JWT_AUDIENCE   defaults todo-platform / todo-api
  E2E_USER        test user id (default: e2e-<random>)
  E2E_TIMEOUT     seconds to wait for the next instance (default 60)
"""
import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
from datetime import datetime, timedelta, timezone

import requests

BASE = os.environ["BASE_URL"].rstrip("/")
VERIFY = os.environ.get("CA_BUNDLE") or True
TIMEOUT = float(os.environ.get("E2E_TIMEOUT", "60"))


def step(msg: str) -> None:
    print(f"post-deploy: {msg}", flush=True)


def get(path: str, **kw) -> requests.Response:
    return requests.get(f"{BASE}{path}", timeout=15, verify=VERIFY, **kw)


def retry(path: str, attempts: int = 10, delay: float = 6) -> requests.Response:
    for i in range(attempts):
        try:
            r = get(path)
            if r.ok:
                return r
        except requests.RequestException as e:  # not reachable yet (DNS, certificate issuance)
            if i == attempts - 1:
                raise
            step(f"{path}: {e.__class__.__name__}, retrying")
        time.sleep(delay)
    r.raise_for_status()
    return r


def token(user: str) -> str:
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64(json.dumps({
        "sub": user, "iat": now, "exp": now + 600,
        "iss": os.environ.get("JWT_ISSUER") or "todo-platform",
        "aud": os.environ.get("JWT_AUDIENCE") or "todo-api",
    }, separators=(",", ":")).encode())
    sig = hmac.new(os.environ["JWT_SECRET"].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def smoke() -> None:
    retry("/healthz")
    retry("/readyz")
    assert "paths" in get("/api/openapi.json").json(), "no OpenAPI document"
    r = get("/api/tasks")
    assert r.status_code == 401 and r.json()["status"] == 401, f"unauthenticated list: {r.status_code} {r.text[:200]}"
    step("smoke: healthz, readyz, OpenAPI, problem+json 401")


def end_to_end() -> None:
    user = os.environ.get("E2E_USER") or f"e2e-{secrets.token_hex(6)}"
    s = requests.Session()
    s.verify = VERIFY
    s.headers["Authorization"] = f"Bearer {token(user)}"
    created: list[str] = []
    try:
        due = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=0)
        r = s.post(f"{BASE}/api/tasks", timeout=15, json={
            "title": "post-deploy e2e", "due_date": due.isoformat().replace("+00:00", "Z"),
            "recurrence": "daily", "tzid": "UTC", "reminders": ["PT1H"],
        })
        assert r.status_code == 201, f"create: {r.status_code} {r.text[:300]}"
        first = r.json()
        created.append(first["task_id"])
        assert first["series_id"] and first["reminders"] == ["PT1H"], first
        step(f"created recurring task {first['task_id']} (series {first['series_id']}) for {user}")

        r = s.post(f"{BASE}/api/tasks/{first['task_id']}/complete", timeout=15)
        assert r.status_code == 200, f"complete: {r.status_code} {r.text[:300]}"
        start = time.monotonic()
        step("completed it: the task-completed event goes to the recurrence engine")

        nxt = None
        while time.monotonic() - start < TIMEOUT:
            r = s.get(f"{BASE}/api/tasks", params={"series_id": first["series_id"], "status": "pending"}, timeout=15)
            assert r.status_code == 200, f"list: {r.status_code} {r.text[:300]}"
            items = [t for t in r.json()["items"] if t["task_id"] != first["task_id"]]
            if items:
                nxt = items[0]
                break
            time.sleep(2)
        assert nxt, f"no next instance of series {first['series_id']} within {TIMEOUT:.0f} s"
        created.append(nxt["task_id"])
        assert nxt["due_date"] > first["due_date"], f"next instance not later: {nxt['due_date']}"
        assert nxt["reminders"] == ["PT1H"], f"next instance lost its reminder: {nxt['reminders']}"
        step(f"next instance {nxt['task_id']} due {nxt['due_date']} with its reminder, "
             f"{time.monotonic() - start:.1f} s after the completion")

        job = reminder_job_scheduled(s, nxt, start)
        step(f"reminder job {job['name']} of the next instance is in the Dapr scheduler (dueTime "
             f"{job['due_time']}), {time.monotonic() - start:.1f} s after the completion")
    finally:
        # The test user's tasks go, the series with them (all pending instances).
        for task_id in reversed(created):
            r = s.delete(f"{BASE}/api/tasks/{task_id}", params={"scope": "all", "confirm": "true"}, timeout=15)
            step(f"cleanup: DELETE task {task_id} -> {r.status_code}")


def parse_time(t: str) -> datetime:
    return datetime.fromisoformat(t.replace("Z", "+00:00")).astimezone(timezone.utc)


def reminder_job_scheduled(s: requests.Session, task: dict, start: float) -> dict:
    """Waits (within E2E_TIMEOUT of `start`) until the task's one reminder has its Dapr job, as
    GET /api/tasks/{id}/reminders reports it; answers the job."""
    rows: list = []
    while True:
        r = s.get(f"{BASE}/api/tasks/{task['task_id']}/reminders", timeout=15)
        assert r.status_code == 200, f"reminders: {r.status_code} {r.text[:300]}"
        rows = r.json()["reminders"]
        if len(rows) == 1 and rows[0]["job"]["scheduled"]:
            break
        if time.monotonic() - start >= TIMEOUT:
            raise AssertionError(f"the next instance's reminder job is not scheduled within {TIMEOUT:.0f} s: {rows}")
        time.sleep(0.5)
    [reminder] = rows
    want = parse_time(task["due_date"]) - timedelta(hours=1)
    assert reminder["offset"] == "PT1H" and reminder["status"] == "pending", reminder
    assert parse_time(reminder["remind_at"]) == want, f"reminder at {reminder['remind_at']}, want {want}"
    assert reminder["job"]["name"] == f"reminder-{reminder['reminder_id']}", reminder
    return reminder["job"]


def main() -> int:
    try:
        smoke()
        end_to_end()
    except (AssertionError, requests.RequestException, KeyError) as e:
        print(f"post-deploy: FAILED: {e}", file=sys.stderr)
        return 1
    step("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
