"""Live sync through the real fan-out server (Centrifugo) of the stack: a task change reaches
every open page of its user and no one else's, pages connect with the platform's own tokens and
only to their own user's channel, clients cannot publish, a reconnecting page recovers what it
missed, and a redelivered change is shown once (docs/adr/0009-live-sync-fan-out.md)."""

from __future__ import annotations

import hashlib
import time
import uuid

import requests

from support.live import Live
from support.stack import app_url, sidecar_headers, wait_until
from support.taskapi import PREVIOUS_SECRET, User, token

DASHBOARD = app_url("dashboard")
PERMISSION_DENIED = 103


def live_info(user: User) -> dict:
    r = requests.get(f"{DASHBOARD}/api/live", headers=user.headers(), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def subscribed(user: User) -> tuple[Live, dict]:
    page = Live(user.token)
    assert "connect" in page.connect()
    reply = page.subscribe(live_info(user)["channel"])
    assert "subscribe" in reply, reply
    return page, reply["subscribe"]


def test_the_dashboard_tells_a_signed_in_page_where_its_changes_are():
    assert requests.get(f"{DASHBOARD}/api/live", timeout=30).status_code == 401
    alice = User()
    info = live_info(alice)
    assert info["channel"] == f"changes:\x1f{alice.id}"
    assert info["url"].endswith("/connection/websocket")
    assert info["cursor"] == 0
    page = requests.get(f"{DASHBOARD}/", timeout=10)
    origin = info["url"].split("/connection")[0]
    assert f"connect-src 'self' {origin};" in page.headers["content-security-policy"]


def test_a_change_reaches_every_open_page_of_its_user_and_no_one_elses():
    alice, bob = User(), User()
    a1, _ = subscribed(alice)
    a2, _ = subscribed(alice)
    b1, _ = subscribed(bob)
    with a1, a2, b1:
        task = alice.create(title="seen live")
        for page in (a1, a2):
            pubs = page.publications(1)
            assert [p["data"]["task_id"] for p in pubs] == [task["task_id"]]
            assert pubs[0]["data"]["seq"] == 1 and pubs[0]["data"]["type"] == "v1.task.created"
        assert b1.publications(1, timeout=2) == []
        mine = bob.create(title="bob's own")
        assert [p["data"]["task_id"] for p in b1.publications(1)] == [mine["task_id"]]
        assert len(a1.publications(2, timeout=2)) == 1


def test_a_page_can_subscribe_only_to_its_own_users_channel():
    alice, bob = User(), User()
    bobs = live_info(bob)["channel"]
    with Live(alice.token) as page:
        assert "connect" in page.connect()
        assert page.subscribe(bobs)["error"]["code"] == PERMISSION_DENIED
        # The separators Centrifugo uses by default name no one here: `#bob` is not bob's channel,
        # and a channel listing several users is not readable by any of them.
        for other in (f"changes:#{bob.id}", f"changes:#{alice.id},{bob.id}",
                      f"changes:\x1f{alice.id},{bob.id}", f"tasks:\x1f{alice.id}"):
            assert "error" in page.subscribe(other), other
    # An id holding `#` or `,` cannot open a channel for the id after it.
    sneaky = User(f"{bob.id}#x-{uuid.uuid4().hex[:4]}")
    with Live(User("x").token) as page:
        assert "connect" in page.connect()
        assert page.subscribe(live_info(sneaky)["channel"])["error"]["code"] == PERMISSION_DENIED


def test_only_valid_platform_tokens_connect():
    user = f"live-{uuid.uuid4().hex[:8]}"
    refused = {
        "no token": None,
        "another secret": token(user, secret=b"x" * 40),  # pragma: allowlist secret
        "expired": token(user, lifetime=-120),
        "another audience": token(user, aud="someone-else"),
        "another issuer": token(user, iss="someone-else"),
    }
    for why, t in refused.items():
        with Live(t) as page:
            try:
                reply = page.connect()
            except Exception:  # the server may close the connection instead of answering
                continue
            assert "error" in reply, why
    # The previous secret still signs valid tokens during a rotation, as for the Task API.
    with Live(token(user, secret=PREVIOUS_SECRET)) as page:
        assert page.connect()["connect"]["client"]


def test_pages_cannot_publish_to_their_channel():
    alice = User()
    page, _ = subscribed(alice)
    with page:
        reply = page.command(publish={"channel": live_info(alice)["channel"], "data": {"seq": 99}})
        assert reply["error"]["code"] == PERMISSION_DENIED
        assert page.publications(1, timeout=1.5) == []


def test_a_reconnecting_page_recovers_the_changes_it_missed():
    alice = User()
    page, position = subscribed(alice)
    alice.create(title="before the drop")
    assert len(page.publications(1)) == 1
    page.close()
    missed = [alice.create(title=f"missed {i}")["task_id"] for i in range(3)]
    wait_until("the dashboard recorded the missed changes", lambda: live_info(alice)["cursor"] == 4, 30)
    with Live(alice.token) as again:
        assert "connect" in again.connect()
        reply = again.subscribe(live_info(alice)["channel"], recover=True,
                                offset=position.get("offset", 0) + 1, epoch=position["epoch"])["subscribe"]
        assert reply["recovered"] is True
        got = [p["data"] for p in reply.get("publications", [])]
        assert [c["task_id"] for c in got] == missed
        assert [c["seq"] for c in got] == [2, 3, 4]


def test_a_redelivered_change_is_recorded_and_shown_once():
    alice = User()
    page, _ = subscribed(alice)
    event_id = f"redelivered-{uuid.uuid4().hex}"
    event = {"specversion": "1.0", "id": event_id, "source": "task-api", "type": "v1.task.created",
             "time": "2026-12-05T10:00:00Z", "datacontenttype": "application/json",
             "data": {"user_id": alice.id, "task_id": hashlib.md5(event_id.encode()).hexdigest()}}
    with page:
        for _ in range(3):
            r = requests.post(f"{DASHBOARD}/events/task-operations", json=event,
                              headers={**sidecar_headers(), "content-type": "application/cloudevents+json"},
                              timeout=30)
            assert r.status_code == 200 and r.json()["status"] == "SUCCESS", r.text
        pubs = page.publications(2, timeout=3)
        assert [p["data"]["event_id"] for p in pubs] == [event_id]
        assert live_info(alice)["cursor"] == 1
