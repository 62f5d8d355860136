"""The dashboard on the real stack: its page and API (Task API through Dapr service invocation,
recurrence preview), the change log fed by the task events, the long poll, and the end-to-end
browser scenarios (headless Chromium driven by npm playwright-core, tests/dashboard/e2e.cjs)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid

import pytest
import requests

from support.stack import ENV, ROOT, STACK_DIR, app_url, bulk_delivery, sidecar_headers, wait_until
from support.taskapi import BASE, User, psql

OFFSET = int(ENV["PORT_OFFSET"])
DASHBOARD = app_url("dashboard")
CHAT = app_url("chat")
# Screenshots go to the stack's data dir; SCREENSHOTS_DIR=docs/screenshots refreshes the README's.
SCREENSHOTS = ROOT / os.environ["SCREENSHOTS_DIR"] if os.environ.get("SCREENSHOTS_DIR") else STACK_DIR / "screenshots"


def get(user: User | None, path: str, **kw) -> requests.Response:
    headers = user.headers() if user else {}
    return requests.get(f"{DASHBOARD}{path}", headers=headers, timeout=40, **kw)


def cursor(user: User) -> int:
    r = get(user, "/api/changes")
    assert r.status_code == 200, r.text
    return r.json()["cursor"]


# ---- page and API ---------------------------------------------------------------------------


def test_the_page_is_served_whole_from_the_component_with_a_strict_policy():
    page = requests.get(f"{DASHBOARD}/", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="app.js"' in page.text and "http" not in page.text.split("<body>")[0].replace("http-equiv", "")
    for asset, kind in (("/app.js", "text/javascript"), ("/app.css", "text/css")):
        r = requests.get(f"{DASHBOARD}{asset}", timeout=10)
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind)
        assert "https://" not in r.text and "http://" not in r.text  # nothing from elsewhere


def test_the_proxy_reaches_the_task_api_with_the_callers_token_only():
    alice, bob = User(), User()
    created = requests.post(f"{DASHBOARD}/api/tasks", json={"title": "through the dashboard"},
                            headers=alice.headers(), timeout=30)
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    task_id = created.json()["task_id"]
    # The Task API itself has it, for alice only.
    assert alice.request("GET", f"/api/tasks/{task_id}").status_code == 200
    assert get(bob, f"/api/tasks/{task_id}").status_code == 404
    assert get(bob, "/api/tasks").json()["items"] == []
    unauth = get(None, "/api/tasks")
    assert unauth.status_code == 401 and unauth.headers["content-type"] == "application/problem+json"
    # Only the Task API routes the page uses are forwarded.
    assert get(alice, "/api/calendar.ics").status_code == 404
    assert get(alice, "/api/tasks/..%2F..%2Fhealthz/complete").status_code == 404


def test_preview_describes_a_phrase_and_lists_its_next_five_dates():
    user = User()
    r = get(user, "/api/preview", params={"recurrence": "every 2 weeks on Monday and Wednesday at 9am",
                                          "tzid": "Europe/Berlin"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["describe"] == "every 2 weeks on Monday and Wednesday"
    assert body["rule"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE"
    assert len(body["occurrences"]) == 5
    for o in body["occurrences"]:
        assert o["local"].endswith("T09:00:00")
    # The same text creates a task due on the first previewed date.
    task = user.create(title="lesson", recurrence="every 2 weeks on Monday and Wednesday at 9am", tzid="Europe/Berlin")
    assert task["due_date"] == body["occurrences"][0]["at"]


def test_the_rule_field_gets_completions_the_grammar_reads_and_each_previews():
    user = User()
    r = get(user, "/api/preview/completions", params={"q": "every first mon"})
    assert r.status_code == 200, r.text
    got = r.json()["completions"]
    assert {"text": "every first monday", "complete": True} in got
    # After a space: the words that may follow, whole phrases marked complete.
    after = get(user, "/api/preview/completions", params={"q": "every weekday at "}).json()["completions"]
    assert {"text": "every weekday at 9am", "complete": True} in after
    for c in got + after:
        p = get(user, "/api/preview", params={"recurrence": c["text"]})
        assert (p.status_code == 200) == c["complete"], (c, p.text)
    # A word the grammar cannot read has no continuation; the route needs a token.
    assert get(user, "/api/preview/completions", params={"q": "every blorp "}).json()["completions"] == []
    anon = get(None, "/api/preview/completions", params={"q": "every"})
    assert anon.status_code == 401 and anon.headers["content-type"] == "application/problem+json"
    assert get(user, "/api/preview/completions", params={"q": "x" * 301}).status_code == 400


@pytest.mark.parametrize("params, status, field", [
    ({}, 400, None),
    ({"recurrence": "every blue moon"}, 422, "recurrence"),
    ({"recurrence": "daily", "tzid": "Mars/Olympus"}, 422, "tzid"),
    ({"recurrence": "FREQ=MINUTELY"}, 422, "recurrence"),
    ({"recurrence": "daily", "due_date": "tomorrow"}, 422, "due_date"),
])
def test_preview_refuses_bad_input_with_a_problem(params, status, field):
    r = get(User(), "/api/preview", params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["detail"]
    if field:
        assert body["errors"][0]["field"] == field


# ---- change log and long poll ---------------------------------------------------------------


def test_task_events_reach_the_users_change_log_and_wake_a_waiting_poll():
    user, other = User(), User()
    start, other_start = cursor(user), cursor(other)
    answer: dict = {}

    def poll():
        t = time.monotonic()
        r = get(user, f"/api/changes?after={start}")
        answer.update(r.json(), status=r.status_code, waited=time.monotonic() - t)

    waiting = threading.Thread(target=poll)
    waiting.start()
    time.sleep(0.5)
    task = user.create(title="wake the poll")
    made = time.monotonic()
    waiting.join(timeout=30)
    assert answer["status"] == 200
    print(f"poll answered {time.monotonic() - made:.3f}s after the create")
    assert [c["task_id"] for c in answer["changes"]] == [task["task_id"]]
    assert answer["changes"][0]["type"] == "v1.task.created"
    assert answer["cursor"] == start + 1
    assert 0.4 < answer["waited"] < 10
    # Nothing for anyone else; an idle poll answers empty after its wait.
    idle = get(other, f"/api/changes?after={other_start}&wait=1")
    assert idle.status_code == 200 and idle.json()["changes"] == [] and idle.json()["cursor"] == other_start


def test_a_redelivered_event_is_recorded_once_and_poison_is_dropped():
    user = User()
    event_id = str(uuid.uuid4())
    event = {"specversion": "1.0", "id": event_id, "source": "/task-api", "type": "v1.task.updated",
             "time": "2026-11-26T07:00:00.000Z", "datacontenttype": "application/json",
             "partitionkey": user.id, "data": {"task_id": str(uuid.uuid4()), "user_id": user.id}}
    for _ in range(3):  # what Dapr does on redelivery
        r = requests.post(f"{DASHBOARD}/events/task-modifications", json=event, timeout=10, headers=sidecar_headers())
        assert r.status_code == 200 and r.json() == {"status": "SUCCESS"}
    assert psql(f"SELECT count(*), max(seq) FROM dashboard_changes WHERE user_id = '{user.id}'") == [["1", "1"]]
    assert psql(f"SELECT seq FROM dashboard_cursors WHERE user_id = '{user.id}'") == [["1"]]
    changes = get(user, "/api/changes?after=0").json()["changes"]
    assert [c["event_id"] for c in changes] == [event_id]
    for poison in (b"not json", json.dumps({**event, "data": {"task_id": "x"}, "partitionkey": None}).encode()):
        r = requests.post(f"{DASHBOARD}/events/task-operations", data=poison,
                          headers={**sidecar_headers(), "content-type": "application/json"}, timeout=10)
        assert r.status_code == 200 and r.json() == {"status": "DROP"}


def test_an_event_whose_write_fails_while_executing_is_retried_not_lost():
    """The Dapr PostgreSQL binding answers a statement that fails while executing like an empty
    result; a consumer that took that for "already recorded" answered SUCCESS and lost the
    event (found by scripts/chaos.sh around the PostgreSQL kill). With the completion guard the
    dashboard answers RETRY, and Dapr's redelivery records the event once the cause is gone."""
    user = User()
    event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/task-api", "type": "v1.task.updated",
             "time": "2026-11-26T07:00:00.000Z", "datacontenttype": "application/json",
             "partitionkey": user.id, "data": {"task_id": str(uuid.uuid4()), "user_id": user.id}}
    recorded = f"SELECT count(*) FROM dashboard_changes WHERE event_id = '{event['id']}'"
    psql("REVOKE INSERT ON dashboard_changes FROM CURRENT_USER")
    try:
        r = requests.post(f"{DASHBOARD}/events/task-modifications", json=event, timeout=10, headers=sidecar_headers())
        assert r.status_code == 503 and r.json() == {"status": "RETRY"}, r.text
        assert psql(recorded) == [["0"]]
        assert psql(f"SELECT count(*) FROM dashboard_cursors WHERE user_id = '{user.id}'") == [["0"]]
        # Through Kafka: the first delivery fails the same way; Dapr delivers again 5 s later.
        via_kafka = {**event, "id": str(uuid.uuid4())}
        p = requests.post(f"http://127.0.0.1:{ENV['DAPR_HTTP_BASE']}/v1.0/publish/pubsub/task-modifications",
                          json=via_kafka, params={"metadata.partitionKey": user.id},
                          headers={"content-type": "application/cloudevents+json"}, timeout=30)
        assert p.status_code == 204, p.text
        log = STACK_DIR / "logs" / "dashboard.log"
        wait_until("the dashboard's first, failed delivery",
                   lambda: f"will retry event {via_kafka['id']}" in log.read_text(errors="replace"), timeout=30)
    finally:
        psql("GRANT INSERT ON dashboard_changes TO CURRENT_USER")
    r = requests.post(f"{DASHBOARD}/events/task-modifications", json=event, timeout=10, headers=sidecar_headers())
    assert r.status_code == 200 and r.json() == {"status": "SUCCESS"}, r.text
    wait_until("the redelivered event recorded", lambda: psql(
        f"SELECT count(*) FROM dashboard_changes WHERE event_id = '{via_kafka['id']}'") == [["1"]], timeout=30)
    assert psql(recorded) == [["1"]]
    assert psql(f"SELECT seq FROM dashboard_cursors WHERE user_id = '{user.id}'") == [["2"]]


