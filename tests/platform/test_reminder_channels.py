"""Reminders reach a real user on the user's own channels only, on the real test stack.

Email goes to the address the user set in the settings, else to the token's `email` claim the
Task API recorded; never to an address made up from the user id. Push goes to a topic derived
from the exact user id (SHA-256), so ids that a character mapping would merge (`a@b`, `a_b`)
never share a channel, and the broker (Mosquitto's dynamic-security plugin) lets only the
credentials the Task API issued to that user subscribe to it."""

from __future__ import annotations

import subprocess
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from pathlib import Path

from support.notify import (MAILPIT, MQTT_PORT, NOTIFICATION, PushInbox, deliveries, emails, mqtt_subscribe,
                            push_credentials, push_topic, reminders)
from support.stack import wait_until
from support.taskapi import BASE, User, future, iso, psql, token

SETTINGS = "/api/users/me/settings"
PROBLEM = "https://todo.example/problems/"


@pytest.fixture(scope="module", autouse=True)
def ready():
    r = requests.get(f"{NOTIFICATION}/healthz", timeout=30)
    assert r.status_code == 200 and r.json()["app_id"] == "notification", r.text


def soon(seconds: int) -> str:
    return iso(datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=seconds))


def sent_reminder(task: dict) -> dict:
    """Waits until the task's at-due reminder has a recorded email and push outcome."""
    rid = reminders(task["task_id"])["PT0S"]["reminder_id"]
    return wait_until("both channels recorded",
                      lambda: d if {"email", "push"} <= set(d := deliveries(rid)) and
                      all(c["status"] != "sending" for c in d.values()) else None, timeout=60)


def test_users_whose_ids_collided_under_the_old_mapping_each_get_only_their_own_reminder():
    """Guards against one user's reminders reaching another: `a@b…` and `a_b…` were both mapped
    to `a_b…@users.todo.local` and `todo/reminders/a_b…`. A takes the address from the token's
    email claim, B from the settings; each gets exactly its own email and push, and nothing goes
    to the old made-up address."""
    suffix = uuid.uuid4().hex[:8]
    a = User(f"a@b-{suffix}", email=f"alice-{suffix}@example.com")
    b = User(f"a_b-{suffix}", email=False)
    r = b.request("PUT", SETTINGS, json={"default_reminders": [], "email": f"bob-{suffix}@example.org"})
    assert r.status_code == 200 and r.json()["reminder_email"] == f"bob-{suffix}@example.org", r.text
    b.email = f"bob-{suffix}@example.org"
    assert push_topic(a.id) != push_topic(b.id)
    inbox_a, inbox_b = PushInbox(a), PushInbox(b)
    try:
        ta = a.create(title=f"A's task {suffix}", due_date=soon(8), reminders=["PT0S"])
        tb = b.create(title=f"B's task {suffix}", due_date=soon(9), reminders=["PT0S"])
        mail_a = wait_until("A's email", lambda: emails(a), timeout=60)
        mail_b = wait_until("B's email", lambda: emails(b), timeout=60)
        assert [m["Subject"] for m in mail_a] == [f"Due now: A's task {suffix}"]
        assert [m["Subject"] for m in mail_b] == [f"Due now: B's task {suffix}"]
        push_a = wait_until("A's push", lambda: inbox_a.messages(), timeout=30)
        push_b = wait_until("B's push", lambda: inbox_b.messages(), timeout=30)
        for task in (ta, tb):
            assert {c: v["status"] for c, v in sent_reminder(task).items()} == {"email": "sent", "push": "sent"}
        assert [p["task_id"] for _, p in inbox_a.messages()] == [ta["task_id"]]
        assert [p["task_id"] for _, p in inbox_b.messages()] == [tb["task_id"]]
        assert len(push_a) == len(push_b) == 1
        assert emails(f"a_b-{suffix}@users.todo.local") == []
    finally:
        inbox_a.close()
        inbox_b.close()


def test_a_user_without_an_address_gets_no_email_and_the_skip_is_recorded():
    """Guards against mail to made-up addresses: with neither a settings address nor an email
    claim, the email channel is recorded `skipped` (with the reason), never retried, and no
    message with the task's title reaches the mail server; the push still arrives."""
    user = User(email=False)
    inbox = PushInbox(user)
    try:
        title = f"Nobody's mail {uuid.uuid4().hex[:8]}"
        task = user.create(title=title, due_date=soon(6), reminders=["PT0S"])
        wait_until("the push", lambda: inbox.messages(), timeout=60)
        d = sent_reminder(task)
        assert (d["email"]["status"], d["email"]["attempts"]) == ("skipped", 1), d
        assert "no email address" in d["email"]["error"], d
        assert d["push"]["status"] == "sent"
        assert reminders(task["task_id"])["PT0S"]["status"] == "sent"
        assert emails(f"{user.id}@users.todo.local") == []
        r = requests.get(f"{MAILPIT}/api/v1/search", params={"query": f'subject:"{title}"'}, timeout=10)
        assert r.json().get("messages") in (None, []), r.text
    finally:
        inbox.close()


BAD_EMAILS = {
    "number": 5,
    "list": ["a@example.com"],
    "two-addresses": "a@example.com,b@example.com",
    "display-name": "Alice<a@example.com>",
    "no-at": "alice.example.com",
    "no-domain-dot": "alice@localhost",
    "whitespace": "alice @example.com",
    "header-injection": "a@example.com\r\nBcc: x@example.com",
    "too-long": "a" * 60 + "@" + "b" * 200 + ".com",
}


