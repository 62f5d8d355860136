"""The recurrence engine on the real test stack: its task-operations consumer (Kafka → its own
daprd → wasmtime → PostgreSQL through the tasks-db binding) keeps the next instance of a
completed recurring task in existence, idempotently, and dead-letters poison events.

Events are published through the task-api's sidecar (application/cloudevents+json keeps the id),
so tests can deliver a completion whose next instance is missing, or the same event twice."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from support.engine import fire_at, get_job, lead as precreate_lead
from support.notify import reminders
from support.stack import ENV, app_url, bulk_delivery, sidecar_headers, stack, wait_until
from support.taskapi import User, future, iso, psql, read_events

ENGINE = app_url("recurrence-engine")
TASK_API_DAPR = f"http://127.0.0.1:{ENV['DAPR_HTTP_BASE']}"
ENGINE_DAPR = f"http://127.0.0.1:{int(ENV['DAPR_HTTP_BASE']) + 1}"
CONSUMER = "recurrence-engine/task-operations"


@pytest.fixture(scope="module", autouse=True)
def ready():
    r = requests.get(f"{ENGINE}/healthz", timeout=30)
    assert r.status_code == 200 and r.json()["app_id"] == "recurrence-engine", r.text


@pytest.fixture
def user() -> User:
    return User()


def publish(event: dict, key: str) -> None:
    r = requests.post(f"{TASK_API_DAPR}/v1.0/publish/pubsub/task-operations",
                      params={"metadata.partitionKey": key}, json=event,
                      headers={"content-type": "application/cloudevents+json"}, timeout=30)
    assert r.status_code == 204, r.text


def completed_event(user: User, task: dict, event_id: str | None = None, **data) -> dict:
    payload = {"task_id": task["task_id"], "user_id": user.id, "series_id": task.get("series_id"),
               "task": {**task, "status": "completed"}, **data}
    return {"id": event_id or str(uuid.uuid4()), "specversion": "1.0", "source": "/tests",
            "type": "v1.task.completed", "time": iso(datetime.now(timezone.utc)),
            "datacontenttype": "application/json", "data": payload}


def complete_without_next(task_id: str) -> None:
    """A completion whose next instance was never written (the case the engine repairs)."""
    psql(f"update tasks set status = 'completed', completed_at = now(), version = version + 1 "
         f"where task_id = '{task_id}'")


def job_name(series_id: str, occurrence: datetime) -> str:
    return f"precreate-{series_id}-{occurrence.astimezone(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}"


def processed(event_id: str) -> int:
    return int(psql(f"select count(*) from processed_events where consumer = '{CONSUMER}' "
                    f"and event_id = '{event_id}'")[0][0])


def series_rows(series_id: str) -> list[tuple[str, str]]:
    """(status, due date in UTC) of every instance of a series, by due date."""
    rows = psql(f"""select status, to_char(due_date at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                    from tasks where series_id = '{series_id}' order by due_date""")
    return [(r[0], r[1]) for r in rows]


def completion_event_id(task_id: str) -> str:
    rows = psql(f"select event_id from outbox where task_id = '{task_id}' and type = 'v1.task.completed'")
    assert len(rows) == 1, rows
    return rows[0][0]


def test_engine_routes_answer_dapr_statuses():
    r = requests.post(f"{ENGINE}/events/task-operations", data=b"not json", timeout=30, headers=sidecar_headers())
    assert r.status_code == 200 and r.json() == {"status": "DROP"}
    other = {"id": "x", "specversion": "1.0", "source": "/tests", "type": "v1.task.updated",
             "time": "2026-11-26T08:00:00Z", "datacontenttype": "application/json", "data": {}}
    r = requests.post(f"{ENGINE}/events/task-operations", json=other,
                      headers={**sidecar_headers(), "content-type": "application/cloudevents+json"}, timeout=30)
    assert r.status_code == 200 and r.json() == {"status": "SUCCESS"}


def test_completion_without_next_instance_gets_one(user):
    due = future(2)
    t = user.create(title="water plants", recurrence="daily", due_date=iso(due), reminders=["PT1H"])
    complete_without_next(t["task_id"])
    event = completed_event(user, t)
    start = time.monotonic()
    publish(event, user.id)
    wait_until("the next instance", lambda: ("pending", iso(due + timedelta(days=1))) in series_rows(t["series_id"]),
               timeout=15, interval=0.05)
    print(f"\nengine: publish -> next instance row {1000 * (time.monotonic() - start):.0f} ms")
    assert series_rows(t["series_id"]) == [("completed", iso(due)), ("pending", iso(due + timedelta(days=1)))]
    assert processed(event["id"]) == 1
    nxt = user.request("GET", "/api/tasks", params={"series_id": t["series_id"], "status": "pending"}).json()["items"]
    assert len(nxt) == 1 and nxt[0]["reminders"] == ["PT1H"] and nxt[0]["title"] == "water plants"
    assert nxt[0]["upcoming_occurrence"] == iso(due + timedelta(days=2))
    # Its v1.task.created event is published by the engine (or the outbox sweep) and marked.
    wait_until("the created event published", lambda: psql(
        f"select count(*) from outbox where task_id = '{nxt[0]['task_id']}' and type = 'v1.task.created' "
        f"and published_at is not null")[0][0] == "1", timeout=30)


def test_a_bulk_delivery_handles_each_users_events_in_order_and_answers_each_entry():
    """A bulk of task-operations for two users (entries interleaved, as one partition holds many
    users): each completion gets its next instance, a user's second event for the same
    completion adds none, poison is DROP, and every entry has its status."""
    a, b = User(), User()
    due = future(2)
    ta = a.create(title="bulk a", recurrence="daily", due_date=iso(due))
    tb = b.create(title="bulk b", recurrence="daily", due_date=iso(due))
    for t in (ta, tb):
        complete_without_next(t["task_id"])
    ea, eb = completed_event(a, ta), completed_event(b, tb)
    again = completed_event(a, ta)  # another event id for the same completion
    events = [ea, eb, {"specversion": "1.0", "id": "poison", "source": "/tests", "type": "v1.task.completed",
                       "time": iso(datetime.now(timezone.utc)), "datacontenttype": "application/json",
                       "data": {"task_id": "not-a-uuid", "user_id": a.id}}, again]
    envelope = bulk_delivery(events, "task-operations")
    url = f"{ENGINE}/events/task-operations"
    r = requests.post(url, json=envelope, timeout=60, headers=sidecar_headers())
    assert r.status_code == 200, r.text
    assert r.json() == {"statuses": [
        {"entryId": "e0", "status": "SUCCESS"}, {"entryId": "e1", "status": "SUCCESS"},
        {"entryId": "e2", "status": "DROP"}, {"entryId": "e3", "status": "SUCCESS"}]}
    for t in (ta, tb):
        assert series_rows(t["series_id"]) == [("completed", iso(due)), ("pending", iso(due + timedelta(days=1)))]
    assert processed(ea["id"]) == 1 and processed(eb["id"]) == 1 and processed(again["id"]) == 1
    # Without the app token the sidecar route refuses the bulk like a single event.
    assert requests.post(url, json=envelope, timeout=10).status_code == 401


def test_duplicated_completion_event_yields_exactly_one_next_instance(user):
    due = future(3)
    t = user.create(title="standup", recurrence="daily", due_date=iso(due))
    complete_without_next(t["task_id"])
    event = completed_event(user, t)
    publish(event, user.id)
    publish(event, user.id)
    # Another event id for the same completion (a second producer) must not add one either.
    other = completed_event(user, t)
    publish(other, user.id)
    # Same partition key = same partition: once the marker is processed, so are the three above.
    marker_task = user.create(title="marker", recurrence="daily", due_date=iso(future(4)))
    complete_without_next(marker_task["task_id"])
    marker = completed_event(user, marker_task)
    publish(marker, user.id)
    wait_until("the marker processed", lambda: processed(marker["id"]) == 1, timeout=20)
    assert processed(event["id"]) == 1 and processed(other["id"]) == 1
    assert series_rows(t["series_id"]) == [("completed", iso(due)), ("pending", iso(due + timedelta(days=1)))]


@pytest.mark.parametrize("mode", ["fixed", "from_completion"])
def test_engine_agrees_with_the_task_api_completion(user, mode):
    due = future(2)
    t = user.create(title="review", recurrence="daily", due_date=iso(due), mode=mode)
    start = time.monotonic()
    r = user.request("POST", f"/api/tasks/{t['task_id']}/complete")
    assert r.status_code == 200, r.text
    event_id = completion_event_id(t["task_id"])
    wait_until("the completion processed", lambda: processed(event_id) == 1, timeout=15, interval=0.05)
    print(f"\nengine ({mode}): complete request -> event processed {1000 * (time.monotonic() - start):.0f} ms")
    rows = series_rows(t["series_id"])
    assert sorted(s for s, _ in rows) == ["completed", "pending"], rows
    if mode == "fixed":
        assert rows[1][1] == iso(due + timedelta(days=1))


def test_completing_the_last_occurrence_completes_the_series(user):
    due = future(2)
    t = user.create(title="course", recurrence="daily", due_date=iso(due),
                    recurrence_end_date=iso(due + timedelta(hours=1)))
    assert user.request("POST", f"/api/tasks/{t['task_id']}/complete").status_code == 200
    event_id = completion_event_id(t["task_id"])
    wait_until("the completion processed", lambda: processed(event_id) == 1, timeout=15)
    assert series_rows(t["series_id"]) == [("completed", iso(due))]
    series = user.request("GET", f"/api/series/{t['series_id']}").json()
    assert series["completed_at"], series


def test_poison_events_go_to_the_dead_letter_topic(user):
    bad_data = completed_event(user, {"task_id": "not-a-uuid", "series_id": str(uuid.uuid4())})
    unknown = completed_event(user, {"task_id": str(uuid.uuid4()), "series_id": str(uuid.uuid4())})
    for e in (bad_data, unknown):
        publish(e, user.id)

    def dead_lettered():
        ids = {e.get("id") for _, e in read_events("task-events-dlq", timeout_ms=8000)}
        return {bad_data["id"], unknown["id"]} <= ids

    wait_until("both poison events on task-events-dlq", dead_lettered, timeout=90, interval=1)
    assert processed(bad_data["id"]) == processed(unknown["id"]) == 0


def test_database_outage_is_retried_not_dropped(user):
    """With PostgreSQL down the consumer answers RETRY; Dapr redelivers (resiliency: 5 s apart)
    and the next instance appears once the database is back."""
    due = future(5)
    t = user.create(title="backup", recurrence="daily", due_date=iso(due))
    # Its v1.task.created is handled first (the pre-creation job of the next occurrence exists),
    # so the outage hits the completion below.
    following = job_name(t["series_id"], due + timedelta(days=1))
    wait_until("the pre-creation job", lambda: requests.get(
        f"{ENGINE_DAPR}/v1.0-alpha1/jobs/{following}", timeout=10).status_code == 200, timeout=15)
    complete_without_next(t["task_id"])
    event = completed_event(user, t)
    stack("stop", "postgres")
    try:
        publish(event, user.id)
        time.sleep(2)
    finally:
        stack("start", "postgres")
    wait_until("the next instance after the outage",
               lambda: ("pending", iso(due + timedelta(days=1))) in series_rows(t["series_id"]), timeout=40)
    assert processed(event["id"]) == 1
    assert series_rows(t["series_id"]) == [("completed", iso(due)), ("pending", iso(due + timedelta(days=1)))]


def test_precreation_job_creates_the_instance_15_minutes_ahead_with_a_reminder_event(user):
    """An hourly series whose next occurrence is 15 min + a few seconds away: the engine's job
    (due 15 min before, minus the series' herd offset, so already due) fires in seconds, creates that instance, publishes v1.reminder.planned on alerts and schedules
    the job of the occurrence after it. A replayed trigger changes nothing."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    due = now - timedelta(minutes=45) + timedelta(seconds=6)
    occurrence = due + timedelta(hours=1)
    t = user.create(title="stretch", recurrence="FREQ=HOURLY", due_date=iso(due), reminders=["PT10M"])
    assert t["upcoming_occurrence"] == iso(occurrence)
    # Due 15 min before the occurrence minus the herd offset: already past, so in 1 s.
    fire_mono = time.monotonic() + max(
        (fire_at(t["series_id"], occurrence) - datetime.now(timezone.utc)).total_seconds(), 1)
    wait_until("the pre-created instance", lambda: ("pending", iso(occurrence)) in series_rows(t["series_id"]),
               timeout=40, interval=0.1)
    print(f"\nengine: job due -> pre-created instance {1000 * (time.monotonic() - fire_mono):.0f} ms")
    assert series_rows(t["series_id"]) == [("pending", iso(due)), ("pending", iso(occurrence))]
    name = job_name(t["series_id"], occurrence)
    assert int(psql(f"select count(*) from processed_events where consumer = 'recurrence-engine/precreate' "
                    f"and event_id = '{name}'")[0][0]) == 1
    created = user.request("GET", "/api/tasks", params={"series_id": t["series_id"], "status": "pending"}).json()["items"]
    new = next(x for x in created if x["due_date"] == iso(occurrence))
    assert new["reminders"] == ["PT10M"] and new["upcoming_occurrence"] == iso(occurrence + timedelta(hours=1))

    following = job_name(t["series_id"], occurrence + timedelta(hours=1))
    job = wait_until("the following job", lambda: (r := requests.get(
        f"{ENGINE_DAPR}/v1.0-alpha1/jobs/{following}", timeout=10)).status_code == 200 and r.json(), timeout=15)
    assert job["dueTime"] == iso(fire_at(t["series_id"], occurrence + timedelta(hours=1))), job
    assert job["data"]["value"] == {"series_id": t["series_id"], "occurrence": iso(occurrence + timedelta(hours=1))}, job

    def reminder_published():
        return [e for _, e in read_events("alerts", timeout_ms=8000)
                if e.get("type") == "v1.reminder.planned" and e["data"]["task_id"] == new["task_id"]]

    (alert,) = wait_until("v1.reminder.planned on alerts", reminder_published, timeout=90, interval=1)
    assert alert["data"]["task"]["due_date"] == iso(occurrence) and alert["source"] == "/recurrence-engine"

    replay = requests.post(f"{ENGINE}/job/{name}", timeout=30,
                           json={"series_id": t["series_id"], "occurrence": iso(occurrence)}, headers=sidecar_headers())
    assert replay.status_code == 200, replay.text
    assert series_rows(t["series_id"]) == [("pending", iso(due)), ("pending", iso(occurrence))]
    bogus = requests.post(f"{ENGINE}/job/{name}", timeout=30, json={"series_id": "x"}, headers=sidecar_headers())
    assert bogus.status_code == 200 and bogus.json()["status"] == "ignored"


def test_reminders_longer_than_the_lead_move_the_precreation_so_they_are_scheduled_not_missed(user):
    """A daily series with reminders PT1H and P1D: the next instance must exist before its
    one-day reminder is due (with the 15-minute lead it would only be created 23 h 45 min
    later, its P1D and PT1H reminders already past and recorded as missed). The engine's job of
    that occurrence is due one day and 5 minutes (plus the herd offset) before it, so here
    already: the instance is created within seconds and the dispatcher schedules both of its
    reminders. The job of the occurrence after it keeps the same name and lead."""
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    due = t0 + timedelta(seconds=150)
    occurrence = due + timedelta(days=1)
    t = user.create(title="water the garden", recurrence="daily", due_date=iso(due), reminders=["PT1H", "P1D"])
    assert t["upcoming_occurrence"] == iso(occurrence)
    wait_until("the next instance, a day ahead", lambda: ("pending", iso(occurrence)) in series_rows(t["series_id"]),
               timeout=40, interval=0.2)
    (created_at, task_id), = psql(f"""select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), task_id
                                      from tasks where series_id = '{t["series_id"]}' and recurrence_id = '{iso(occurrence)}'""")
    one_day = occurrence - timedelta(days=1)
    assert datetime.fromisoformat(created_at.replace("Z", "+00:00")) < one_day, (created_at, one_day)

    def both_scheduled():
        rows = reminders(task_id)
        return rows if {o: (r["status"], bool(r["job_name"])) for o, r in rows.items()} == {
            "P1D": ("pending", True), "PT1H": ("pending", True)} else None
    rows = wait_until("both reminders of the new instance scheduled", both_scheduled, timeout=30, interval=0.5)
    assert rows["P1D"]["remind_at"].startswith(iso(one_day)[:19]), rows
    assert rows["PT1H"]["remind_at"].startswith(iso(occurrence - timedelta(hours=1))[:19]), rows
    # The chain continues under the deterministic name, one day and 5 minutes (+ herd offset) ahead.
    following = occurrence + timedelta(days=1)
    job = wait_until("the following job", lambda: get_job(job_name(t["series_id"], following)), timeout=15)
    assert job["dueTime"] == iso(fire_at(t["series_id"], following,
                                         precreate_lead(timedelta(hours=1), timedelta(days=1)))), job
    assert job["data"]["value"] == {"series_id": t["series_id"], "occurrence": iso(following)}, job


def test_lengthening_a_reminder_moves_the_next_precreation_job_earlier(user):
    """The job of a series' next occurrence was scheduled with the lead of the latest instance's
    reminders (none: 15 minutes). Giving the instance a one-day reminder re-plans the series:
    the same job, due a day and 5 minutes (plus the herd offset) before the occurrence, so the
    next instance and its one-day reminder are created in time."""
    due = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0)
    t = user.create(title="renew the passport", recurrence="daily", due_date=iso(due))
    nxt = due + timedelta(days=1)
    name = job_name(t["series_id"], nxt)
    job = wait_until("the next occurrence's job", lambda: get_job(name), timeout=30)
    assert job["dueTime"] == iso(fire_at(t["series_id"], nxt)), job
    r = user.request("PATCH", f"/api/tasks/{t['task_id']}", params={"scope": "all"}, json={"reminders": ["P1D"]})
    assert r.status_code == 200, r.text
    earlier = iso(fire_at(t["series_id"], nxt, precreate_lead(timedelta(days=1))))
    moved = wait_until("the job moved a day earlier",
                       lambda: (j := get_job(name)) and j["dueTime"] == earlier and j, timeout=30)
    assert moved["data"]["value"] == {"series_id": t["series_id"], "occurrence": iso(nxt)}, moved