def test_a_bulk_delivery_is_recorded_in_order_with_one_status_per_entry():
    """The subscriptions deliver in bulk: the dashboard records a bulk's changes in one statement,
    each user's numbered in delivery order after its cursor, answers SUCCESS per recorded entry
    (a change already logged too, keeping its number) and DROP for poison."""
    a, b = User(), User()
    baseline = cursor(a)

    def event(user: User | None, etype: str = "v1.task.updated") -> dict:
        data = {"task_id": str(uuid.uuid4())}
        if user:
            data["user_id"] = user.id
        return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/task-api", "type": etype,
                "time": "2026-11-26T07:00:00.000Z", "datacontenttype": "application/json", "data": data}

    events = [event(a, "v1.task.created"), event(b), event(None), event(a, "v1.task.completed")]
    envelope = bulk_delivery(events, "task-operations")
    url = f"{DASHBOARD}/events/task-operations"
    r = requests.post(url, json=envelope, timeout=10, headers=sidecar_headers())
    assert r.status_code == 200, r.text
    assert r.json() == {"statuses": [
        {"entryId": "e0", "status": "SUCCESS"}, {"entryId": "e1", "status": "SUCCESS"},
        {"entryId": "e2", "status": "DROP"}, {"entryId": "e3", "status": "SUCCESS"}]}
    logged = psql(f"SELECT event_id, seq FROM dashboard_changes WHERE user_id = '{a.id}' ORDER BY seq")
    assert logged == [[events[0]["id"], str(baseline + 1)], [events[3]["id"], str(baseline + 2)]]
    assert cursor(b) == 1
    # Redelivered with one more change: the logged ones keep their numbers, the new one follows.
    events.append(event(a))
    envelope["entries"].append({"entryId": "e4", "event": events[4]})
    r = requests.post(url, json=envelope, timeout=10, headers=sidecar_headers())
    assert [s["status"] for s in r.json()["statuses"]] == ["SUCCESS", "SUCCESS", "DROP", "SUCCESS", "SUCCESS"]
    assert cursor(a) == baseline + 3 and cursor(b) == 1
    assert psql(f"SELECT count(*) FROM dashboard_changes WHERE event_id IN "
                f"('{events[0]['id']}', '{events[1]['id']}', '{events[3]['id']}')") == [["3"]]
    # Without the app token the sidecar route refuses the bulk like a single event.
    assert requests.post(url, json=envelope, timeout=10).status_code == 401


