"""The Task API on the real test stack: every endpoint through wasmtime → daprd → PostgreSQL."""

from __future__ import annotations

import concurrent.futures
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from support.taskapi import BASE, User, future, iso

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module", autouse=True)
def ready():
    r = requests.get(f"{BASE}/readyz", timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["database"] == "ok"


@pytest.fixture
def user() -> User:
    return User()


def assert_problem(r: requests.Response, status: int, kind: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["type"] == f"https://todo.example/problems/{kind}"
    assert body["status"] == status and body["title"]
    return body


def test_health_and_openapi():
    assert requests.get(f"{BASE}/healthz", timeout=5).json()["status"] == "ok"
    spec = requests.get(f"{BASE}/api/openapi.json", timeout=5).json()
    assert spec["openapi"].startswith("3.1")
    assert {"/api/tasks", "/api/tasks/{id}", "/api/tasks/{id}/complete", "/api/series/{id}/occurrences"} <= set(spec["paths"])


def test_create_get_one_off_task_with_reminders(user):
    due = future(7)
    r = user.request("POST", "/api/tasks", json={
        "title": "  Pay rent ", "description": "flat 3", "priority": "high", "due_date": iso(due),
        "reminders": ["P1D", "PT1H", "PT0S"], "unknown_field": "ignored"})
    assert r.status_code == 201, r.text
    t = r.json()
    assert r.headers["etag"] == '"1"' and r.headers["location"] == f"/api/tasks/{t['task_id']}"
    assert t["title"] == "Pay rent" and t["priority"] == "high" and t["status"] == "pending"
    assert t["due_date"] == iso(due) and t["series_id"] is None and t["is_recurring"] is False
    assert t["upcoming_occurrence"] is None and t["reminders"] == ["P1D", "PT1H", "PT0S"]
    got = user.request("GET", f"/api/tasks/{t['task_id']}")
    assert got.status_code == 200 and got.json() == t


@pytest.mark.parametrize("preset,step", [
    ("daily", timedelta(days=1)), ("weekly", timedelta(days=7)), ("monthly", None), ("yearly", None), ("weekdays", None),
])
def test_recurring_create_with_each_preset(user, preset, step):
    due = future(days=3)
    while due.weekday() >= 5:  # a weekday start keeps the weekdays preset's first instance on it
        due += timedelta(days=1)
    t = user.create(title=f"{preset} chore", recurrence=preset, due_date=iso(due), tzid="UTC")
    assert t["is_recurring"] is True and t["series_id"] and t["due_date"] == iso(due)
    assert t["recurrence_id"] == iso(due)
    upcoming = datetime.fromisoformat(t["upcoming_occurrence"].replace("Z", "+00:00"))
    assert upcoming > due
    if step:
        assert upcoming - due == step
    series = user.request("GET", f"/api/series/{t['series_id']}").json()
    assert series["recurrence_pattern"] == t["recurrence_pattern"] and series["is_active"] is True
    assert series["describe"]


def test_recurring_create_with_a_phrase_rrule_and_time_zone(user):
    t = user.create(title="Gym", recurrence="every Monday and Thursday at 7am", tzid="Europe/Berlin")
    assert "BYDAY=MO,TH" in t["recurrence_pattern"]
    due = datetime.fromisoformat(t["due_date"].replace("Z", "+00:00"))
    assert due > datetime.now(timezone.utc) and due.weekday() in (0, 3)
    assert due.hour in (5, 6)  # 07:00 Berlin is 06:00 UTC in winter, 05:00 in summer
    r = user.create(title="Meds", recurrence="FREQ=HOURLY;INTERVAL=8", due_date=iso(future(1)))
    assert r["recurrence_pattern"] == "FREQ=HOURLY;INTERVAL=8"
    prev = user.request("GET", f"/api/series/{r['series_id']}/occurrences",
                        params={"from": iso(future(1)), "to": iso(future(2))}).json()
    assert len(prev["occurrences"]) == 3


def test_validation_errors_name_their_fields(user):
    r = user.request("POST", "/api/tasks", json={"title": "", "priority": "urgent", "due_date": "tomorrow",
                                                 "reminders": ["P1Y"]})
    body = assert_problem(r, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["title", "priority", "due_date", "reminders[0]"]
    r = user.request("POST", "/api/tasks", json={"title": "x", "recurrence": "FREQ=MINUTELY"})
    assert "at most hourly" in assert_problem(r, 422, "validation-error")["errors"][0]["message"]
    r = user.request("POST", "/api/tasks", json={"title": "x", "recurrence": "daily",
                                                 "recurrence_end_date": "2020-01-01T00:00:00Z"})
    e = assert_problem(r, 422, "validation-error")["errors"][0]
    assert e == {"field": "recurrence_end_date", "message": "End date must be in the future"}
    r = user.request("POST", "/api/tasks", data="{not json", headers={"content-type": "application/json"})
    assert_problem(r, 400, "bad-request")
    assert_problem(user.request("GET", "/api/tasks", params={"limit": "51"}), 400, "bad-request")
    assert_problem(user.request("GET", "/api/tasks", params={"cursor": "bogus"}), 400, "bad-request")


def test_pagination_over_120_tasks(user):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        created = list(pool.map(lambda i: user.create(title=f"task {i:03d}")["task_id"], range(120)))
    seen, pages, cursor = [], 0, None
    while True:
        params = {"cursor": cursor} if cursor else {}
        page = user.request("GET", "/api/tasks", params=params).json()
        pages += 1
        assert len(page["items"]) <= 50
        seen += [t["task_id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3 and len(seen) == 120 and sorted(seen) == sorted(created)
    assert len(user.request("GET", "/api/tasks", params={"limit": 7}).json()["items"]) == 7


def test_list_filters(user):
    a = user.create(title="soon", due_date=iso(future(1)))
    b = user.create(title="later", due_date=iso(future(30)))
    s = user.create(title="series", recurrence="daily", due_date=iso(future(2)))
    user.request("POST", f"/api/tasks/{a['task_id']}/complete")
    ids = lambda **p: {t["task_id"] for t in user.request("GET", "/api/tasks", params=p).json()["items"]}
    assert ids(status="completed") == {a["task_id"]}
    assert ids(due_from=iso(future(10))) == {b["task_id"]}
    assert ids(due_to=iso(future(3)), status="pending") == {s["task_id"]}
    assert ids(series_id=s["series_id"]) == {s["task_id"]}


def test_complete_is_idempotent_and_creates_the_next_instance(user):
    due = future(2)
    t = user.create(title="water plants", recurrence="daily", due_date=iso(due), reminders=["PT1H"])
    first = user.request("POST", f"/api/tasks/{t['task_id']}/complete")
    again = user.request("POST", f"/api/tasks/{t['task_id']}/complete")
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "completed" and first.json()["completed_at"]
    assert again.json() == first.json()
    pending = user.request("GET", "/api/tasks", params={"series_id": t["series_id"], "status": "pending"}).json()["items"]
    assert len(pending) == 1
    nxt = pending[0]
    assert nxt["due_date"] == iso(due + timedelta(days=1)) and nxt["reminders"] == ["PT1H"]
    assert nxt["upcoming_occurrence"] == iso(due + timedelta(days=2))
    one_off = user.create(title="once")
    assert user.request("POST", f"/api/tasks/{one_off['task_id']}/complete").json()["status"] == "completed"


def test_patch_with_if_match_and_412_on_conflict(user):
    t = user.create(title="draft", due_date=iso(future(7)))
    r = user.request("PATCH", f"/api/tasks/{t['task_id']}", json={"title": "final", "priority": "low"},
                     headers={"if-match": '"1"'})
    assert r.status_code == 200 and r.headers["etag"] == '"2"'
    assert r.json()["title"] == "final" and r.json()["priority"] == "low" and r.json()["version"] == 2
    stale = user.request("PATCH", f"/api/tasks/{t['task_id']}", json={"title": "lost update"},
                         headers={"if-match": '"1"'})
    assert_problem(stale, 412, "precondition-failed")
    assert user.request("GET", f"/api/tasks/{t['task_id']}").json()["title"] == "final"
    r = user.request("PATCH", f"/api/tasks/{t['task_id']}", json={"due_date": None})
    assert r.status_code == 200 and r.json()["due_date"] is None
    assert_problem(user.request("PATCH", f"/api/tasks/{t['task_id']}", json={}), 422, "validation-error")
    assert_problem(user.request("PATCH", f"/api/tasks/{t['task_id']}", json={"title": "x"},
                                headers={"if-match": "nope"}), 400, "bad-request")


def test_patch_scopes_on_a_series(user):
    t = user.create(title="standup", recurrence="daily", due_date=iso(future(1)))
    user.request("POST", f"/api/tasks/{t['task_id']}/complete")
    nxt = user.request("GET", "/api/tasks", params={"series_id": t["series_id"], "status": "pending"}).json()["items"][0]
    r = user.request("PATCH", f"/api/tasks/{nxt['task_id']}", params={"scope": "this"}, json={"title": "moved standup"})
    assert r.json()["is_exception"] is True
    r = user.request("PATCH", f"/api/tasks/{nxt['task_id']}", params={"scope": "all"}, json={"priority": "high"})
    assert r.status_code == 200 and r.json()["priority"] == "high"
    assert user.request("GET", f"/api/series/{t['series_id']}").json()["priority"] == "high"
    # The completed instance stays as it was.
    assert user.request("GET", f"/api/tasks/{t['task_id']}").json()["priority"] == "medium"
    r = user.request("PATCH", f"/api/tasks/{nxt['task_id']}", params={"scope": "following"}, json={"due_date": iso(future(9))})
    assert_problem(r, 422, "validation-error")
    r = user.request("PATCH", f"/api/tasks/{nxt['task_id']}", params={"scope": "following"}, json={"title": "standup v2"})
    assert r.status_code == 200 and r.json()["title"] == "standup v2"
    # "Following" splits the series: the edited instance now belongs to a new series whose
    # template the next instance follows.
    new_series = r.json()["series_id"]
    assert new_series != t["series_id"]
    assert user.request("GET", f"/api/series/{t['series_id']}").json()["title"] == "standup"
    user.request("POST", f"/api/tasks/{nxt['task_id']}/complete")
    later = user.request("GET", "/api/tasks", params={"series_id": new_series, "status": "pending"}).json()["items"]
    assert [(x["title"], x["priority"]) for x in later] == [("standup v2", "high")]


def test_idempotency_key_replay_never_creates_twice(user):
    key = f"key-{uuid.uuid4()}"
    body = {"title": "only once", "due_date": iso(future(7))}
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        rs = list(pool.map(lambda _: user.request("POST", "/api/tasks", json=body, headers={"idempotency-key": key}), range(4)))
    assert {r.status_code for r in rs} == {201}
    assert len({r.json()["task_id"] for r in rs}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in rs) == 3
    listed = [t for t in user.request("GET", "/api/tasks").json()["items"] if t["title"] == "only once"]
    assert len(listed) == 1
    r = user.request("POST", "/api/tasks", json={**body, "title": "another"}, headers={"idempotency-key": key})
    assert_problem(r, 409, "idempotency-key-reused")
    # Keys are per user.
    other = User()
    assert other.request("POST", "/api/tasks", json=body, headers={"idempotency-key": key}).json()["task_id"] != rs[0].json()["task_id"]
    # Once the task is deleted, a replay does not answer a task that no longer exists.
    assert user.request("DELETE", f"/api/tasks/{rs[0].json()['task_id']}").status_code == 204
    r = user.request("POST", "/api/tasks", json=body, headers={"idempotency-key": key})
    assert "deleted" in assert_problem(r, 409, "idempotency-key-reused")["detail"]
    assert not [t for t in user.request("GET", "/api/tasks").json()["items"] if t["title"] == "only once"]


def test_delete_one_off_and_series_with_confirmation(user):
    t = user.create(title="trash")
    assert user.request("DELETE", f"/api/tasks/{t['task_id']}").status_code == 204
    assert_problem(user.request("GET", f"/api/tasks/{t['task_id']}"), 404, "not-found")
    assert_problem(user.request("DELETE", f"/api/tasks/{t['task_id']}"), 404, "not-found")
    s = user.create(title="series", recurrence="daily", due_date=iso(future(1)))
    user.request("POST", f"/api/tasks/{s['task_id']}/complete")
    nxt = user.request("GET", "/api/tasks", params={"series_id": s["series_id"], "status": "pending"}).json()["items"][0]
    assert_problem(user.request("DELETE", f"/api/tasks/{nxt['task_id']}", params={"scope": "all"}), 400, "confirmation-required")
    r = user.request("DELETE", f"/api/tasks/{nxt['task_id']}", params={"scope": "all", "confirm": "true"})
    assert r.status_code == 204
    assert user.request("GET", f"/api/series/{s['series_id']}").json()["is_active"] is False
    items = user.request("GET", "/api/tasks", params={"series_id": s["series_id"]}).json()["items"]
    assert [t["status"] for t in items] == ["completed"]  # history stays


def test_delete_this_instance_skips_to_the_next(user):
    due = future(1)
    s = user.create(title="skip me", recurrence="daily", due_date=iso(due))
    assert user.request("DELETE", f"/api/tasks/{s['task_id']}", params={"scope": "this"}).status_code == 204
    items = user.request("GET", "/api/tasks", params={"series_id": s["series_id"]}).json()["items"]
    assert [(t["status"], t["due_date"]) for t in items] == [("pending", iso(due + timedelta(days=1)))]


def test_cross_user_access_answers_404(user):
    t = user.create(title="private", recurrence="weekly", due_date=iso(future(7)))
    mallory = User()
    for method, path in [("GET", f"/api/tasks/{t['task_id']}"), ("PATCH", f"/api/tasks/{t['task_id']}"),
                         ("POST", f"/api/tasks/{t['task_id']}/complete"), ("DELETE", f"/api/tasks/{t['task_id']}"),
                         ("GET", f"/api/series/{t['series_id']}"), ("GET", f"/api/series/{t['series_id']}/occurrences")]:
        r = mallory.request(method, path, json={"title": "pwned"} if method == "PATCH" else None)
        assert_problem(r, 404, "not-found")
    assert mallory.request("GET", "/api/tasks").json() == {"items": [], "next_cursor": None}
    assert user.request("GET", f"/api/tasks/{t['task_id']}").json()["title"] == "private"
    assert_problem(user.request("GET", "/api/tasks/not-a-uuid"), 404, "not-found")


def vtodos(ics: str) -> list[dict[str, str]]:
    """The VTODOs of a VCALENDAR (lines unfolded): property name (with parameters) -> value."""
    lines = ics.replace("\r\n ", "").split("\r\n")
    out, cur = [], None
    for line in lines:
        if line == "BEGIN:VTODO":
            cur = {}
        elif line == "END:VTODO":
            out.append(cur)
            cur = None
        elif cur is not None and ":" in line:
            name, value = line.split(":", 1)
            cur[name] = value
    return out


def expand(todo: dict[str, str], count: int = 50) -> list[datetime]:
    """The occurrences a calendar client computes from a master VTODO (DTSTART, RRULE, EXDATE)."""
    from dateutil.rrule import rrulestr
    text = "\n".join(f"{k}:{v}" for k, v in todo.items() if k.split(";")[0] in ("DTSTART", "RRULE", "EXDATE"))
    return [d.astimezone(timezone.utc) for d in list(rrulestr(text, forceset=True))[:count]]


def test_calendar_export(user):
    user.create(title="Dentist, 2nd floor", due_date="2026-12-24T09:30:00Z")
    standup = user.create(title="Standup", recurrence="weekdays", due_date="2026-12-01T08:00:00Z", tzid="Europe/Berlin")
    day = future(1)
    water = user.create(title="Water", recurrence="daily", due_date=iso(day))
    # Skip the first instance (EXDATE), move the second (RECURRENCE-ID override).
    assert user.request("DELETE", f"/api/tasks/{water['task_id']}").status_code == 204
    [second] = user.request("GET", "/api/tasks", params={"series_id": water["series_id"]}).json()["items"]
    moved = day + timedelta(days=1, hours=2)
    assert user.request("PATCH", f"/api/tasks/{second['task_id']}", json={"due_date": iso(moved)}).status_code == 200
    # Split a series: the old part ends before the edited occurrence.
    split = user.create(title="Split", recurrence="daily", due_date=iso(day))
    user.request("POST", f"/api/tasks/{split['task_id']}/complete")
    [nxt] = user.request("GET", "/api/tasks", params={"series_id": split["series_id"], "status": "pending"}).json()["items"]
    new_series = user.request("PATCH", f"/api/tasks/{nxt['task_id']}", params={"scope": "following"},
                              json={"title": "Split v2"}).json()["series_id"]

    r = user.request("GET", "/api/calendar.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert r.text.startswith("BEGIN:VCALENDAR\r\n") and r.text.endswith("END:VCALENDAR\r\n")
    todos = vtodos(r.text)
    by_uid: dict[str, list[dict]] = {}
    for t in todos:
        by_uid.setdefault(t["UID"], []).append(t)
    # Six components plus the split series' completed instance, exported as a completed override.
    assert len(todos) == 7 and all("DTSTAMP" in t for t in todos)
    [dentist] = [t for t in todos if t.get("SUMMARY") == "Dentist\\, 2nd floor"]
    assert dentist["DUE"] == "20261224T093000Z" and "RRULE" not in dentist
    # One master per series, not one VTODO per instance.
    [master] = by_uid[standup["series_id"]]
    assert master["RRULE"] == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert master["DTSTART;TZID=Europe/Berlin"] == "20261201T090000"
    assert expand(master, 5) == [datetime(2026, 12, d, 8, tzinfo=timezone.utc) for d in (1, 2, 3, 4, 7)]
    master, override = sorted(by_uid[water["series_id"]], key=lambda t: "RECURRENCE-ID" in t)
    assert master["EXDATE"] == day.strftime("%Y%m%dT%H%M%SZ")
    assert expand(master, 3) == [day + timedelta(days=n) for n in (1, 2, 3)]
    assert override["RECURRENCE-ID"] == (day + timedelta(days=1)).strftime("%Y%m%dT%H%M%SZ")
    assert override["DTSTART"] == moved.strftime("%Y%m%dT%H%M%SZ")
    old, done = sorted(by_uid[split["series_id"]], key=lambda t: "RECURRENCE-ID" in t)
    assert done["STATUS"] == "COMPLETED" and done["RECURRENCE-ID"] == day.strftime("%Y%m%dT%H%M%SZ")
    [new] = by_uid[new_series]
    assert "UNTIL=" in old["RRULE"] and expand(old) == [day]
    assert new["SUMMARY"] == "Split v2" and expand(new, 2) == [day + timedelta(days=1), day + timedelta(days=2)]
