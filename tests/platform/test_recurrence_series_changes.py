"""The recurrence engine keeps its pre-creation jobs in line with series changes, on the real
test stack: rule edits ("all") and splits ("following") on task-modifications re-plan the chain
(next job scheduled, stale job cancelled), a stale job that still fires creates nothing,
deleting "following"/"all" cancels the pending job, and occurrences missed while the engine was
down are caught up when its sidecar starts (skipped and counted, none lost silently or doubled).

Series edits through the Task API land separately, so edits are written to the database here as
the Task API writes them and their `v1.task.updated` events (the agreed contract) are published
through the task-api's sidecar."""

from __future__ import annotations

import signal
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from support.engine import fast_forward, fire_at, get_job, job_name, lead
from support.stack import ENV, wait_until, sidecar_headers, app_url
from support.taskapi import User, future, iso, psql, restart_sidecar

ENGINE = app_url("recurrence-engine")
TASK_API_DAPR = f"http://127.0.0.1:{ENV['DAPR_HTTP_BASE']}"


@pytest.fixture
def user() -> User:
    return User()


def publish(topic: str, event: dict, key: str) -> None:
    r = requests.post(f"{TASK_API_DAPR}/v1.0/publish/pubsub/{topic}", params={"metadata.partitionKey": key},
                      json=event, headers={"content-type": "application/cloudevents+json"}, timeout=30)
    assert r.status_code == 204, r.text


def updated_event(user: User, task: dict, scope: str, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "specversion": "1.0", "source": "/task-api", "type": "v1.task.updated",
            "time": iso(datetime.now(timezone.utc)), "datacontenttype": "application/json",
            "data": {"task_id": task["task_id"], "user_id": user.id, "series_id": task["series_id"],
                     "scope": scope, "task": task, **extra}}


def modification_processed(event_id: str) -> bool:
    return psql(f"select count(*) from processed_events where consumer = 'recurrence-engine/task-modifications' "
                f"and event_id = '{event_id}'")[0][0] == "1"


def instances(series_id: str) -> list[str]:
    return [r[0] for r in psql(f"""select to_char(recurrence_id at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                                    from tasks where series_id = '{series_id}' order by recurrence_id""")]


def test_rule_change_of_all_reschedules_the_chain_and_a_stale_job_creates_nothing(user):
    due = future(2)
    t = user.create(title="gym", recurrence="daily", due_date=iso(due))
    old = job_name(t["series_id"], due + timedelta(days=1))
    wait_until("the job of the next daily occurrence", lambda: get_job(old), timeout=15)
    # The Task API's "all" edit: every other day from the same start.
    psql(f"update series set recurrence_pattern = 'FREQ=DAILY;INTERVAL=2', updated_at = now() "
         f"where series_id = '{t['series_id']}'")
    # The pending instance still names the old rule's next occurrence: its job is the stale one
    # to cancel (were it rewritten, the stale job would only be ignored when it fires, below).
    psql(f"update tasks set recurrence_pattern = 'FREQ=DAILY;INTERVAL=2' where task_id = '{t['task_id']}'")
    e = updated_event(user, t, "all", rule_changed=True)
    publish("task-modifications", e, user.id)
    wait_until("the edit processed", lambda: modification_processed(e["id"]), timeout=20)
    new = job_name(t["series_id"], due + timedelta(days=2))
    job = wait_until("the job of the new next occurrence", lambda: get_job(new), timeout=10)
    assert job["dueTime"] == iso(fire_at(t["series_id"], due + timedelta(days=2))), job
    assert get_job(old) is None, "the job of the old rule's occurrence is cancelled"
    # A stale job that still fires (e.g. the cancel was lost) does nothing.
    stale = {"series_id": t["series_id"], "occurrence": iso(due + timedelta(days=1))}
    r = requests.post(f"{ENGINE}/job/{old}", json=stale, timeout=30, headers=sidecar_headers())
    assert r.status_code == 200 and r.json()["status"] == "ignored", r.text
    fast_forward(old, stale)
    # The new rule's job fires too, so once its instance exists the stale trigger has run.
    fast_forward(new, job["data"]["value"])
    wait_until("the new rule's instance", lambda: iso(due + timedelta(days=2)) in instances(t["series_id"]),
               timeout=20)
    wait_until("the stale job fired", lambda: get_job(old) is None, timeout=10)
    assert instances(t["series_id"]) == [iso(due), iso(due + timedelta(days=2))]
    # Redelivery of the same edit changes nothing.
    publish("task-modifications", e, user.id)
    e2 = updated_event(user, t, "all", rule_changed=True)
    publish("task-modifications", e2, user.id)
    wait_until("a later edit processed", lambda: modification_processed(e2["id"]), timeout=20)
    assert instances(t["series_id"]) == [iso(due), iso(due + timedelta(days=2))]


