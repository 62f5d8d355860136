"""Acceptance tests of the recurrence engine on the real test stack (issue 6): a daily series
completed day by day until it is a completed series, a Monday/Wednesday/Friday 10:00 series in
America/New_York across both DST changes pre-created 15 minutes ahead of each local 10:00, and
a crash (kill -9 of the engine's daprd and wasmtime) while 200 completions are in flight.

Pre-creation jobs are fast-forwarded the way a clock would: the job the engine scheduled is read
back from the engine's own sidecar (its due time is checked), then re-posted there under the same
name with a due time of one second. Only the app id that scheduled a job receives its trigger, and
the engine's sidecar schedules as that app id, so the engine's real trigger path runs."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests

from support.engine import LEAD, fast_forward, fire_at, get_job, job_name
from support.stack import ENV, STACK_DIR, stack, wait_until, app_url
from support.taskapi import User, _gone_or_zombie, future, iso, psql

ENGINE = app_url("recurrence-engine")
TASK_API_DAPR = f"http://127.0.0.1:{ENV['DAPR_HTTP_BASE']}"
CONSUMER = "recurrence-engine/task-operations"
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(scope="module", autouse=True)
def ready():
    r = requests.get(f"{ENGINE}/healthz", timeout=30)
    assert r.status_code == 200 and r.json()["app_id"] == "recurrence-engine", r.text


@pytest.fixture
def user() -> User:
    return User()


def processed(event_id: str) -> int:
    return int(psql(f"select count(*) from processed_events where consumer = '{CONSUMER}' "
                    f"and event_id = '{event_id}'")[0][0])


def completion_event_id(task_id: str) -> str:
    rows = psql(f"select event_id from outbox where task_id = '{task_id}' and type = 'v1.task.completed'")
    assert len(rows) == 1, rows
    return rows[0][0]


def series_rows(series_id: str) -> list[tuple[str, str]]:
    rows = psql(f"""select status, to_char(due_date at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                    from tasks where series_id = '{series_id}' order by due_date""")
    return [(r[0], r[1]) for r in rows]


def pending(user: User, series_id: str) -> list[dict]:
    r = user.request("GET", "/api/tasks", params={"series_id": series_id, "status": "pending"})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_daily_series_with_an_end_date_30_days_out_completed_day_by_day_becomes_completed(user):
    first = future(1)
    end = first + timedelta(days=29, hours=1)
    t = user.create(title="30-day challenge", recurrence="daily", due_date=iso(first),
                    recurrence_end_date=iso(end), reminders=["PT30M"])
    current = t
    for day in range(30):
        assert current["due_date"] == iso(first + timedelta(days=day)), (day, current)
        r = user.request("POST", f"/api/tasks/{current['task_id']}/complete")
        assert r.status_code == 200, r.text
        event_id = completion_event_id(current["task_id"])
        wait_until(f"completion {day + 1} processed by the engine", lambda: processed(event_id) == 1, timeout=15,
                   interval=0.05)
        left = pending(user, t["series_id"])
        if day < 29:
            assert len(left) == 1, (day, left)
            current = left[0]
            assert current["reminders"] == ["PT30M"]
        else:
            assert left == [], left
    rows = series_rows(t["series_id"])
    assert rows == [("completed", iso(first + timedelta(days=d))) for d in range(30)]
    series = wait_until("the completed series", lambda: (s := user.request(
        "GET", f"/api/series/{t['series_id']}").json())["completed_at"] and s, timeout=15)
    assert series["completed_at"], series


@pytest.mark.parametrize("first_local, dst_change", [
    # Spring forward on Sunday 2027-03-14 (EST UTC-5 → EDT UTC-4).
    (datetime(2027, 3, 10, 10, 0, tzinfo=NEW_YORK), datetime(2027, 3, 14, 7, 0, tzinfo=timezone.utc)),
    # Fall back on Sunday 2027-11-07 (EDT UTC-4 → EST UTC-5).
    (datetime(2027, 11, 3, 10, 0, tzinfo=NEW_YORK), datetime(2027, 11, 7, 6, 0, tzinfo=timezone.utc)),
], ids=["spring-forward", "fall-back"])
def test_mwf_10am_new_york_series_is_pre_created_15_minutes_ahead_across_dst(user, first_local, dst_change):
    first = first_local.astimezone(timezone.utc)
    t = user.create(title="team sync", recurrence="FREQ=WEEKLY;BYDAY=MO,WE,FR", due_date=iso(first),
                    tzid="America/New_York", reminders=["PT10M"])
    sid = t["series_id"]
    # Wed, Fri before the change; Mon, Wed after it: each at 10:00 New York time.
    local_days = [first_local + timedelta(days=d) for d in (2, 5, 7)]
    occurrences = [datetime(d.year, d.month, d.day, 10, 0, tzinfo=NEW_YORK).astimezone(timezone.utc)
                   for d in local_days]
    assert t["upcoming_occurrence"] == iso(occurrences[0])
    assert occurrences[0] < dst_change < occurrences[1]
    offsets = {o.astimezone(NEW_YORK).utcoffset() for o in occurrences}
    assert len(offsets) == 2, "the series must cross a DST change"
    for i, occurrence in enumerate(occurrences):
        name = job_name(sid, occurrence)
        job = wait_until(f"the job of {iso(occurrence)}", lambda: get_job(name), timeout=20)
        # 15 minutes before 10:00 local, and the series' fixed place in the herd window before that.
        assert job["dueTime"] == iso(fire_at(sid, occurrence)), job
        assert LEAD <= occurrence - fire_at(sid, occurrence) < LEAD + timedelta(minutes=10)
        data = job["data"]["value"]
        assert data == {"series_id": sid, "occurrence": iso(occurrence)}, job
        local = occurrence.astimezone(NEW_YORK)
        assert (local.hour, local.minute, local.strftime("%a")) in {(10, 0, "Mon"), (10, 0, "Wed"), (10, 0, "Fri")}

        # The clock reaches the job's due time: the engine creates the instance of that occurrence.
        def created():
            return ("pending", iso(occurrence)) in series_rows(sid)

        for _ in range(4):
            fast_forward(name, data)
            try:
                wait_until(f"the instance of {iso(occurrence)}", created, timeout=8, interval=0.1)
                break
            except AssertionError:
                # The engine re-scheduled the job with its real due time after our re-post
                # (its v1.task.created arrived later): fast-forward again.
                continue
        assert created(), series_rows(sid)
        assert series_rows(sid) == [("pending", iso(first))] + [("pending", iso(o)) for o in occurrences[:i + 1]]
        inst = next(x for x in pending(user, sid) if x["due_date"] == iso(occurrence))
        assert inst["reminders"] == ["PT10M"]
        if i + 1 < len(occurrences):
            assert inst["upcoming_occurrence"] == iso(occurrences[i + 1])


def kill9(name: str) -> None:
    pidfile = STACK_DIR / "run" / f"{name}.pid"
    pid = int(pidfile.read_text().strip())
    os.killpg(pid, signal.SIGKILL)  # with its children (`spin up` serves from a child process)
    wait_until(f"{name} gone", lambda: _gone_or_zombie(pid), timeout=30, interval=0.05)
    pidfile.unlink(missing_ok=True)


def test_kill_9_of_the_engine_while_200_completions_are_delivered_loses_and_duplicates_nothing(user):
    """200 daily series whose completions reach the engine without their next instance (the
    engine alone must create them); its daprd and wasmtime are killed with SIGKILL while the
    events are delivered and restarted a few seconds later."""
    due = future(2)
    n = 200
    tasks = [user.create(title=f"crash {i}", recurrence="daily", due_date=iso(due)) for i in range(n)]
    ids = ",".join(f"'{x['task_id']}'" for x in tasks)
    psql(f"update tasks set status = 'completed', completed_at = now(), version = version + 1 where task_id in ({ids})")
    events = [{"id": str(uuid.uuid4()), "specversion": "1.0", "source": "/tests", "type": "v1.task.completed",
               "time": iso(datetime.now(timezone.utc)), "datacontenttype": "application/json",
               "data": {"task_id": x["task_id"], "user_id": user.id, "series_id": x["series_id"],
                        "task": {**x, "status": "completed"}}} for x in tasks]
    published = []

    def publish_all():
        s = requests.Session()
        for e in events:
            r = s.post(f"{TASK_API_DAPR}/v1.0/publish/pubsub/task-operations",
                       params={"metadata.partitionKey": user.id}, json=e,
                       headers={"content-type": "application/cloudevents+json"}, timeout=30)
            assert r.status_code == 204, r.text
            published.append(e["id"])

    publisher = threading.Thread(target=publish_all)
    publisher.start()
    try:
        ids_sql = ",".join(f"'{e['id']}'" for e in events)
        done = lambda: int(psql(f"select count(*) from processed_events where consumer = '{CONSUMER}' "
                                f"and event_id in ({ids_sql})")[0][0])
        wait_until("the engine in the middle of the completions", lambda: done() >= 20, timeout=60, interval=0.02)
        kill9("daprd-recurrence-engine")
        kill9("recurrence-engine")
        at_crash = done()
        print(f"\nkilled the engine after {at_crash} of {n} completions ({len(published)} published)")
        time.sleep(3)
    finally:
        stack("start", "recurrence-engine")
        stack("start", "daprd-recurrence-engine")
        publisher.join(120)
    assert len(published) == n
    assert at_crash < n, "the crash must happen while completions are outstanding"
    wait_until("all 200 completions processed after the restart", lambda: done() == n, timeout=120, interval=0.5)
    series = ",".join(f"'{x['series_id']}'" for x in tasks)
    rows = psql(f"select status, count(*) from tasks where series_id in ({series}) group by status order by status")
    assert rows == [["completed", str(n)], ["pending", str(n)]], rows
    per_series = psql(f"""select count(*) from tasks where series_id in ({series}) and status = 'pending'
                          and due_date = '{iso(due + timedelta(days=1))}'""")
    assert per_series == [[str(n)]]
