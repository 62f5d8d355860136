"""The hourly floor of recurring tasks on the real stack: rules denser than one occurrence an
hour are refused whatever part makes them dense (create, series edit, dashboard preview), and a
dense rule already stored is listed lazily with a hard cap instead of expanding its whole window."""

from __future__ import annotations

import time

import pytest
import requests

from support.stack import ENV, wait_until, app_url
from support.taskapi import BASE, User, future, iso, psql

DASHBOARD = app_url("dashboard")
PROBLEM = "https://todo.example/problems/"
EVERY = ",".join(str(v) for v in range(60))
HOURS = ",".join(str(v) for v in range(24))

# (rule, message): each shape of rule that puts more than one occurrence in an hour.
ABUSIVE = [
    (f"FREQ=HOURLY;BYMINUTE={EVERY};BYSECOND={EVERY}",
     "BYMINUTE and BYSECOND give 3600 occurrences an hour; at most 1 an hour is allowed"),
    (f"FREQ=HOURLY;BYSECOND={EVERY}", "BYSECOND gives 60 occurrences a minute; at most 1 an hour is allowed"),
    (f"FREQ=DAILY;BYHOUR={HOURS};BYMINUTE={EVERY}", "BYMINUTE gives 60 occurrences an hour; at most 1 an hour is allowed"),
    ("FREQ=DAILY;BYHOUR=9;BYMINUTE=0,30", "BYMINUTE gives 2 occurrences an hour; at most 1 an hour is allowed"),
    ("FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1;BYHOUR=0;BYMINUTE=0,1",
     "BYMINUTE gives 2 occurrences an hour; at most 1 an hour is allowed"),
    ("FREQ=WEEKLY;COUNT=2;BYDAY=MO;BYSECOND=0,1", "BYSECOND gives 2 occurrences a minute; at most 1 an hour is allowed"),
    (f"FREQ=MONTHLY;BYMINUTE={EVERY};BYSECOND=0,30;BYSETPOS=1,2,3,-1",
     "BYMINUTE and BYSECOND give 120 occurrences an hour and BYSETPOS keeps 4 of them; at most 1 an hour is allowed"),
    ("RRULE:freq=hourly;byminute=0,15,30,45", "BYMINUTE gives 4 occurrences an hour; at most 1 an hour is allowed"),
    ("FREQ=MINUTELY;INTERVAL=60", None),
    ("FREQ=SECONDLY;BYMINUTE=0;BYSECOND=0", None),
]


@pytest.fixture(scope="module", autouse=True)
def ready():
    wait_until("task-api ready", lambda: requests.get(f"{BASE}/readyz", timeout=10).status_code == 200, 60)


def refused(r: requests.Response, message: str | None) -> None:
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == PROBLEM + "validation-error"
    [e] = body["errors"]
    assert e["field"] == "recurrence"
    if message is None:
        assert "at most hourly" in e["message"] and "FREQ=" in e["message"], e
    else:
        assert e["message"] == message


@pytest.mark.parametrize("rule, message", ABUSIVE, ids=[r[:40] for r, _ in ABUSIVE])
def test_a_rule_denser_than_hourly_is_refused_everywhere_naming_the_part(rule, message):
    """Guards the hourly floor: a create, a series-wide edit and the dashboard preview refuse a
    rule with more than one occurrence an hour (BYSECOND, BYMINUTE, BYSETPOS, sub-hourly FREQ),
    with a validation problem naming the part, and nothing is stored."""
    user = User()
    refused(user.request("POST", "/api/tasks", json={"title": "flood", "recurrence": rule,
                                                     "due_date": iso(future(1))}), message)
    assert psql(f"select count(*) from series where user_id = '{user.id}'") == [["0"]]
    task = user.create(title="hourly", recurrence="FREQ=HOURLY;INTERVAL=6", due_date=iso(future(1)))
    r = user.request("PATCH", f"/api/tasks/{task['task_id']}", params={"scope": "all"},
                     json={"recurrence": rule})
    refused(r, message)
    assert psql(f"select recurrence_pattern from series where series_id = '{task['series_id']}'") == [
        ["FREQ=HOURLY;INTERVAL=6"]]
    r = requests.get(f"{DASHBOARD}/api/preview", params={"recurrence": rule}, headers=user.headers(), timeout=30)
    if len(rule) > 300:  # the preview reads at most 300 characters
        assert r.status_code == 400 and "at most 300 characters" in r.json()["detail"], r.text
    else:
        refused(r, message)


def test_the_dashboard_preview_needs_a_token():
    """Guards the preview's cost: an anonymous caller cannot make the dashboard expand rules."""
    r = requests.get(f"{DASHBOARD}/api/preview", params={"recurrence": "daily"}, timeout=30)
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    ok = requests.get(f"{DASHBOARD}/api/preview", params={"recurrence": "FREQ=HOURLY;BYHOUR=9,17"},
                      headers=User().headers(), timeout=30)
    assert ok.status_code == 200, ok.text
    assert len(ok.json()["occurrences"]) == 5


def test_a_dense_rule_already_stored_is_listed_lazily_with_a_cap():
    """Guards the expansion bound: a series stored before the floor existed with one occurrence
    a second answers its two-year occurrence window with the first 500 at once (instead of
    expanding 63 million instants), and the calendar export still answers."""
    user = User()
    task = user.create(title="legacy", recurrence="FREQ=HOURLY", due_date=iso(future(1)))
    dense = f"FREQ=HOURLY;BYMINUTE={EVERY};BYSECOND={EVERY}"
    psql(f"update series set recurrence_pattern = '{dense}' where series_id = '{task['series_id']}'")
    try:
        listed_lazily(user, task, dense)
    finally:
        # Nothing of this series may reach the recurrence engine's later runs.
        psql(f"update series set is_active = false where series_id = '{task['series_id']}'")


def listed_lazily(user: User, task: dict, dense: str) -> None:
    started = time.monotonic()
    r = user.request("GET", f"/api/series/{task['series_id']}/occurrences",
                     params={"from": iso(future(1)), "to": iso(future(700))})
    elapsed = time.monotonic() - started
    assert r.status_code == 200, r.text
    got = r.json()["occurrences"]
    assert len(got) == 500 and got[0] == iso(future(1)) and got[1].endswith(":01Z")
    assert elapsed < 10, elapsed
    cal = user.request("GET", "/api/calendar.ics")
    assert cal.status_code == 200 and f"RRULE:{dense}" in cal.text.replace("\r\n ", "")
