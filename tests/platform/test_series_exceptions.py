"""A series' preview and its calendar export describe the same instances.

Random (seeded) sequences of the things a user does to a series' current instance (complete,
skip with `DELETE ?scope=this`, move with `PATCH due_date`, retitle) on random rules, across a
daylight-saving change, with UNTIL and COUNT. Afterwards the preview
(`GET /api/series/{id}/occurrences`) must list exactly the instants that two independent
third-party readers (python `icalendar` + `recurring-ical-events`, and npm `ical.js`) expand
from `GET /api/calendar.ics` for that series, and every override in the export must be a
complete instance (title, description, priority, status) as calendar apps read it.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import icalendar
import recurring_ical_events
import pytest

from support.stack import TOOLS
from support.taskapi import User

ICALJS = TOOLS / "icaljs/node_modules/ical.js/dist/ical.js"
ICALJS_EXPAND = Path(__file__).parent / "support/icaljs_expand.mjs"

# Rules, the first due date (UTC) and the zone, including a US daylight-saving change
# (2027-03-14) and bounded rules.
CASES = [
    ("FREQ=DAILY", "2027-03-10T14:00:00Z", "America/New_York"),
    ("FREQ=WEEKLY;BYDAY=MO,WE,FR", "2027-03-08T14:00:00Z", "America/New_York"),
    ("FREQ=DAILY;INTERVAL=2;COUNT=12", "2027-01-04T09:00:00Z", "UTC"),
    ("FREQ=WEEKLY;BYDAY=TU;UNTIL=20270601T000000Z", "2027-02-02T08:30:00Z", "Europe/Berlin"),
    ("FREQ=MONTHLY;BYMONTHDAY=15", "2027-01-15T10:00:00Z", "Europe/London"),
    ("FREQ=MONTHLY;BYDAY=-1FR", "2027-01-29T17:00:00Z", "America/New_York"),
]
ACTIONS = ("complete", "skip", "move", "retitle")


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(t: str) -> datetime:
    return datetime.fromisoformat(t.replace("Z", "+00:00"))


def current(user: User, series_id: str) -> dict | None:
    items = user.request("GET", "/api/tasks", params={"series_id": series_id, "status": "pending"}).json()["items"]
    return items[0] if items else None


def act(user: User, series_id: str, action: str, step: int) -> None:
    """Does `action` to the series' pending instance (nothing when the series is over)."""
    task = current(user, series_id)
    if task is None:
        return
    path = f"/api/tasks/{task['task_id']}"
    if action == "complete":
        r = user.request("POST", f"{path}/complete")
    elif action == "skip":
        r = user.request("DELETE", path)
    elif action == "move":
        moved = parse(task["due_date"]) + timedelta(hours=2 + step % 3)
        r = user.request("PATCH", path, json={"due_date": iso(moved), "description": f"moved {step}"})
    else:
        r = user.request("PATCH", path, json={"title": f"renamed {step}", "priority": "high"})
    assert r.status_code in (200, 204), r.text


def preview(user: User, series_id: str, start: datetime, end: datetime) -> list[datetime]:
    r = user.request("GET", f"/api/series/{series_id}/occurrences", params={"from": iso(start), "to": iso(end)})
    assert r.status_code == 200, r.text
    return [parse(t) for t in r.json()["occurrences"]]


def export(user: User) -> str:
    r = user.request("GET", "/api/calendar.ics")
    assert r.status_code == 200, r.text
    return r.text


def exported(user: User, series_id: str, start: datetime, end: datetime, ics: str | None = None) -> list:
    """The series' instances in [start, end) as python icalendar + recurring-ical-events read them."""
    calendar = icalendar.Calendar.from_ical(ics or export(user))
    todos = recurring_ical_events.of(calendar, components=["VTODO"]).between(start, end)
    return [t for t in todos if str(t["UID"]) == series_id]


def icaljs(ics: str, series_id: str, start: datetime, end: datetime) -> list[dict]:
    """The series' instances in [start, end) as ical.js reads them (it needs the VTIMEZONEs)."""
    assert ICALJS.exists(), "ical.js missing: scripts/setup.sh icaljs"
    out = subprocess.run(["node", str(ICALJS_EXPAND), series_id, iso(start), iso(end)], input=ics,
                         capture_output=True, text=True, timeout=60, env={**os.environ, "ICALJS": str(ICALJS)})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def instant(component) -> datetime:
    value = component["DTSTART"].dt
    return value.astimezone(timezone.utc)


