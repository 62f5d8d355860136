"""A user's default reminders end to end on the real test stack: `GET/PUT /api/users/me/settings`
stores them per user in PostgreSQL (through the Dapr binding); a task with a due date created
without a `reminders` field gets them, explicit reminders (or `[]`) override them, series
instances inherit them, and they are delivered by email (Mailpit) and push (Mosquitto) at the
default offset. Each user sees and uses only their own settings."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests

from support.notify import NOTIFICATION, PushInbox, delivered, emails, parse_time, reminders
from support.stack import wait_until
from support.taskapi import BASE, User, iso, psql

SETTINGS = "/api/users/me/settings"
PROBLEM = "https://todo.example/problems/"


@pytest.fixture(scope="module", autouse=True)
def ready():
    r = requests.get(f"{NOTIFICATION}/healthz", timeout=30)
    assert r.status_code == 200, r.text


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def put_default(user: User, offsets) -> dict:
    r = user.request("PUT", SETTINGS, json={"default_reminders": offsets})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def stored_default(user_id: str) -> list[str] | None:
    """The user's row in user_settings, straight from PostgreSQL (None without a row)."""
    rows = psql(f"select default_reminders::text from user_settings where user_id = '{user_id}'")
    return [o["off"] for o in json.loads(rows[0][0])] if rows else None


def test_settings_are_stored_per_user_and_read_back():
    alice, bob = User(), User()
    r = alice.request("GET", SETTINGS)
    assert r.status_code == 200 and r.json() == {"default_reminders": [], "email": None, "reminder_email": None,
                                                  "updated_at": None}, r.text
    saved = put_default(alice, ["PT1H", "p1d", "PT60M", "PT0S"])
    # Normalised to upper case, each duration once, longest first.
    assert saved["default_reminders"] == ["P1D", "PT1H", "PT0S"]
    assert abs(parse_time(saved["updated_at"]) - now()) < timedelta(seconds=30)
    assert alice.request("GET", SETTINGS).json() == saved
    assert stored_default(alice.id) == ["P1D", "PT1H", "PT0S"]
    # Bob's settings are his own: he neither sees nor changes Alice's.
    assert bob.request("GET", SETTINGS).json()["default_reminders"] == []
    assert put_default(bob, ["PT5M"])["default_reminders"] == ["PT5M"]
    assert alice.request("GET", SETTINGS).json()["default_reminders"] == ["P1D", "PT1H", "PT0S"]
    # A PUT replaces; an empty list removes the default.
    assert put_default(alice, [])["default_reminders"] == []
    assert stored_default(alice.id) == []
    assert stored_default(bob.id) == ["PT5M"]
    assert requests.get(f"{BASE}{SETTINGS}", timeout=10).status_code == 401
    assert requests.put(f"{BASE}{SETTINGS}", json={"default_reminders": []}, timeout=10).status_code == 401
    r = alice.request("DELETE", SETTINGS)
    assert r.status_code == 405 and r.headers["allow"] == "GET, PUT", r.text