def test_the_long_poll_refuses_bad_cursors_and_missing_tokens():
    user = User()
    assert get(None, "/api/changes").status_code == 401
    r = get(user, "/api/changes?after=-3")
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    # A page ahead of the log (a new database) is told to reload.
    ahead = get(user, "/api/changes?after=999999&wait=1").json()
    assert ahead["reset"] is True and ahead["cursor"] == 0


# ---- end to end in a browser ----------------------------------------------------------------


def browser(scenario: str, *users: User, dashboard_url: str = DASHBOARD) -> str:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DASHBOARD_URL": dashboard_url, "CHAT_URL": CHAT, "TASK_API_URL": BASE,
           "TOKEN_A": users[0].token, "TOKEN_OTHER": users[-1].token,
           "SCREENSHOTS": str(SCREENSHOTS), "RUN_ID": uuid.uuid4().hex[:6]}
    p = subprocess.run(["node", str(ROOT / "tests/dashboard/e2e.cjs"), scenario], env=env,
                       capture_output=True, text=True, timeout=240)
    print(p.stdout, p.stderr)
    assert p.returncode == 0 and "RESULT ok" in p.stdout, p.stdout + p.stderr
    return p.stdout


def latencies(out: str) -> dict[str, int]:
    return {line.split()[1]: int(line.split()[2]) for line in out.splitlines() if line.startswith("latency ")}