@pytest.mark.parametrize("name", sorted(BAD_EMAILS))
def test_an_invalid_settings_email_is_refused_with_422_naming_the_field(name):
    """Guards the address check: each bad `email` answers a 422 problem whose only error names
    `email`, and the stored settings are unchanged."""
    user = User(email=False)
    good = f"{user.id}@example.net"
    assert user.request("PUT", SETTINGS, json={"default_reminders": [], "email": good}).status_code == 200
    r = user.request("PUT", SETTINGS, json={"default_reminders": [], "email": BAD_EMAILS[name]})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"] == PROBLEM + "validation-error"
    assert [e["field"] for e in problem["errors"]] == ["email"], problem
    assert user.request("GET", SETTINGS).json()["email"] == good


def test_the_settings_address_wins_over_the_claim_which_is_recorded_by_writes():
    """Guards where the address comes from: a create records the token's claim (reminder_email),
    a settings address replaces it, a PUT without `email` falls back to the claim; an unusable
    claim is never recorded."""
    user = User()
    user.create(title="Records the claim")
    assert user.request("GET", SETTINGS).json()["reminder_email"] == user.email
    r = user.request("PUT", SETTINGS, json={"default_reminders": [], "email": "Mine@Example.org"})
    assert (r.json()["email"], r.json()["reminder_email"]) == ("Mine@Example.org", "Mine@Example.org")
    r = user.request("PUT", SETTINGS, json={"default_reminders": []})
    assert (r.json()["email"], r.json()["reminder_email"]) == (None, user.email)
    bad = User(email="not an address")
    bad.create(title="Claim ignored")
    assert bad.request("GET", SETTINGS).json()["reminder_email"] is None
    assert psql(f"select count(*) from user_settings where user_id = '{bad.id}' and token_email is not null") == [["0"]]


def test_a_changed_email_claim_is_recorded_by_every_write_that_leads_to_a_reminder():
    """Guards a stale address: the claim was recorded only by a create and a settings write, so
    after the identity provider changed a user's address, reminders of their existing tasks
    (and of a series' next instances) kept going to the old one until the user created a task.
    A PATCH (may set reminders), a completion (creates the next instance, with reminders) and a
    push-credential issue (a device signing in) now record it too, in the statement each already
    runs; reads never write."""
    user = User()
    task = user.create(title="claim follows the identity provider", due_date=iso(future(days=2)),
                       recurrence="daily", tzid="UTC")
    assert user.request("GET", SETTINGS).json()["reminder_email"] == user.email
    for n, (method, path, body) in enumerate([
            ("PATCH", f"/api/tasks/{task['task_id']}", {"title": "renamed"}),
            ("POST", f"/api/tasks/{task['task_id']}/complete", None),
            ("POST", "/api/users/me/push-credentials", None)]):
        address = f"{user.id}-new{n}@example.org"
        headers = {"authorization": f"Bearer {token(user.id, email=address)}"}
        r = requests.request(method, f"{BASE}{path}", json=body, headers=headers, timeout=30)
        assert r.status_code in (200, 201), (path, r.text)
        assert user.request("GET", SETTINGS).json()["reminder_email"] == address, path
    # A read with yet another claim records nothing.
    other = f"{user.id}-read@example.org"
    assert requests.get(f"{BASE}/api/tasks", headers={"authorization": f"Bearer {token(user.id, email=other)}"},
                        timeout=30).status_code == 200
    assert user.request("GET", SETTINGS).json()["reminder_email"] == f"{user.id}-new2@example.org"


def answer(topic: str, username: str | None = None, password: str | None = None) -> str:
    """The broker's answer to one subscription attempt: granted, denied or refused."""
    out = Path(tempfile.mkstemp(prefix="sub-", suffix=".log")[1])
    proc, verdict = mqtt_subscribe(topic, username, password, out)
    proc.terminate()
    proc.wait(timeout=10)
    out.unlink(missing_ok=True)
    return verdict


def granted_once_applied(creds: dict) -> None:
    """Waits until the broker applied freshly issued credentials (their own topic granted)."""
    wait_until("credentials applied",
               lambda: answer(creds["topic"], creds["username"], creds["password"]) == "granted", timeout=15)


def test_a_users_push_credentials_cannot_subscribe_to_another_users_topic():
    """Guards push privacy at the broker: with A's credentials a subscription to B's topic, or to
    any wildcard over the reminder topics, is refused by the broker (SUBACK 0x80), anonymous
    clients cannot even connect, A cannot publish into B's topic, and a re-issue of A's
    credentials retires the old password."""
    a, b = User(), User()
    ca, cb = push_credentials(a), push_credentials(b)
    assert ca["topic"] == push_topic(a.id) and ca["username"] != cb["username"]
    granted_once_applied(ca)
    granted_once_applied(cb)
    for topic in (cb["topic"], "todo/reminders/#", "todo/reminders/+", "#"):
        assert answer(topic, ca["username"], ca["password"]) == "denied", topic
    assert answer(cb["topic"]) == "refused"
    assert answer(cb["topic"], cb["username"], ca["password"]) == "refused"
    inbox_b = PushInbox(b)
    try:
        # A publishing into B's topic: the broker drops it (users may not publish at all).
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(MQTT_PORT), "-q", "1", "-u", ca["username"],
                        "-P", ca["password"], "-t", inbox_b.topic, "-m", '{"title": "forged"}'],
                       capture_output=True, timeout=10)
        time.sleep(1.5)
        assert inbox_b.messages() == []
    finally:
        inbox_b.close()
    renewed = push_credentials(a)
    assert renewed["password"] != ca["password"]
    granted_once_applied(renewed)
    assert answer(ca["topic"], ca["username"], ca["password"]) == "refused"
