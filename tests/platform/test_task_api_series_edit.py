"""Editing a series through PATCH on the real stack: a new rule for all instances, a split for
this and following, an exception for one instance, reminders replaced. Each test checks the rows
in PostgreSQL and the v1.task.updated events the recurrence engine reads from Kafka."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from support.stack import wait_until
from support.taskapi import BASE, User, future, iso, psql, read_events

MODIFICATIONS = "task-modifications"
OPERATIONS = "task-operations"
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@pytest.fixture(scope="module", autouse=True)
def ready():
    wait_until("task-api ready", lambda: requests.get(f"{BASE}/readyz", timeout=10).status_code == 200, 60)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def pending(user: User, series_id: str) -> list[dict]:
    items = user.request("GET", "/api/tasks", params={"series_id": series_id, "status": "pending"}).json()["items"]
    return sorted(items, key=lambda t: t["due_date"])


def daily_with_history(user: User, **extra) -> tuple[dict, dict]:
    """A daily series whose first instance is completed: (completed, pending next)."""
    first = user.create(title="standup", recurrence="daily", due_date=iso(future(1)), reminders=["PT1H"], **extra)
    assert user.request("POST", f"/api/tasks/{first['task_id']}/complete").status_code == 200
    [nxt] = pending(user, first["series_id"])
    return first, nxt


def outbox_events(user_id: str, event_type: str) -> list[dict]:
    rows = psql(f"select event_id, topic, payload::text from outbox where user_id = '{user_id}' "
                f"and type = '{event_type}' order by created_at")
    import json
    return [{"event_id": r[0], "topic": r[1], "data": json.loads(r[2])} for r in rows]


def on_kafka(topic: str, event_ids: set[str]) -> dict[str, tuple[str, dict]]:
    def found():
        got = {ev["id"]: (key, ev) for key, ev in read_events(topic) if ev.get("id") in event_ids}
        return got if set(got) == event_ids else None
    return wait_until(f"{len(event_ids)} events on {topic}", found, 90, interval=1)


def test_patch_all_changes_the_rule_and_replans_pending_instances():
    user = User()
    done, nxt = daily_with_history(user)
    due = when(nxt["due_date"])
    weekday = WEEKDAYS[(due.weekday() + 3) % 7]  # never the pending instance's weekday
    r = user.request("PATCH", f"/api/tasks/{nxt['task_id']}", params={"scope": "all"},
                     headers={"if-match": f'"{nxt["version"]}"'},
                     json={"recurrence": f"FREQ=WEEKLY;BYDAY={weekday}", "reminders": ["P1D", "PT2H"], "priority": "high"})
    assert r.status_code == 200, r.text
    moved = r.json()
    # The edited instance is no longer an occurrence: it moves to the next occurrence of the new rule.
    new_due = when(moved["due_date"])
    assert moved["task_id"] == nxt["task_id"] and new_due > datetime.now(timezone.utc)
    assert WEEKDAYS[new_due.weekday()] == weekday and new_due.time() == due.time()
    assert moved["recurrence_id"] == moved["due_date"] and moved["is_exception"] is False
    assert moved["upcoming_occurrence"] == iso(new_due + timedelta(days=7))
    assert moved["recurrence_pattern"] == f"FREQ=WEEKLY;BYDAY={weekday}" and moved["priority"] == "high"
    assert moved["reminders"] == ["P1D", "PT2H"] and moved["version"] == nxt["version"] + 1
    series = user.request("GET", f"/api/series/{nxt['series_id']}").json()
    assert series["recurrence_pattern"] == f"FREQ=WEEKLY;BYDAY={weekday}" and series["priority"] == "high"
    # Reminder rows replaced, their times follow the new due date.
    rows = psql(f"select offset_text, to_char(remind_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                f"from reminders where task_id = '{nxt['task_id']}' order by offset_secs desc")
    assert rows == [["P1D", iso(new_due - timedelta(days=1))], ["PT2H", iso(new_due - timedelta(hours=2))]]
    # Completed history keeps its rule.
    assert psql(f"select status, recurrence_pattern from tasks where task_id = '{done['task_id']}'") == [["completed", "FREQ=DAILY"]]
    [ev] = outbox_events(user.id, "v1.task.updated")
    assert ev["topic"] == MODIFICATIONS
    data = ev["data"]
    assert data["rule_changed"] is True and data["scope"] == "all" and data["new_series_id"] is None
    assert data["series_id"] == nxt["series_id"] and data["task"]["due_date"] == moved["due_date"]
    key, ce = on_kafka(MODIFICATIONS, {ev["event_id"]})[ev["event_id"]]
    assert key == user.id and ce["type"] == "v1.task.updated" and ce["data"]["rule_changed"] is True
    # Completing the moved instance creates the next one on the new grid.
    user.request("POST", f"/api/tasks/{moved['task_id']}/complete")
    [after] = pending(user, nxt["series_id"])
    assert after["due_date"] == iso(new_due + timedelta(days=7)) and after["reminders"] == ["P1D", "PT2H"]


def test_patch_all_keeps_valid_instances_and_refuses_a_past_end_date():
    user = User()
    _, nxt = daily_with_history(user)
    end = when(nxt["due_date"]) + timedelta(days=10)
    r = user.request("PATCH", f"/api/tasks/{nxt['task_id']}", params={"scope": "all"},
                     json={"recurrence_end_date": iso(end), "tzid": "UTC"})
    assert r.status_code == 200, r.text
    kept = r.json()
    assert kept["due_date"] == nxt["due_date"] and kept["recurrence_end_date"] == iso(end)
    assert user.request("GET", f"/api/series/{nxt['series_id']}").json()["end_date"] == iso(end)
    r = user.request("PATCH", f"/api/tasks/{nxt['task_id']}", params={"scope": "all"},
                     json={"recurrence_end_date": "2020-01-01T00:00:00Z"})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "recurrence_end_date", "message": "End date must be in the future"}]
    r = user.request("PATCH", f"/api/tasks/{nxt['task_id']}", json={"recurrence": "weekly"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "recurrence"
    one_off = user.create(title="once")
    r = user.request("PATCH", f"/api/tasks/{one_off['task_id']}", params={"scope": "all"}, json={"recurrence": "daily"})
    assert r.status_code == 422 and "recurring" in r.json()["errors"][0]["message"]


def test_patch_following_splits_the_series():
    user = User()
    done, nxt = daily_with_history(user)
    old_series = nxt["series_id"]
    r = user.request("PATCH", f"/api/tasks/{nxt['task_id']}", params={"scope": "following"},
                     json={"recurrence": "FREQ=DAILY;INTERVAL=2", "title": "standup v2"})
    assert r.status_code == 200, r.text
    edited = r.json()
    new_series = edited["series_id"]
    assert new_series != old_series and edited["task_id"] == nxt["task_id"]
    assert edited["title"] == "standup v2" and edited["due_date"] == nxt["due_date"]
    assert edited["recurrence_pattern"] == "FREQ=DAILY;INTERVAL=2"
    assert edited["upcoming_occurrence"] == iso(when(nxt["due_date"]) + timedelta(days=2))
    old = user.request("GET", f"/api/series/{old_series}").json()
    new = user.request("GET", f"/api/series/{new_series}").json()
    assert old["end_date"] == iso(when(nxt["due_date"]) - timedelta(seconds=1))
    cut = (when(nxt["due_date"]) - timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")
    assert old["recurrence_pattern"] == f"FREQ=DAILY;UNTIL={cut}" and old["title"] == "standup"
    assert new["recurrence_pattern"] == "FREQ=DAILY;INTERVAL=2" and new["title"] == "standup v2"
    assert new["start"] == nxt["due_date"] and new["end_date"] is None
    # Completed history stays with the old series; the edited instance moved.
    assert psql(f"select series_id, status from tasks where task_id = '{done['task_id']}'") == [[old_series, "completed"]]
    assert pending(user, old_series) == []
    [ev] = outbox_events(user.id, "v1.task.updated")
    data = ev["data"]
    assert data["scope"] == "following" and data["rule_changed"] is True
    assert data["series_id"] == old_series and data["new_series_id"] == new_series
    assert data["task"]["series_id"] == new_series
    key, ce = on_kafka(MODIFICATIONS, {ev["event_id"]})[ev["event_id"]]
    assert key == user.id and ce["data"]["new_series_id"] == new_series
    # The new series goes on from the edited occurrence on its own grid.
    user.request("POST", f"/api/tasks/{edited['task_id']}/complete")
    [after] = pending(user, new_series)
    assert after["due_date"] == iso(when(nxt["due_date"]) + timedelta(days=2)) and after["title"] == "standup v2"
    assert after["reminders"] == ["PT1H"]


def test_splitting_a_count_series_keeps_its_total():
    """Guards the split of a COUNT series: `FREQ=DAILY;COUNT=5` split "this and following" at
    its 4th occurrence keeps five occurrences in all (old series COUNT=3, new COUNT=2), in the
    stored rules, the occurrence listings and the instances the completions create."""
    user = User()
    first = user.create(title="course", recurrence="FREQ=DAILY;COUNT=5", due_date=iso(future(1)))
    old_series = first["series_id"]
    current = first
    for _ in range(3):
        assert user.request("POST", f"/api/tasks/{current['task_id']}/complete").status_code == 200
        [current] = pending(user, old_series)
    fourth = current
    assert fourth["due_date"] == iso(future(4))
    r = user.request("PATCH", f"/api/tasks/{fourth['task_id']}", params={"scope": "following"},
                     json={"title": "course, second part"})
    assert r.status_code == 200, r.text
    new_series = r.json()["series_id"]
    assert new_series != old_series
    old = user.request("GET", f"/api/series/{old_series}").json()
    new = user.request("GET", f"/api/series/{new_series}").json()
    assert old["recurrence_pattern"] == "FREQ=DAILY;COUNT=3"
    assert new["recurrence_pattern"] == "FREQ=DAILY;COUNT=2" and new["start"] == fourth["due_date"]
    window = {"from": iso(future(0, hour=0)), "to": iso(future(30))}
    listed = [user.request("GET", f"/api/series/{s}/occurrences", params=window).json()["occurrences"]
              for s in (old_series, new_series)]
    assert listed == [[iso(future(d)) for d in (1, 2, 3)], [iso(future(d)) for d in (4, 5)]]
    # Completing the rest creates the 5th and nothing after it.
    assert user.request("POST", f"/api/tasks/{fourth['task_id']}/complete").status_code == 200
    [fifth] = pending(user, new_series)
    assert fifth["due_date"] == iso(future(5))
    assert user.request("POST", f"/api/tasks/{fifth['task_id']}/complete").status_code == 200
    assert pending(user, new_series) == []
    assert psql(f"select count(*) from tasks where user_id = '{user.id}' and status <> 'deleted'") == [["5"]]


def test_patch_this_with_a_due_date_makes_an_exception_and_moves_its_reminders():
    user = User()
    _, nxt = daily_with_history(user)
    moved_to = when(nxt["due_date"]) + timedelta(hours=3)
    r = user.request("PATCH", f"/api/tasks/{nxt['task_id']}", params={"scope": "this"},
                     json={"due_date": iso(moved_to), "reminders": ["PT30M"]})
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["is_exception"] is True and t["due_date"] == iso(moved_to)
    assert t["recurrence_id"] == nxt["recurrence_id"] and t["reminders"] == ["PT30M"]
    rows = psql(f"select offset_text, to_char(remind_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                f"from reminders where task_id = '{nxt['task_id']}'")
    assert rows == [["PT30M", iso(moved_to - timedelta(minutes=30))]]
    # The series template is untouched.
    assert user.request("GET", f"/api/series/{nxt['series_id']}").json()["recurrence_pattern"] == "FREQ=DAILY"
    [ev] = outbox_events(user.id, "v1.task.updated")
    assert ev["data"]["scope"] == "this" and ev["data"]["rule_changed"] is False
    assert ev["data"]["task"]["due_date"] == iso(moved_to) and ev["data"]["task"]["reminders"] == ["PT30M"]
    # A reminder-only edit of a one-off task.
    one = user.create(title="one", due_date=iso(future(5)), reminders=["PT1H"])
    r = user.request("PATCH", f"/api/tasks/{one['task_id']}", json={"reminders": None})
    assert r.status_code == 200 and r.json()["reminders"] == [] and r.json()["is_exception"] is False
    assert psql(f"select count(*) from reminders where task_id = '{one['task_id']}'") == [["0"]]


def test_editing_one_occurrence_keeps_the_series_title_for_the_later_ones():
    """US1.3: renaming one occurrence (`scope=this`) changes that occurrence only: completing it
    creates the next instance with the series' own title, and the series keeps its title."""
    user = User()
    _, nxt = daily_with_history(user)
    r = user.request("PATCH", f"/api/tasks/{nxt['task_id']}", params={"scope": "this"},
                     json={"title": "standup (moved to the big room)"})
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "standup (moved to the big room)" and r.json()["is_exception"] is True
    assert user.request("POST", f"/api/tasks/{nxt['task_id']}/complete").status_code == 200
    later = wait_until("the instance after the renamed one", lambda: [
        t for t in pending(user, nxt["series_id"]) if t["task_id"] != nxt["task_id"]] or None, 30)
    assert [t["title"] for t in later] == ["standup"], later
    assert when(later[0]["due_date"]) > when(nxt["due_date"])
    assert user.request("GET", f"/api/series/{nxt['series_id']}").json()["title"] == "standup"