def test_split_of_following_schedules_the_new_series_and_the_old_one_stops(user):
    due = future(2)
    t = user.create(title="piano", recurrence="daily", due_date=iso(due), reminders=["PT15M"])
    old_job = job_name(t["series_id"], due + timedelta(days=1))
    wait_until("the job of the next daily occurrence", lambda: get_job(old_job), timeout=15)
    # The Task API's "this and following" edit of the instance at `due`, moved to 10:00: a new
    # series owns it from there, the old one ends before it.
    moved = due + timedelta(hours=1)
    new_sid = str(uuid.uuid4())
    psql(f"""insert into series (series_id, user_id, title, description, priority, recurrence_pattern, tzid,
                                 start_at, dtstart_local, end_date, mode)
             select '{new_sid}', user_id, title, description, priority, recurrence_pattern, tzid,
                    '{iso(moved)}', '{moved.strftime('%Y-%m-%dT%H:%M:%S')}', null, mode
             from series where series_id = '{t['series_id']}';
             update tasks set series_id = '{new_sid}', due_date = '{iso(moved)}', recurrence_id = '{iso(moved)}',
                    upcoming_occurrence = '{iso(moved + timedelta(days=1))}' where task_id = '{t['task_id']}';
             update series set end_date = '{iso(due - timedelta(seconds=1))}' where series_id = '{t['series_id']}'""")
    e = updated_event(user, {**t, "series_id": t["series_id"]}, "following", rule_changed=True,
                      new_series_id=new_sid)
    publish("task-modifications", e, user.id)
    wait_until("the split processed", lambda: modification_processed(e["id"]), timeout=20)
    new_job = job_name(new_sid, moved + timedelta(days=1))
    job = wait_until("the new series' job", lambda: get_job(new_job), timeout=10)
    # The moved instance keeps its 15-minute reminder: the lead is that plus the margin.
    assert job["dueTime"] == iso(fire_at(new_sid, moved + timedelta(days=1), lead(timedelta(minutes=15)))), job
    # The old series' job fires for an occurrence past its end: nothing is created.
    fast_forward(old_job, {"series_id": t["series_id"], "occurrence": iso(due + timedelta(days=1))})
    fast_forward(new_job, job["data"]["value"])
    wait_until("the new series' instance", lambda: len(instances(new_sid)) == 2, timeout=20)
    wait_until("the old series' job fired", lambda: get_job(old_job) is None, timeout=10)
    assert instances(new_sid) == [iso(moved), iso(moved + timedelta(days=1))]
    assert instances(t["series_id"]) == []


def test_deleting_all_or_following_cancels_the_pending_job(user):
    for scope in ("all", "following"):
        due = future(3)
        t = user.create(title=f"delete {scope}", recurrence="daily", due_date=iso(due))
        name = job_name(t["series_id"], due + timedelta(days=1))
        wait_until("the pending job", lambda: get_job(name), timeout=15)
        r = user.request("DELETE", f"/api/tasks/{t['task_id']}", params={"scope": scope, "confirm": "true"})
        assert r.status_code in (200, 204), r.text
        wait_until(f"the job cancelled after delete {scope}", lambda: get_job(name) is None, timeout=20)


def test_missed_occurrences_are_caught_up_when_the_engine_starts(user):
    """An hourly series whose jobs were lost while the engine was down: its latest instance is
    4 hours old. When the engine's sidecar starts, the three occurrences that passed are skipped
    and counted, the one due in 10 minutes is created at once, and a second catch-up changes
    nothing."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    t0 = now + timedelta(minutes=10) - timedelta(hours=4)
    sid, tid = str(uuid.uuid4()), str(uuid.uuid4())
    psql(f"""insert into series (series_id, user_id, title, recurrence_pattern, tzid, start_at, dtstart_local, mode)
             values ('{sid}', '{user.id}', 'hourly check', 'FREQ=HOURLY', 'UTC', '{iso(t0)}',
                     '{t0.strftime('%Y-%m-%dT%H:%M:%S')}', 'fixed');
             insert into tasks (task_id, series_id, user_id, title, due_date, is_recurring, recurrence_id,
                                recurrence_pattern, upcoming_occurrence)
             values ('{tid}', '{sid}', '{user.id}', 'hourly check', '{iso(t0)}', true, '{iso(t0)}', 'FREQ=HOURLY',
                     '{iso(t0 + timedelta(hours=1))}');
             insert into reminders (reminder_id, task_id, user_id, offset_text, offset_secs, remind_at)
             values (gen_random_uuid(), '{tid}', '{user.id}', 'PT5M', 300, '{iso(t0 - timedelta(minutes=5))}')""")
    restart_sidecar(signal.SIGTERM, app="recurrence-engine")
    due_next = t0 + timedelta(hours=4)
    wait_until("the caught-up instance", lambda: iso(due_next) in instances(sid), timeout=60, interval=0.5)
    assert instances(sid) == [iso(t0), iso(due_next)]
    assert psql(f"select missed_occurrences from series where series_id = '{sid}'") == [["3"]]
    # Generated in the sweep's batch like a pre-creation: the reminders of the previous
    # instance, and its v1.task.created and v1.reminder.planned events published.
    assert psql(f"""select r.offset_text, to_char(r.remind_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                    from reminders r join tasks t on t.task_id = r.task_id
                    where t.series_id = '{sid}' and t.recurrence_id = '{iso(due_next)}'""") == [
        ["PT5M", iso(due_next - timedelta(minutes=5))]]
    wait_until("its events published", lambda: psql(
        f"select string_agg(type, ',' order by type) from outbox where series_id = '{sid}' "
        f"and published_at is not null") == [["v1.reminder.planned,v1.task.created"]], timeout=30)
    following = job_name(sid, due_next + timedelta(hours=1))
    job = wait_until("the chain continues", lambda: get_job(following), timeout=15)
    assert job["dueTime"] == iso(fire_at(sid, due_next + timedelta(hours=1))), job
    # Another catch-up runs (a one-shot catch-up job, as a full page continues): nothing is
    # counted or created twice.
    runs = lambda: int(psql("select coalesce((select runs from jobs where name = 'recurrence-catchup-more-test'), 0)")[0][0])
    before = runs()
    fast_forward("recurrence-catchup-more-test", {})
    wait_until("another catch-up run", lambda: runs() > before, timeout=30)
    assert instances(sid) == [iso(t0), iso(due_next)]
    assert psql(f"select missed_occurrences from series where series_id = '{sid}'") == [["3"]]
