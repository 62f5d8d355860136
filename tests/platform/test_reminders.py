"""The reminder dispatcher (Dapr app id `notification`) end to end on the real test stack: the
Task API stores reminders and publishes task events; the dispatcher schedules one Dapr job per
reminder on the real scheduler, publishes v1.reminder.due on Kafka when it fires, and delivers
each reminder by email (Dapr SMTP binding → Mailpit) and push (Dapr MQTT binding → Mosquitto),
read back here through Mailpit's HTTP API and a real MQTT subscription."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from support.notify import (NOTIFICATION, NOTIFICATION_DAPR, PushInbox, deliveries, delivered, email_body, emails, job,
                            parse_time, publish_alert, reminders)
from support.stack import bulk_delivery, stack, wait_until, sidecar_headers
from support.taskapi import User, iso, psql, read_events


@pytest.fixture(scope="module", autouse=True)
def ready():
    r = requests.get(f"{NOTIFICATION}/healthz", timeout=30)
    assert r.status_code == 200 and r.json()["app_id"] == "notification", r.text


@pytest.fixture
def user() -> User:
    return User()


@pytest.fixture
def inbox(user):
    box = PushInbox(user)
    yield box
    box.close()


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def scheduled(task_id: str, offsets: list[str]) -> dict[str, dict]:
    """Waits until every listed reminder of the task has its job; the rows by offset."""
    def ready():
        rows = reminders(task_id)
        return rows if all(rows.get(o, {}).get("job_name") for o in offsets) else None
    return wait_until(f"jobs of {offsets}", ready, timeout=30)


def test_routes_answer_dapr_statuses():
    r = requests.post(f"{NOTIFICATION}/events/alerts", data=b"not json", timeout=10, headers=sidecar_headers())
    assert (r.status_code, r.json()) == (200, {"status": "DROP"})
    r = requests.post(f"{NOTIFICATION}/events/task-operations", data=b"{}", timeout=10, headers=sidecar_headers())
    assert (r.status_code, r.json()) == (200, {"status": "DROP"})
    other = {"id": "x", "specversion": "1.0", "source": "/t", "type": "v1.series.updated",
             "time": iso(now()), "datacontenttype": "application/json", "data": {}}
    r = requests.post(f"{NOTIFICATION}/events/task-modifications", json=other, timeout=10, headers=sidecar_headers())
    assert (r.status_code, r.json()) == (200, {"status": "SUCCESS"})
    # A trigger whose data does not match its name is acknowledged (retrying cannot help).
    r = requests.post(f"{NOTIFICATION}/job/reminder-{uuid.uuid4()}", json={"x": 1}, timeout=10, headers=sidecar_headers())
    assert r.status_code == 200 and r.json()["status"] == "ignored", r.text


def test_a_bulk_delivery_reconciles_its_tasks_together(user):
    """The task subscriptions deliver in bulk: the dispatcher reconciles every task a bulk names
    in one statement (a task named twice once), makes their job calls side by side, and answers
    one status per entry: SUCCESS for the tasks and for events that cannot touch reminders, DROP
    for poison. Jobs lost behind its back are scheduled again from the stored rows."""
    due = iso(now() + timedelta(hours=3))
    a = user.create(title="Bulk A", due_date=due, reminders=["PT1H", "PT0S"])
    b = user.create(title="Bulk B", due_date=due, reminders=["PT1H"])
    plain = user.create(title="Bulk plain", due_date=due)
    lost = {t["task_id"]: scheduled(t["task_id"], offs) for t, offs in ((a, ["PT1H", "PT0S"]), (b, ["PT1H"]))}
    # Lose every job of both tasks and their bookkeeping, as if the scheduler's data were gone.
    for rows in lost.values():
        for row in rows.values():
            requests.delete(f"{NOTIFICATION_DAPR}/v1.0-alpha1/jobs/{row['job_name']}", timeout=10)
            assert job(row["job_name"]) is None
    ids = ", ".join(f"'{t}'" for t in lost)
    psql(f"UPDATE reminders SET job_name = NULL, scheduled_for = NULL WHERE task_id IN ({ids})")

    def event(task: dict, etype: str, offsets: list[str]) -> dict:
        data = {"task_id": task["task_id"], "user_id": user.id, "series_id": None,
                "task": {"task_id": task["task_id"], "title": task["title"], "status": "pending", "version": 1,
                         "due_date": task["due_date"], "reminders": offsets}}
        return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/task-api", "type": etype,
                "time": iso(now()), "datacontenttype": "application/json", "data": data}

    poison = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/task-api", "type": "v1.task.updated",
              "time": iso(now()), "datacontenttype": "application/json", "data": {"task_id": "not-a-uuid"}}
    events = [event(a, "v1.task.created", ["PT1H", "PT0S"]), poison, event(plain, "v1.task.created", []),
              event(b, "v1.task.updated", ["PT1H"]), event(a, "v1.task.updated", ["PT1H", "PT0S"])]
    envelope = bulk_delivery(events, "task-modifications")
    url = f"{NOTIFICATION}/events/task-modifications"
    r = requests.post(url, json=envelope, timeout=30, headers=sidecar_headers())
    assert r.status_code == 200, r.text
    assert r.json() == {"statuses": [
        {"entryId": "e0", "status": "SUCCESS"}, {"entryId": "e1", "status": "DROP"},
        {"entryId": "e2", "status": "SUCCESS"}, {"entryId": "e3", "status": "SUCCESS"},
        {"entryId": "e4", "status": "SUCCESS"}]}
    # Done when the answer came: every reminder has its job again, at its time, and is recorded.
    for task_id, before in lost.items():
        after = reminders(task_id)
        assert set(after) == set(before)
        for offset, row in after.items():
            assert row["job_name"] == before[offset]["job_name"] and row["scheduled_for"] == row["remind_at"], row
            assert job(row["job_name"])["dueTime"].startswith(row["remind_at"][:19])
    # Without the app token the sidecar route refuses the bulk like a single event.
    assert requests.post(url, json=envelope, timeout=10).status_code == 401


def test_one_day_one_hour_and_at_due_reminders_arrive_by_email_and_push(user, inbox):
    lead = 10
    t0 = now()
    # Each task has all three reminders; its due date puts exactly one of them a few seconds ahead.
    day = user.create(title="Pay rent", due_date=iso(t0 + timedelta(days=1, seconds=lead)),
                      reminders=["P1D", "PT1H", "PT0S"])
    hour = user.create(title="Call Bob", due_date=iso(t0 + timedelta(hours=1, seconds=lead + 2)),
                       reminders=["P1D", "PT1H", "PT0S"])
    due = user.create(title="Ship it", due_date=iso(t0 + timedelta(seconds=lead + 4)),
                      reminders=["P1D", "PT1H", "PT0S"])
    expected = {
        "Reminder: Pay rent is due in 1 day": (day, "P1D"),
        "Reminder: Call Bob is due in 1 hour": (hour, "PT1H"),
        "Due now: Ship it": (due, "PT0S"),
    }
    mails, pushes = delivered(user, inbox, list(expected))
    for m in mails:
        task, offset = expected[m["Subject"]]
        row = reminders(task["task_id"])[offset]
        remind_at = parse_time(row["remind_at"])
        assert remind_at == parse_time(task["due_date"]) - {"P1D": timedelta(days=1), "PT1H": timedelta(hours=1),
                                                            "PT0S": timedelta(0)}[offset]
        assert row["status"] == "sent"
        body = email_body(m["ID"])
        assert task["title"] in body["Text"] and row["reminder_id"] in body["Text"], body["Text"]
        # Received by the sink at or after the reminder time, within the seed's one minute.
        received = parse_time(m["Created"])
        assert timedelta(0) <= received - remind_at < timedelta(minutes=1), (received, remind_at)
        d = deliveries(row["reminder_id"])
        assert {c: (v["status"], v["attempts"]) for c, v in d.items()} == {"email": ("sent", 1), "push": ("sent", 1)}
        for c in d.values():
            assert 0 <= c["lateness_ms"] < 60_000, d
    for arrived, p in pushes:
        task, offset = expected[p["title"]]
        row = reminders(task["task_id"])[offset]
        assert p["reminder_id"] == row["reminder_id"] and p["task_id"] == task["task_id"]
        assert 0 <= arrived - parse_time(row["remind_at"]).timestamp() < 60
    # The reminders already past when the tasks were created are recorded as missed, never sent.
    assert reminders(hour["task_id"])["P1D"]["status"] == "missed"
    assert {reminders(due["task_id"])[o]["status"] for o in ("P1D", "PT1H")} == {"missed"}
    # The later reminders of the first two tasks wait in their jobs.
    later = scheduled(day["task_id"], ["PT1H", "PT0S"])
    assert job(later["PT1H"]["job_name"])["dueTime"].startswith(later["PT1H"]["remind_at"][:19])
    time.sleep(2)
    assert len(emails(user)) == 3 and len(inbox.messages()) == 3
    # Deleting a task cancels its pending reminders and deletes their jobs.
    assert user.request("DELETE", f"/api/tasks/{day['task_id']}").status_code in (200, 204)
    wait_until("reminders of the deleted task cancelled",
               lambda: all(reminders(day["task_id"])[o]["status"] == "cancelled" and not
                           reminders(day["task_id"])[o]["job_name"] for o in ("PT1H", "PT0S")))
    assert job(later["PT1H"]["job_name"]) is None and job(later["PT0S"]["job_name"]) is None
    assert reminders(day["task_id"])["P1D"]["status"] == "sent"


def test_completing_a_task_first_sends_nothing_and_removes_its_jobs(user, inbox):
    lead = 20
    task = user.create(title="Water plants", due_date=iso(now() + timedelta(hours=1, seconds=lead)),
                       reminders=["PT1H", "PT0S"])
    rows = scheduled(task["task_id"], ["PT1H", "PT0S"])
    names = [rows[o]["job_name"] for o in ("PT1H", "PT0S")]
    assert all(job(n) is not None for n in names)
    r = user.request("POST", f"/api/tasks/{task['task_id']}/complete")
    assert r.status_code == 200, r.text
    wait_until("reminders cancelled and jobs deleted",
               lambda: all(v["status"] == "cancelled" and not v["job_name"]
                           for v in reminders(task["task_id"]).values()), timeout=15)
    assert all(job(n) is None for n in names)
    cancelled = [e for _, e in read_events("alerts") if e.get("type") == "v1.reminder.cancelled"
                 and e["data"].get("task_id") == task["task_id"]]
    assert sorted(e["data"]["reminder_id"] for e in cancelled) == sorted(rows[o]["reminder_id"] for o in rows)
    assert all(e["data"]["reason"] == "task completed" for e in cancelled)
    # Past the first reminder's time: nothing arrived on either channel.
    wait_until("the original reminder time", lambda: now() > parse_time(rows["PT1H"]["remind_at"]) + timedelta(seconds=4),
               timeout=lead + 10)
    assert emails(user) == [] and inbox.messages() == []
    assert all(deliveries(rows[o]["reminder_id"]) == {} for o in rows)


def test_moving_the_due_date_reschedules_within_5s_and_delivers_at_the_new_time(user, inbox):
    task = user.create(title="Dentist", due_date=iso(now() + timedelta(hours=3)), reminders=["PT1H", "PT0S"])
    before = scheduled(task["task_id"], ["PT1H", "PT0S"])
    new_due = now() + timedelta(hours=1, seconds=10)
    r = user.request("PATCH", f"/api/tasks/{task['task_id']}", json={"due_date": iso(new_due)})
    assert r.status_code == 200, r.text
    patched = time.monotonic()
    want = iso(new_due - timedelta(hours=1))

    def moved():
        rows = reminders(task["task_id"])
        return rows if rows["PT1H"]["scheduled_for"].startswith(want[:19]) else None
    rows = wait_until("the PT1H job rescheduled", moved, timeout=5, interval=0.05)
    took = time.monotonic() - patched
    assert took < 5, took
    assert rows["PT1H"]["reminder_id"] == before["PT1H"]["reminder_id"]
    assert rows["PT1H"]["job_name"] == before["PT1H"]["job_name"]
    assert job(rows["PT1H"]["job_name"])["dueTime"].startswith(want[:19])
    assert job(rows["PT0S"]["job_name"])["dueTime"].startswith(iso(new_due)[:19])
    # Delivered at the new time, not the old one.
    mail = wait_until("the email", lambda: (m := emails(user)) and m[0], timeout=40)
    assert mail["Subject"] == "Reminder: Dentist is due in 1 hour"
    remind_at = parse_time(want)
    assert timedelta(0) <= parse_time(mail["Created"]) - remind_at < timedelta(minutes=1)
    push = wait_until("the push", lambda: inbox.messages(), timeout=20)
    assert [p["remind_at"][:19] for _, p in push] == [want[:19]]
    d = deliveries(rows["PT1H"]["reminder_id"])
    assert {c: v["remind_at"][:19] for c, v in d.items()} == {"email": want[:19], "push": want[:19]}
    user.request("DELETE", f"/api/tasks/{task['task_id']}")


def test_email_to_a_stopped_smtp_sink_is_dead_lettered_while_push_arrives(user, inbox):
    stack("stop", "mailpit")
    try:
        task = user.create(title="Renew passport", due_date=iso(now() + timedelta(seconds=6)), reminders=["PT0S"])
        push = wait_until("the push", lambda: inbox.messages(), timeout=30)
        assert [p["title"] for _, p in push] == ["Due now: Renew passport"]
        rid = reminders(task["task_id"])["PT0S"]["reminder_id"]
        # Four attempts 5 s apart (Resiliency), then the event goes to alerts-dlq.
        d = wait_until("email attempts exhausted", lambda: (d := deliveries(rid))["email"]["attempts"] >= 4 and d,
                       timeout=45)
        assert d["email"]["status"] == "failed" and d["email"]["error"], d
        assert (d["push"]["status"], d["push"]["attempts"]) == ("sent", 1)
        dead = wait_until("the reminder in alerts-dlq",
                          lambda: [e for _, e in read_events("alerts-dlq")
                                   if e.get("data", {}).get("reminder_id") == rid], timeout=60, interval=1)
        assert dead[0]["type"] == "v1.reminder.due"
        assert len(inbox.messages()) == 1
    finally:
        stack("start", "mailpit")
    assert emails(user) == []


def test_the_same_alerts_event_twice_sends_one_email_and_one_push(user, inbox):
    task = user.create(title="Standup", due_date=iso(now() + timedelta(hours=2)), reminders=["PT0S"])
    row = scheduled(task["task_id"], ["PT0S"])["PT0S"]
    event = {"id": f"dup-{uuid.uuid4()}", "specversion": "1.0", "source": "/tests", "type": "v1.reminder.due",
             "time": iso(now()), "datacontenttype": "application/json",
             "data": {"reminder_id": row["reminder_id"], "task_id": task["task_id"], "user_id": user.id,
                      "remind_at": row["remind_at"]}}
    publish_alert(event, user.id)
    publish_alert(event, user.id)
    # And once more under another id, as a retried job trigger would.
    publish_alert({**event, "id": f"dup-{uuid.uuid4()}"}, user.id)
    wait_until("the email", lambda: emails(user), timeout=30)
    wait_until("the push", lambda: inbox.messages(), timeout=30)
    time.sleep(3)
    assert [m["Subject"] for m in emails(user)] == ["Due now: Standup"]
    assert [p["title"] for _, p in inbox.messages()] == ["Due now: Standup"]
    d = deliveries(row["reminder_id"])
    assert {c: (v["status"], v["attempts"]) for c, v in d.items()} == {"email": ("sent", 1), "push": ("sent", 1)}
    user.request("DELETE", f"/api/tasks/{task['task_id']}")


def test_poison_on_alerts_is_dead_lettered():
    marker = str(uuid.uuid4())
    publish_alert({"id": marker, "specversion": "1.0", "source": "/tests", "type": "v1.reminder.due",
                   "time": iso(now()), "datacontenttype": "application/json",
                   "data": {"reminder_id": "not-a-uuid", "remind_at": "soon", "user_id": "u"}}, "u")
    wait_until("the poison event in alerts-dlq",
               lambda: [e for _, e in read_events("alerts-dlq") if e.get("id") == marker], timeout=60, interval=1)


def test_a_reminder_whose_trigger_was_lost_is_announced_by_the_sweep(user, inbox):
    # The recurring safety-net job exists on the notification sidecar (scheduled at daprd start).
    sweep = job("sweep-reminders")
    assert sweep and sweep["schedule"] == "@every 30s", sweep
    # A reminder 12 s ahead whose job is then deleted: as if it fired while Kafka was down and
    # its failure policy (5 s × 3) ran out.
    t0 = now()
    task = user.create(title="Water plants", due_date=iso(t0 + timedelta(minutes=1, seconds=12)),
                       reminders=["PT1M"])
    row = scheduled(task["task_id"], ["PT1M"])["PT1M"]
    r = requests.delete(f"{NOTIFICATION_DAPR}/v1.0-alpha1/jobs/{row['job_name']}", timeout=10)
    assert r.status_code in (200, 204), r.text
    remind_at = parse_time(row["remind_at"])
    assert datetime.now(timezone.utc) < remind_at, "the job was deleted too late to count as lost"
    # The sweep announces it once it is SWEEP_AFTER (20 s) overdue; its next run is within 30 s.
    got = wait_until("the swept reminder's deliveries",
                     lambda: (d := deliveries(row["reminder_id"])) and all(
                         c.get("status") == "sent" for c in d.values()) and len(d) == 2 and d, timeout=120)
    assert all(d["lateness_ms"] >= 20_000 for d in got.values()), got  # the sweep, not the job
    subject = "Reminder: Water plants is due in 1 minute"
    wait_until("one email", lambda: [m for m in emails(user) if m["Subject"] == subject], timeout=30)
    time.sleep(3)
    assert len([m for m in emails(user) if m["Subject"] == subject]) == 1
    pushes = [m for _, m in inbox.messages() if m.get("reminder_id") == row["reminder_id"]]
    assert len(pushes) == 1, inbox.messages()
    assert reminders(task["task_id"])["PT1M"]["status"] == "sent"
