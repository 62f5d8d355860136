"""`GET /api/tasks/{id}/reminders` on the real test stack: each reminder of the user's task with its
fire time and whether its Dapr job is scheduled. The Task API asks the reminder dispatcher (app id
`notification`) by Dapr service invocation, and the dispatcher reads its own sidecar's Jobs API on
the real scheduler; every answer here is checked against that sidecar directly."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from support.notify import NOTIFICATION, job, parse_time
from support.stack import sidecar_headers, stack, wait_until
from support.taskapi import BASE, User, iso, psql

PROBLEM = "https://todo.example/problems/"


def problem(r: requests.Response, status: int, kind: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert (body["type"], body["status"]) == (PROBLEM + kind, status), body
    return body


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def reminders_of(user: User, task_id: str) -> list[dict]:
    r = user.request("GET", f"/api/tasks/{task_id}/reminders")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json"), r.text
    body = r.json()
    assert body["task_id"] == task_id, body
    return body["reminders"]


def all_scheduled(user: User, task_id: str) -> list[dict] | None:
    rows = reminders_of(user, task_id)
    return rows if rows and all(r["job"]["scheduled"] for r in rows) else None


def test_next_instance_reminder_job_is_reported_scheduled_after_completing_and_gone_after_delete():
    user = User()
    due = now() + timedelta(hours=2)
    first = user.create(title="Water plants", due_date=iso(due), recurrence="daily", tzid="UTC",
                        reminders=["PT1H"])
    [before] = wait_until("first instance's reminder job", lambda: all_scheduled(user, first["task_id"]))
    assert before["offset"] == "PT1H" and before["status"] == "pending"
    assert parse_time(before["remind_at"]) == due - timedelta(hours=1)
    assert before["job"]["name"] == f"reminder-{before['reminder_id']}"
    # What the route reports is what the dispatcher's sidecar holds.
    assert job(before["job"]["name"])["dueTime"] == before["job"]["due_time"]

    assert user.request("POST", f"/api/tasks/{first['task_id']}/complete").status_code == 200

    def next_instance():
        items = user.request("GET", "/api/tasks", params={"series_id": first["series_id"],
                                                          "status": "pending"}).json()["items"]
        return next((t for t in items if t["task_id"] != first["task_id"]), None)
    nxt = wait_until("next instance", next_instance)
    [reminder] = wait_until("next instance's reminder job", lambda: all_scheduled(user, nxt["task_id"]))
    assert parse_time(reminder["remind_at"]) == parse_time(nxt["due_date"]) - timedelta(hours=1)
    assert parse_time(reminder["remind_at"]) == due + timedelta(days=1) - timedelta(hours=1)
    assert reminder["status"] == "pending" and reminder["reminder_id"] != before["reminder_id"]
    assert job(reminder["job"]["name"])["dueTime"] == reminder["job"]["due_time"]
    assert reminder["job"]["due_time"].startswith(reminder["remind_at"][:19])
    # The completed instance's reminder was cancelled and its job deleted.
    [done] = wait_until("completed instance's job deleted",
                        lambda: [r for r in reminders_of(user, first["task_id"]) if not r["job"]["scheduled"]])
    assert (done["status"], done["job"]["due_time"]) == ("cancelled", None)
    assert job(done["job"]["name"]) is None

    # Deleted: the task is gone for the route (404, like every task route), its job from the scheduler.
    assert user.request("DELETE", f"/api/tasks/{nxt['task_id']}").status_code in (200, 204)
    problem(user.request("GET", f"/api/tasks/{nxt['task_id']}/reminders"), 404, "not-found")
    wait_until("deleted instance's job gone", lambda: job(reminder["job"]["name"]) is None)


def test_a_reminder_beyond_the_horizon_waits_without_a_job_until_the_horizon_job_schedules_it():
    """Reminders more than 48 h ahead get no Dapr job when their task is written; the recurring
    `horizon-reminders` job schedules them once they are within 48 h."""
    user = User()
    due = now() + timedelta(days=5)
    task = user.create(title="Renew passport", due_date=iso(due), reminders=["P4D", "PT0S"])

    def near_scheduled():
        rows = {r["offset"]: r for r in reminders_of(user, task["task_id"])}
        return rows if rows["P4D"]["job"]["scheduled"] else None
    # The reminder a day ahead has its job; reconciling the task (one statement for both) left the
    # one five days ahead pending without a job.
    rows = wait_until("the reminder inside the horizon scheduled", near_scheduled)
    far = rows["PT0S"]
    assert (far["status"], far["job"]["scheduled"], far["job"]["due_time"]) == ("pending", False, None), far
    assert parse_time(far["remind_at"]) == due
    assert job(far["job"]["name"]) is None
    assert psql(f"SELECT job_name IS NULL, scheduled_for IS NULL FROM reminders "
                f"WHERE reminder_id = '{far['reminder_id']}'") == [["t", "t"]]

    # Three and a half days pass: the stored times move 84 h closer (no task event), and the far
    # reminder is now 36 h ahead, inside the horizon. The horizon job's run schedules it.
    psql(f"UPDATE tasks SET due_date = due_date - interval '84 hours' WHERE task_id = '{task['task_id']}'; "
         f"UPDATE reminders SET remind_at = remind_at - interval '84 hours' WHERE task_id = '{task['task_id']}'")
    r = requests.post(f"{NOTIFICATION}/job/horizon-reminders", json={"reason": "reminder horizon"},
                      headers=sidecar_headers(), timeout=30)
    assert r.status_code == 200 and r.json()["status"] == "done" and r.json()["tasks"] >= 1, r.text
    rows = {r["offset"]: r for r in reminders_of(user, task["task_id"])}
    moved = due - timedelta(hours=84)
    assert rows["PT0S"]["job"]["scheduled"] and parse_time(rows["PT0S"]["remind_at"]) == moved, rows
    assert job(rows["PT0S"]["job"]["name"])["dueTime"].startswith(iso(moved)[:19])
    # The reminder that was a day ahead is 2.5 days past now: the same reconciliation recorded it
    # missed and deleted its job.
    assert (rows["P4D"]["status"], rows["P4D"]["job"]["scheduled"]) == ("missed", False), rows
    assert job(rows["P4D"]["job"]["name"]) is None


def test_the_horizon_job_is_recurring_and_refuses_callers_without_the_sidecar_token():
    r = requests.post(f"{NOTIFICATION}/job/horizon-reminders", json={}, timeout=10)
    assert r.status_code == 401, r.text
    horizon = job("horizon-reminders")
    assert horizon is not None and horizon["schedule"] == "@every 1h", horizon


def test_a_fired_reminder_is_reported_sent_with_its_job_gone():
    user = User()
    task = user.create(title="Stand up", due_date=iso(now() + timedelta(seconds=8)), reminders=["PT0S"])

    def fired():
        [r] = reminders_of(user, task["task_id"])
        return r if r["status"] == "sent" else None
    r = wait_until("reminder sent", fired, timeout=60, interval=0.5)
    # A one-shot job: the scheduler drops it once its trigger succeeded.
    assert r["job"] == {"name": f"reminder-{r['reminder_id']}", "scheduled": False, "due_time": None}, r
    assert job(r["job"]["name"]) is None


def test_a_task_without_reminders_answers_an_empty_list():
    user = User()
    task = user.create(title="No reminders", due_date=iso(now() + timedelta(days=1)), reminders=[])
    assert reminders_of(user, task["task_id"]) == []


def test_another_users_task_is_not_found_and_no_token_is_unauthorized():
    alice, mallory = User(), User()
    task = alice.create(title="Alice's secret", due_date=iso(now() + timedelta(days=2)), reminders=["PT1H"])
    missing = mallory.request("GET", f"/api/tasks/{uuid.uuid4()}/reminders")
    problem(missing, 404, "not-found")
    other = mallory.request("GET", f"/api/tasks/{task['task_id']}/reminders")
    assert (other.status_code, other.json()) == (404, missing.json())
    assert "Alice" not in other.text
    problem(mallory.request("GET", "/api/tasks/not-a-uuid/reminders"), 404, "not-found")
    anonymous = requests.get(f"{BASE}/api/tasks/{task['task_id']}/reminders", timeout=10)
    problem(anonymous, 401, "unauthorized")
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    forged = requests.get(f"{BASE}/api/tasks/{task['task_id']}/reminders", timeout=10,
                          headers={"authorization": "Bearer not.a.token"})
    problem(forged, 401, "unauthorized")
    # The owner still sees it (the 404s were about ownership).
    assert len(reminders_of(alice, task["task_id"])) == 1


def test_dispatcher_route_is_for_the_sidecar_only():
    ids = f"{uuid.uuid4()}"
    url = f"{NOTIFICATION}/internal/reminder-jobs"
    r = requests.get(url, params={"ids": ids}, timeout=10)
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json"), r.text
    r = requests.get(url, params={"ids": ids}, timeout=10, headers=sidecar_headers())
    assert r.status_code == 200, r.text
    assert r.json() == {"jobs": [{"reminder_id": ids, "job_name": f"reminder-{ids}", "scheduled": False,
                                  "due_time": None}]}
    problem(requests.get(url, params={"ids": "x"}, timeout=10, headers=sidecar_headers()), 400, "bad-request")
    problem(requests.get(url, timeout=10, headers=sidecar_headers()), 400, "bad-request")


@pytest.mark.parametrize("process", ["daprd-notification", "reminder-dispatcher"])
def test_an_unreachable_dispatcher_answers_a_precise_503(process):
    user = User()
    task = user.create(title="Later", due_date=iso(now() + timedelta(days=1)), reminders=["PT1H"])
    wait_until("reminder job", lambda: all_scheduled(user, task["task_id"]))
    stack("stop", process)
    try:
        r = user.request("GET", f"/api/tasks/{task['task_id']}/reminders")
        body = problem(r, 503, "reminder-jobs-unavailable")
        assert "reminder dispatcher" in body["detail"] and r.headers["retry-after"] == "5", (body, r.headers)
    finally:
        stack("start", process)
    wait_until(f"{process} back", lambda: all_scheduled(user, task["task_id"]), timeout=60, interval=1)