BAD_BODIES = {
    "not JSON": (b"{default_reminders: [PT1H]", 400, "bad-request", None),
    "a list": ([], 422, "validation-error", ["body"]),
    "missing field": ({}, 422, "validation-error", ["default_reminders"]),
    "null": ({"default_reminders": None}, 422, "validation-error", ["default_reminders"]),
    "a string": ({"default_reminders": "PT1H"}, 422, "validation-error", ["default_reminders"]),
    "years and months": ({"default_reminders": ["P1Y", "P1M"]}, 422, "validation-error",
                         ["default_reminders[0]", "default_reminders[1]"]),
    "over 365 days": ({"default_reminders": ["PT1H", "P366D"]}, 422, "validation-error", ["default_reminders[1]"]),
    "negative": ({"default_reminders": ["-PT1H"]}, 422, "validation-error", ["default_reminders[0]"]),
    "empty durations": ({"default_reminders": ["P", "PT", ""]}, 422, "validation-error",
                        ["default_reminders[0]", "default_reminders[1]", "default_reminders[2]"]),
    "a number": ({"default_reminders": [3600]}, 422, "validation-error", ["default_reminders[0]"]),
    "eleven": ({"default_reminders": [f"PT{i}M" for i in range(11)]}, 422, "validation-error", ["default_reminders"]),
    "unknown field": ({"default_reminders": [], "channels": ["sms"]}, 422, "validation-error", ["channels"]),
    "too large": ({"default_reminders": ["PT1H"], "pad": "x" * 70_000}, 413, "payload-too-large", None),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_bad_settings_are_refused_precisely_and_change_nothing(name):
    body, status, kind, fields = BAD_BODIES[name]
    user = User()
    put_default(user, ["PT15M"])
    kw = {"data": body, "headers": {"content-type": "application/json"}} if isinstance(body, bytes) else {"json": body}
    r = user.request("PUT", SETTINGS, **kw)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert (problem["type"], problem["status"]) == (PROBLEM + kind, status)
    assert problem["detail"]
    if fields is not None:
        assert [e["field"] for e in problem["errors"]] == fields, problem
    assert stored_default(user.id) == ["PT15M"]


def test_a_task_without_reminders_gets_the_default_and_explicit_ones_win():
    user, other = User(), User()
    put_default(user, ["PT0S", "PT1H"])
    due = now() + timedelta(days=2)

    def create(**extra):
        return user.create(title="Task", due_date=iso(due), **extra)
    default = create()
    assert default["reminders"] == ["PT1H", "PT0S"]
    rows = reminders(default["task_id"])
    assert {o: parse_time(r["remind_at"]) for o, r in rows.items()} == {"PT1H": due - timedelta(hours=1), "PT0S": due}
    assert create(reminders=None)["reminders"] == ["PT1H", "PT0S"]  # null counts as absent
    explicit = create(reminders=["P1D"])
    assert explicit["reminders"] == ["P1D"] and set(reminders(explicit["task_id"])) == {"P1D"}
    none = create(reminders=[])
    assert none["reminders"] == [] and reminders(none["task_id"]) == {}
    # No due date, nothing to remind of: the default does not apply (and is no error).
    undated = user.create(title="Someday")
    assert undated["reminders"] == [] and reminders(undated["task_id"]) == {}
    # Another user's default never applies: the other user has none.
    theirs = other.create(title="Task", due_date=iso(due))
    assert theirs["reminders"] == [] and reminders(theirs["task_id"]) == {}
    # Changing the default later leaves existing tasks as they are.
    put_default(user, ["P2D"])
    assert user.request("GET", f"/api/tasks/{default['task_id']}").json()["reminders"] == ["PT1H", "PT0S"]
    assert create()["reminders"] == ["P2D"]


def test_default_reminders_arrive_by_email_and_push_at_the_default_offset():
    user, other = User(), User()
    inbox, other_inbox = PushInbox(user), PushInbox(other)
    try:
        put_default(user, ["PT1H"])
        lead = 10
        t0 = now()
        # Due in an hour and `lead` seconds: the one-hour default reminder fires `lead` seconds from now.
        task = user.create(title="Call the bank", due_date=iso(t0 + timedelta(hours=1, seconds=lead)))
        assert task["reminders"] == ["PT1H"]
        # The same task with explicit reminders: the explicit at-due reminder only.
        explicit = user.create(title="Feed the cat", due_date=iso(t0 + timedelta(seconds=lead + 2)),
                               reminders=["PT0S"])
        # Explicitly none: nothing is sent, though the default would fire now.
        user.create(title="Quiet task", due_date=iso(t0 + timedelta(hours=1, seconds=lead)), reminders=[])
        # The other user has no default: their task due at the same time sends nothing.
        other.create(title="Call the bank", due_date=iso(t0 + timedelta(hours=1, seconds=lead)))
        expected = {"Reminder: Call the bank is due in 1 hour": (task, "PT1H"), "Due now: Feed the cat": (explicit, "PT0S")}
        mails, pushes = delivered(user, inbox, list(expected))
        for m in mails:
            t, offset = expected[m["Subject"]]
            row = reminders(t["task_id"])[offset]
            assert row["status"] == "sent"
            remind_at = parse_time(row["remind_at"])
            assert remind_at == parse_time(t["due_date"]) - (timedelta(hours=1) if offset == "PT1H" else timedelta(0))
            assert timedelta(0) <= parse_time(m["Created"]) - remind_at < timedelta(minutes=1)
        for arrived, p in pushes:
            t, offset = expected[p["title"]]
            assert p["task_id"] == t["task_id"]
            assert 0 <= arrived - parse_time(reminders(t["task_id"])[offset]["remind_at"]).timestamp() < 60
        # Past the default's time by a few seconds: still exactly two, and nothing for the other user.
        wait_until("a few seconds past the reminders", lambda: now() > t0 + timedelta(seconds=lead + 6), timeout=30)
        assert len(emails(user)) == 2 and len(inbox.messages()) == 2
        assert emails(other) == [] and other_inbox.messages() == []
    finally:
        inbox.close()
        other_inbox.close()


def test_series_instances_inherit_the_default_reminders():
    user = User()
    put_default(user, ["PT1H", "PT10M"])
    first_due = now().replace(second=0) + timedelta(hours=3)
    first = user.create(title="Hourly check", due_date=iso(first_due), recurrence="FREQ=HOURLY", tzid="UTC")
    assert first["is_recurring"] and first["reminders"] == ["PT1H", "PT10M"]
    # A later change of the default does not reach the series: its instances inherit from the
    # previous instance.
    put_default(user, ["P1D"])
    done = user.request("POST", f"/api/tasks/{first['task_id']}/complete")
    assert done.status_code == 200, done.text
    page = user.request("GET", f"/api/tasks?series_id={first['series_id']}&status=pending").json()
    [nxt] = page["items"]
    assert parse_time(nxt["due_date"]) == first_due + timedelta(hours=1)
    assert nxt["reminders"] == ["PT1H", "PT10M"]
    rows = reminders(nxt["task_id"])
    due = parse_time(nxt["due_date"])
    assert {o: parse_time(r["remind_at"]) for o, r in rows.items()} == {
        "PT1H": due - timedelta(hours=1), "PT10M": due - timedelta(minutes=10)}
    # The notification service schedules a job for each inherited reminder.
    wait_until("jobs of the next instance", lambda: all(r["job_name"] for r in reminders(nxt["task_id"]).values()),
               timeout=30)
    # A series created with explicit [] gets none, however often it recurs.
    quiet = user.create(title="Quiet hourly", due_date=iso(first_due), recurrence="FREQ=HOURLY", reminders=[])
    assert quiet["reminders"] == []
    assert user.request("POST", f"/api/tasks/{quiet['task_id']}/complete").status_code == 200
    [q2] = user.request("GET", f"/api/tasks?series_id={quiet['series_id']}&status=pending").json()["items"]
    assert q2["reminders"] == [] and reminders(q2["task_id"]) == {}
