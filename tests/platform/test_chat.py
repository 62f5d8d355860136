"""The chat component on the real stack: plain-English commands carried out through the Task API
by Dapr service invocation (sqlite name resolution), history in the Dapr state store."""

import concurrent.futures
import os
import signal
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from support.stack import ENV, STACK_DIR, stack, wait_until, app_url
from support.taskapi import User, psql, restart_sidecar

CHAT = app_url("chat")
CHAT_SIDECAR = f"http://127.0.0.1:{int(ENV['DAPR_HTTP_BASE']) + 3}"


def say(user: User, message: str, conversation: str | None = None, tzid: str | None = "America/New_York") -> dict:
    body = {"message": message}
    if conversation:
        body["conversation_id"] = conversation
    if tzid:
        body["tzid"] = tzid
    r = requests.post(f"{CHAT}/api/chat", json=body, headers=user.headers(), timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def pending(user: User) -> list[dict]:
    r = user.request("GET", "/api/tasks?status=pending")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_recurring_task_said_in_english_is_created_with_its_rule_and_reminder():
    user = User()
    answer = say(user, "remind me to call mom every Sunday at 6pm, 1 hour before")
    assert answer["understood"]["kind"] == "action"
    assert answer["reply"].startswith('Added "call mom" (every Sunday at 6 PM), first due Sun ')
    [task] = pending(user)
    assert task["title"] == "call mom"
    assert task["recurrence_pattern"] == "FREQ=WEEKLY;BYDAY=SU"
    assert task["reminders"] == ["PT1H"]
    assert task["due_date"].endswith(("T23:00:00Z", "T22:00:00Z"))  # 6 PM in New York (EST/EDT)
    assert answer["task"]["task_id"] == task["task_id"]


def test_commands_complete_move_end_and_delete_through_the_task_api():
    user = User()
    say(user, "add team standup every weekday at 9:30am")
    say(user, "add dentist on Friday at 3pm")
    say(user, "add gym session every Monday, Wednesday and Friday at 7am")

    standup = next(t for t in pending(user) if t["title"] == "team standup")
    done = say(user, "complete team standup")
    assert done["reply"] == 'Completed "team standup". The next one will be created for you.'
    assert psql(f"SELECT status FROM tasks WHERE task_id = '{standup['task_id']}'") == [["completed"]]
    # US2.2: the next instance of the series appears, on a later weekday, with the same title.
    nxt = wait_until("the next standup", lambda: [t for t in pending(user) if t["title"] == "team standup"
                                                  and t["task_id"] != standup["task_id"]] or None, 30)
    assert len(nxt) == 1 and nxt[0]["series_id"] == standup["series_id"], nxt
    assert nxt[0]["due_date"] > standup["due_date"]

    moved = say(user, "move dentist to Monday 10am")
    assert moved["reply"].startswith('Moved "dentist" to Mon ') and moved["reply"].endswith("10:00 AM.")
    dentist = next(t for t in pending(user) if t["title"] == "dentist")
    assert dentist["due_date"].endswith("T15:00:00Z")  # 10 AM EST

    gone = say(user, "delete all future gym sessions")
    assert gone["reply"].startswith('Deleted all future "gym session" occurrences')
    assert not [t for t in pending(user) if t["title"] == "gym session"]

    say(user, "cancel dentist")
    assert not [t for t in pending(user) if t["title"] == "dentist"]


def test_a_series_is_stopped_after_a_day_said_in_english():
    user = User()
    say(user, "add exercise every day at 7am")
    last = datetime.now(ZoneInfo("America/New_York")).date() + timedelta(days=10)
    answer = say(user, f"stop the exercise series after {last.strftime('%b')} {last.day}, {last.year}")
    assert answer["reply"] == f'"exercise" now ends after {last.strftime("%a")} {last.day} {last.strftime("%b %Y")}.', answer
    [task] = pending(user)
    series = user.request("GET", f"/api/series/{task['series_id']}").json()
    end = datetime.fromisoformat(series["end_date"].replace("Z", "+00:00")).astimezone(ZoneInfo("America/New_York"))
    assert (end.date(), end.hour, end.minute) == (last, 23, 59)


def test_ambiguity_gets_a_question_and_changes_nothing():
    user = User()
    for message, fragment in [
        ("add meeting at 7", "morning or in the evening"),
        ("remind me to call the bank", "When should I remind you"),
        ("add gym every blue moon", "not how \"every blue moon\" repeats"),
        ("sing me a song", "did not understand"),
    ]:
        answer = say(user, message)
        assert answer["understood"]["kind"] == "clarify", answer
        assert fragment in answer["reply"], answer["reply"]
    # Both tomorrow, so the earliest-due-first order of the question does not depend on the
    # time of day the test runs at (a bare "at 5pm" after 5pm means the next day).
    say(user, "add call Mark tomorrow at 5pm")
    say(user, "add call Mom tomorrow at 6pm")
    which = say(user, "complete call")
    assert which["reply"] == 'Which one do you mean: "call Mark", "call Mom"?'
    assert len(pending(user)) == 2


def test_one_user_cannot_reach_another_users_tasks_through_the_chat():
    alice, bob = User(), User()
    say(bob, "add file taxes tomorrow at 9am")
    answer = say(alice, "complete file taxes")
    assert answer["reply"].startswith('I could not find a pending task called "file taxes"')
    assert [t["status"] for t in pending(bob)] == ["pending"]


def test_history_is_kept_per_user_and_conversation_and_survives_restarts():
    user, other = User(), User()
    first = say(user, "add water plants every 3 days")
    conversation = first["conversation_id"]
    say(user, "what's due this week?", conversation)

    # The chat runtime and its sidecar both go down hard and come back.
    stack("kill", "chat")
    restart_sidecar(signal.SIGKILL, app="chat")
    stack("start", "chat")
    wait_until("chat ready", lambda: requests.get(f"{CHAT}/readyz", timeout=2).status_code == 200, 60)

    r = requests.get(f"{CHAT}/api/chat/{conversation}", headers=user.headers(), timeout=30)
    assert r.status_code == 200, r.text
    messages = r.json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[0]["text"] == "add water plants every 3 days"
    assert messages[2]["text"] == "what's due this week?"
    assert r.json()["tzid"] == "America/New_York"
    # Another user asking for the same conversation id gets nothing.
    assert requests.get(f"{CHAT}/api/chat/{conversation}", headers=other.headers(), timeout=30).status_code == 404
    # Only the conversation is in the state store; task data is not.
    rows = psql(f"SELECT key, convert_from(value, 'UTF8') FROM dapr_chat_state WHERE key LIKE 'chat||{user.id}|%'")
    assert [key for key, _ in rows] == [f"chat||{user.id}|{conversation}"]
    assert "water plants" in rows[0][1]
    assert "task_id" not in rows[0][1] and "series_id" not in rows[0][1]


def test_concurrent_messages_to_one_conversation_are_all_kept():
    user = User()
    conversation = say(user, "help")["conversation_id"]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: say(user, f"what's due today? ({i})", conversation), range(8)))
    r = requests.get(f"{CHAT}/api/chat/{conversation}", headers=user.headers(), timeout=30)
    texts = [m["text"] for m in r.json()["messages"] if m["role"] == "user"]
    assert sorted(texts[1:]) == sorted(f"what's due today? ({i})" for i in range(8))