def test_create_complete_delete_in_one_browser_appear_in_another_within_a_second_and_not_for_others():
    out = browser("sync", User(), User())
    seen = latencies(out)
    # From the change being made (A's Task API call answered) to B showing it.
    made = {k: seen[k] for k in ("create", "complete", "delete")}
    assert all(ms < 1000 for ms in made.values()), seen


def test_a_recurring_task_created_by_phrase_shows_the_right_next_dates():
    browser("phrase", User())


def test_the_page_works_under_its_kubernetes_route_base():
    # The ingress sends /dashboard/... to the dashboard SpinApp (spin.toml route /dashboard/...), as
    # Spin does locally: the bare base redirects to /dashboard/, the page's assets and API calls are
    # relative to it.
    root = DASHBOARD.removesuffix("/dashboard")
    bare = requests.get(f"{root}/dashboard?x=1", timeout=10, allow_redirects=False)
    assert bare.status_code == 308 and bare.headers["location"] == "/dashboard/?x=1"
    page = requests.get(f"{root}/dashboard/", timeout=10)
    assert page.status_code == 200 and '<script src="app.js"' in page.text
    assert requests.get(f"{root}/dashboard/app.js", timeout=10).status_code == 200
    browser("phrase", User(), dashboard_url=f"{root}/dashboard")


def test_a_chat_command_creates_a_task_that_appears_live():
    seen = latencies(browser("chat", User()))
    assert seen["chat"] < 1000, seen


def test_a_series_is_edited_whole_and_deleted_from_here_on_after_confirmation():
    browser("series", User())


def test_a_new_task_starts_with_the_users_default_reminders():
    user = User()
    r = requests.put(f"{DASHBOARD}/api/users/me/settings", json={"default_reminders": ["PT1H", "P1D"]},
                     headers=user.headers(), timeout=30)
    assert r.status_code == 200 and r.json()["default_reminders"] == ["P1D", "PT1H"], r.text
    assert get(user, "/api/users/me/settings").json()["default_reminders"] == ["P1D", "PT1H"]
    browser("defaults", user)
    [task] = user.request("GET", "/api/tasks").json()["items"]
    assert task["reminders"] == ["P1D"]


def test_the_page_fits_a_phone_width():
    user = User()
    user.create(title="small screen")
    browser("phone", user)


def test_the_page_reconnects_by_itself_after_the_dashboard_restarts():
    out = browser("reconnect", User())
    assert "after-restart" in latencies(out)
    wait_until("dashboard healthy", lambda: requests.get(f"{DASHBOARD}/healthz", timeout=2).ok, timeout=30)