@pytest.mark.parametrize("seed", range(len(CASES) * 2))
def test_preview_equals_the_export_as_a_calendar_reader_expands_it(seed):
    rng = random.Random(seed)
    rule, first, tz = CASES[seed % len(CASES)]
    user = User()
    created = user.create(title="Series", description="the series", priority="low",
                          recurrence=rule, due_date=first, tzid=tz)
    series_id = created["series_id"]
    actions = [rng.choice(ACTIONS) for _ in range(rng.randint(3, 7))]
    for step, action in enumerate(actions):
        act(user, series_id, action, step)
    start, end = parse(first) - timedelta(days=1), parse(first) + timedelta(days=120)
    shown = preview(user, series_id, start, end)
    ics = export(user)
    expanded = exported(user, series_id, start, end, ics)
    assert shown == sorted(instant(t) for t in expanded), (rule, actions)
    assert shown == [parse(i["start"]) for i in icaljs(ics, series_id, start, end)], (rule, actions)
    # The export is read as calendar apps read it: every instance has a title and a status.
    for todo in expanded:
        assert str(todo.get("SUMMARY", "")) in ("Series",) or str(todo["SUMMARY"]).startswith("renamed"), todo
        assert todo.get("STATUS") in ("NEEDS-ACTION", "COMPLETED"), todo


def test_deleted_and_moved_instances_in_preview_and_export():
    user = User()
    first = datetime(2027, 3, 10, 14, tzinfo=timezone.utc)
    s = user.create(title="Water plants", description="balcony", priority="high",
                    recurrence="FREQ=DAILY", due_date=iso(first), tzid="America/New_York")
    series_id = s["series_id"]
    act(user, series_id, "skip", 0)  # 10 March deleted
    act(user, series_id, "move", 1)  # 11 March moved by 3 hours, with its own description
    start, end = first - timedelta(hours=1), first + timedelta(days=5)
    shown = preview(user, series_id, start, end)
    assert first not in shown
    assert datetime(2027, 3, 11, 17, tzinfo=timezone.utc) in shown
    assert datetime(2027, 3, 11, 14, tzinfo=timezone.utc) not in shown
    # After the daylight-saving change (14 March), 09:00 in New York is 13:00 UTC.
    assert datetime(2027, 3, 14, 13, tzinfo=timezone.utc) in shown
    ics = export(user)
    expanded = {instant(t): t for t in exported(user, series_id, start, end, ics)}
    assert sorted(expanded) == shown
    by_icaljs = {parse(i["start"]): i for i in icaljs(ics, series_id, start, end)}
    assert sorted(by_icaljs) == shown
    assert by_icaljs[datetime(2027, 3, 11, 17, tzinfo=timezone.utc)]["summary"] == "Water plants"
    moved = expanded[datetime(2027, 3, 11, 17, tzinfo=timezone.utc)]
    # The override is a complete instance: a reader shows its own title, description, priority.
    assert str(moved["SUMMARY"]) == "Water plants"
    assert str(moved["DESCRIPTION"]) == "moved 1"
    assert int(moved["PRIORITY"]) == 1
    assert moved["STATUS"] == "NEEDS-ACTION"
    plain = expanded[datetime(2027, 3, 12, 14, tzinfo=timezone.utc)]
    assert str(plain["DESCRIPTION"]) == "balcony" and int(plain["PRIORITY"]) == 1


def test_a_completed_instance_is_exported_completed():
    user = User()
    first = datetime(2027, 2, 1, 9, tzinfo=timezone.utc)
    s = user.create(title="Report", recurrence="FREQ=WEEKLY", due_date=iso(first), priority="medium")
    act(user, s["series_id"], "complete", 0)
    expanded = {instant(t): t for t in exported(user, s["series_id"], first - timedelta(days=1), first + timedelta(days=15))}
    assert expanded[first]["STATUS"] == "COMPLETED" and "COMPLETED" in expanded[first]
    assert expanded[first + timedelta(days=7)]["STATUS"] == "NEEDS-ACTION"
    assert int(expanded[first]["PRIORITY"]) == 5


def test_the_export_is_the_same_bytes_until_something_changes():
    """DTSTAMP is when a component's data last changed, so clients polling the feed get 304."""
    user = User()
    task = user.create(title="Dentist", due_date="2027-02-03T09:00:00Z")
    user.create(title="Standup", recurrence="FREQ=DAILY", due_date="2027-02-01T08:00:00Z", tzid="Europe/Berlin")
    first, second = user.request("GET", "/api/calendar.ics"), user.request("GET", "/api/calendar.ics")
    assert first.status_code == second.status_code == 200
    assert first.text == second.text and first.headers["etag"] == second.headers["etag"]
    etag = first.headers["etag"]
    cached = user.request("GET", "/api/calendar.ics", headers={"if-none-match": etag})
    assert cached.status_code == 304 and cached.text == "" and cached.headers["etag"] == etag
    assert user.request("PATCH", f"/api/tasks/{task['task_id']}", json={"title": "Dentist, 3rd floor"}).status_code == 200
    changed = user.request("GET", "/api/calendar.ics", headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert "SUMMARY:Dentist\\, 3rd floor" in changed.text