def test_the_same_words_in_a_later_turn_of_a_long_conversation_create_again():
    """Guards the chat's idempotency keys: they number turns with a counter that is never capped
    (the history keeps only 200 messages, so its length stops changing after 100 turns) and hash
    with SHA-256, so the same message said in two later turns of a full conversation creates two
    tasks instead of replaying the first create."""
    user = User()
    conversation = f"long-{user.id}"
    history = [{"role": role, "text": f"{role} {i}", "at": "2026-01-01T00:00:00.000Z"}
               for i in range(100) for role in ("user", "assistant")]
    r = requests.post(f"{CHAT_SIDECAR}/v1.0/state/chat-state", timeout=30, json=[
        {"key": f"{user.id}|{conversation}", "value": {"tzid": "America/New_York", "messages": history}}])
    assert r.status_code == 204, r.text
    for _ in range(2):
        answer = say(user, "add water the plants", conversation)
        assert answer["reply"].startswith('Added "water the plants"'), answer
    assert [t["title"] for t in pending(user)] == ["water the plants", "water the plants"]
    r = requests.get(f"{CHAT}/api/chat/{conversation}", headers=user.headers(), timeout=30)
    assert len(r.json()["messages"]) == 200
    [[state]] = psql(f"SELECT convert_from(value, 'UTF8') FROM dapr_chat_state WHERE key = 'chat||{user.id}|{conversation}'")
    assert '"turns":102' in state.replace(" ", "")


def test_bad_requests_are_problems():
    user = User()
    cases = [
        ({}, 400, "message is required"),
        ({"message": "x" * 501}, 400, "at most 500"),
        ({"message": "help", "conversation_id": "../etc"}, 400, "conversation_id"),
        ({"message": "help", "tzid": "Mars/Olympus"}, 400, "IANA"),
    ]
    for body, status, fragment in cases:
        r = requests.post(f"{CHAT}/api/chat", json=body, headers=user.headers(), timeout=30)
        assert r.status_code == status and r.headers["content-type"] == "application/problem+json", r.text
        assert fragment in r.json()["detail"]
    r = requests.post(f"{CHAT}/api/chat", json={"message": "help"}, timeout=30)
    assert r.status_code == 401 and r.json()["type"].endswith("/unauthorized")


def test_service_invocation_relays_the_apps_answers_and_names_its_own_failures():
    """What the chat's Dapr client relies on: an invoked app's 4xx answer comes back unchanged
    (status, content type, body); an unknown app id is daprd's own error with an errorCode."""
    r = requests.get(f"{CHAT_SIDECAR}/v1.0/invoke/task-api/method/api/tasks", timeout=30)
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/unauthorized")
    user = User()
    r = requests.get(f"{CHAT_SIDECAR}/v1.0/invoke/task-api/method/api/tasks?status=pending", headers=user.headers(), timeout=30)
    assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}
    r = requests.get(f"{CHAT_SIDECAR}/v1.0/invoke/no-such-app/method/x", timeout=30)
    assert r.status_code == 500 and r.json()["errorCode"] == "ERR_DIRECT_INVOKE", r.text


def test_an_app_id_stays_resolvable_while_its_sidecar_is_late_to_renew_its_registration():
    """A busy machine delays the sidecars' name-resolution renewals. Pausing the Task API's daprd for
    8 s stops its renewals; once it runs again, a call made through the chat's sidecar must still
    find it (with the resolver's defaults the row counted as stale after 5 s: 500 ERR_DIRECT_INVOKE)."""
    pid = int((STACK_DIR / "run" / "daprd-task-api.pid").read_text().strip())
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(8)
            # The address is looked up at once; the paused sidecar answers when it runs again.
            call = pool.submit(requests.get, f"{CHAT_SIDECAR}/v1.0/invoke/task-api/method/api/tasks", timeout=60)
            time.sleep(1)
        finally:
            os.kill(pid, signal.SIGCONT)
        r = call.result()
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json", r.text
