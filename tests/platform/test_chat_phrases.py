"""The recurrence phrase grammar in chat commands, end to end: each utterance goes to the chat
endpoint, the chat creates or changes the task through the Task API (Dapr service invocation),
and the task the Task API stores must carry the RRULE the phrase means.

The creation table is built from the phrase table (tests/phrases/phrases.json): every phrase
that can follow a title in a chat command ("add <title> <phrase>": it starts with a word that
says it repeats, or with "on"/"the"/"last"/"first" and has such a word later, and has no hour
without am/pm, which the chat asks about), with the expected rule of the table."""

import json
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from support.stack import ROOT, app_url
from support.taskapi import User

CHAT = app_url("chat")
TABLE = json.loads((Path(ROOT) / "tests/phrases/phrases.json").read_text())["cases"]
# Words that say a phrase repeats (the chat's RULE_HEADS); without one ("on the 10th", "last day
# of the month") the chat reads a due date.
REPEATS = ("every", "each", "daily", "weekly", "monthly", "yearly", "annually", "hourly", "quarterly",
           "biweekly", "bi-weekly", "fortnightly", "semi-annually", "semiannually", "biannually",
           "twice", "once", "weekdays", "weekends", "workdays", "mondays", "tuesdays", "fridays",
           "everyday")
LEAD_INS = ("on the ", "the ", "last ", "first ")
BARE_HOUR = re.compile(r"(?:\bat|@)\s*\d{1,2}(?::\d\d)?(?!\s*(?:am|pm|a\.m|p\.m))\b", re.I)
TITLE = "Water ferns"
BERLIN = ZoneInfo("Europe/Berlin")


def chat_phrase(case: dict) -> bool:
    p = case["phrase"].lower()
    words = re.findall(r"[a-z-]+", p)
    starts = p.startswith(REPEATS) or (p.startswith(LEAD_INS) and any(w in REPEATS for w in words))
    return "rrule" in case and starts and not BARE_HOUR.search(p) and "tomorrow" not in p


CREATES = [c for c in TABLE if chat_phrase(c)]


def say(user: User, message: str, tzid: str = "Europe/Berlin") -> dict:
    r = requests.post(f"{CHAT}/api/chat", json={"message": message, "tzid": tzid},
                      headers=user.headers(), timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def stored_rule(task: dict) -> str:
    return ";".join(p for p in task["recurrence_pattern"].split(";") if not p.startswith("UNTIL="))


def pending(user: User) -> list[dict]:
    r = user.request("GET", "/api/tasks?status=pending")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_the_table_has_enough_chat_utterances():
    assert len(CREATES) >= 150, len(CREATES)


@pytest.mark.parametrize("case", CREATES, ids=[c["phrase"] for c in CREATES])
def test_add_with_a_phrase_creates_the_rule_it_means(case):
    user = User()
    answer = say(user, f"add {TITLE} {case['phrase']}", case["tz"])
    assert answer["understood"]["kind"] == "action", answer["reply"]
    assert answer["reply"].startswith(f'Added "{TITLE}" ('), answer["reply"]
    [task] = pending(user)
    assert task["title"] == TITLE
    assert stored_rule(task) == case["rrule"], answer["reply"]


def test_remind_me_with_the_phrase_before_the_title():
    user = User()
    answer = say(user, "remind me every first Monday of the month at 9am to pay rent")
    assert answer["reply"].startswith('Added "pay rent" (monthly on the first Monday at 9 AM), first due Mon ')
    [task] = pending(user)
    assert task["recurrence_pattern"] == "FREQ=MONTHLY;BYDAY=1MO"
    assert task["reminders"] == ["PT0S"]
    assert task["due_date"].endswith(("T08:00:00Z", "T07:00:00Z"))  # 9 AM in Berlin (CET/CEST)


def test_an_hour_without_am_or_pm_is_asked_and_nothing_is_created():
    user = User()
    answer = say(user, "remind me every first Monday of the month at 9 to pay rent")
    assert answer["understood"]["kind"] == "clarify"
    assert "in the morning or in the evening" in answer["reply"]
    assert pending(user) == []


def test_a_series_gets_a_new_rule_said_in_english():
    user = User()
    say(user, "add standup every weekday at 9:30am")
    [before] = pending(user)
    answer = say(user, "move my standup to every other Tuesday")
    assert answer["reply"] == '"standup" now repeats every 2 weeks on Tuesday.', answer["reply"]
    after = pending(user)
    assert [t["recurrence_pattern"] for t in after] == ["FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"]
    assert after[0]["series_id"] == before["series_id"]
    # The instance is on a Tuesday at 9:30 Berlin time.
    r = user.request("GET", f"/api/series/{before['series_id']}/occurrences")
    starts = r.json()["occurrences"]
    assert starts and all(s.endswith(("T08:30:00Z", "T07:30:00Z")) for s in starts), starts


def test_a_one_off_task_is_not_turned_into_a_series_by_a_move():
    user = User()
    say(user, "add dentist on Friday at 3pm")
    answer = say(user, "move dentist to every other Tuesday")
    assert answer["reply"].startswith('"dentist" does not repeat yet.'), answer["reply"]
    [task] = pending(user)
    assert task["series_id"] is None


def test_stop_repeating_after_a_month_ends_the_series_after_that_whole_month():
    user = User()
    say(user, "add pay rent on the last weekday of every month")
    [task] = pending(user)
    assert task["recurrence_pattern"] == "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"
    answer = say(user, "stop repeating the rent task after June")
    assert answer["reply"].startswith('"pay rent" now ends after '), answer["reply"]
    assert "30 Jun" in answer["reply"], answer["reply"]
    r = user.request("GET", f"/api/series/{task['series_id']}")
    series = r.json()
    assert series["end_date"] is not None and series["end_date"][5:10] in ("06-30", "07-01"), series
    # The last occurrence is the last weekday of June: Wednesday 30 June 2027 (Berlin time).
    r = user.request("GET", f"/api/series/{task['series_id']}/occurrences",
                     params={"from": task["due_date"], "to": series["end_date"]})
    last = datetime.fromisoformat(r.json()["occurrences"][-1].replace("Z", "+00:00"))
    assert last.astimezone(BERLIN).date() == date(2027, 6, 30), last
