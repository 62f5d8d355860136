"""Every due reminder ends `sent` once per channel, or visibly `dead`, across failures, crashes
and outages (the real stack: Mailpit stopped and started, claims left by a crashed holder,
triggers lost in an outage)."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import datetime, timedelta, timezone

from support.notify import deliveries, emails, reminders
from support.stack import ROOT, STACK, stack, wait_until
from support.taskapi import User, iso, psql


def soon(seconds: int) -> datetime:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).replace(microsecond=0)


def test_a_failed_email_is_delivered_once_the_mail_server_is_back():
    """Guards: a channel that failed (SMTP down longer than the subscription's four deliveries)
    stayed `failed` for ever: the sweep only looked at reminders with no delivery row. The sweep
    now claims it again after its backoff; the email arrives once, the push once."""
    user = User()
    stack("stop", "mailpit")
    try:
        task = user.create(title="mail server outage", due_date=iso(soon(12)), reminders=["PT0S"])
        rid = reminders(task["task_id"])["PT0S"]["reminder_id"]
        wait_until("email failed and push sent", lambda: (
            (d := deliveries(rid)).get("email", {}).get("status") == "failed"
            and d.get("push", {}).get("status") == "sent") or None, 60)
        time.sleep(20)  # past the subscription's own redeliveries (4 × 5 s)
        assert deliveries(rid)["email"]["status"] == "failed"
    finally:
        stack("start", "mailpit")
    wait_until("email delivered by the sweep", lambda: deliveries(rid)["email"]["status"] == "sent" or None, 150)
    d = deliveries(rid)
    assert d["email"]["attempts"] >= 2 and d["push"]["status"] == "sent", d
    assert [m["Subject"] for m in emails(user)] == ["Due now: mail server outage"]


def test_a_claim_younger_than_the_sidecar_timeout_is_not_taken_over():
    """Guards: the 15 s claim lease was shorter than a sidecar call may take (30 s), so a slow
    send was claimed again and the email went out twice. A claim is now taken over only after 90 s
    (its holder crashed), by the delivery or by the sweep, and then delivered once."""
    user = User()
    task = user.create(title="slow holder", due_date=iso(soon(10)), reminders=["PT0S"])
    r = reminders(task["task_id"])["PT0S"]
    # Another attempt claimed the email 40 s ago and is still sending (or crashed).
    psql("insert into reminder_deliveries (reminder_id, remind_at, channel, status, attempts, claimed_at, event_id) "
         f"values ('{r['reminder_id']}', '{r['remind_at']}', 'email', 'sending', 1, now() - interval '40 seconds', 'held')")
    wait_until("push sent", lambda: deliveries(r["reminder_id"]).get("push", {}).get("status") == "sent" or None, 60)
    time.sleep(10)
    assert deliveries(r["reminder_id"])["email"]["status"] == "sending"
    assert emails(user) == [], "a claim inside its lease is not taken over"
    # The holder is gone: past the lease, the sweep takes the claim over.
    psql(f"update reminder_deliveries set claimed_at = now() - interval '100 seconds' "
         f"where reminder_id = '{r['reminder_id']}' and channel = 'email'")
    wait_until("email delivered after the lease", lambda: deliveries(r["reminder_id"])["email"]["status"] == "sent"
               or None, 90)
    assert [m["Subject"] for m in emails(user)] == ["Due now: slow holder"]


def test_a_reminder_whose_trigger_was_lost_in_a_long_outage_arrives_marked_late():
    """Guards: a scheduled reminder whose trigger was lost more than 10 minutes ago (an outage of
    Kafka or the sidecar) was never swept and so silently dropped. It is now delivered, marked
    late, up to a day after its time."""
    user = User()
    task = user.create(title="after the outage", due_date=iso(soon(7200)), reminders=["PT1H"])
    r = wait_until("scheduled", lambda: (x := reminders(task["task_id"])["PT1H"])["scheduled_for"] and x, 60)
    # Fast-forward: its time was 30 minutes ago and its trigger never came.
    psql(f"update reminders set remind_at = now() - interval '30 minutes', scheduled_for = now() - interval '30 minutes' "
         f"where reminder_id = '{r['reminder_id']}'")
    wait_until("late email", lambda: emails(user) or None, 90)
    subjects = [m["Subject"] for m in emails(user)]
    assert subjects == ["Late: Reminder: after the outage is due in 1 hour"], subjects
    wait_until("both channels sent", lambda: all(
        d["status"] == "sent" for d in deliveries(r["reminder_id"]).values()) and len(deliveries(r["reminder_id"])) == 2
        or None, 60)


def test_a_channel_that_keeps_failing_is_dead_and_listed():
    """After its attempts a channel is `dead` (not retried, not silently `failed`), listed by
    scripts/dlq.sh reminders, and a replay gives it its attempts again."""
    user = User()
    task = user.create(title="dead letter", due_date=iso(soon(7200)), reminders=["PT1H"])
    r = reminders(task["task_id"])["PT1H"]
    psql("insert into reminder_deliveries (reminder_id, remind_at, channel, status, attempts, claimed_at, event_id, last_error) "
         f"values ('{r['reminder_id']}', '{r['remind_at']}', 'email', 'dead', 12, now(), 'x', 'mailbox unavailable')")
    env = {**os.environ, "STACK": STACK}
    out = subprocess.run(["bash", str(ROOT / "scripts/dlq.sh"), "list", "reminders"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and r["reminder_id"] in out.stdout and "mailbox unavailable" in out.stdout, out
    out = subprocess.run(["bash", str(ROOT / "scripts/dlq.sh"), "replay", "reminders", r["reminder_id"]], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "replayed=1" in out.stdout, out
    assert deliveries(r["reminder_id"])["email"]["status"] == "failed"
    psql(f"delete from reminder_deliveries where reminder_id = '{r['reminder_id']}'")
