"""The chat never creates or changes data on a guess, end to end: each utterance goes to the chat
endpoint of the running stack, and the test reads what the Task API stored for that user.

Either the chat understands every word that says when (a weekday, a date, a time, an ordinal, a
month, a repetition) and stores the task the words mean, or it asks and stores nothing: such
words never end up in a title. Verbs people use ("schedule", "set up", "plan", "book", "put"),
the when before the command, polite openings, quoted titles, and questions about what is coming
up are in the table."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from support.stack import app_url
from support.taskapi import User

CHAT = app_url("chat")
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = "MO,TU,WE,TH,FR"


@dataclass(frozen=True)
class Made:
    """One pending task with this title, rule (without UNTIL) and local due time/day."""
    title: str
    rrule: str | None = None
    time: str | None = None
    weekday: int | None = None  # 0 = Monday, of the (first) due date
    in_days: int | None = None  # due date = today + n (Berlin)
    month_day: tuple[int, int] | None = None
    reminder: bool = False


ASK = "ask"    # a question; nothing stored
LIST = "list"  # the due-date question answered; nothing stored

TABLE: list[tuple[str, object]] = [
    # -- the examples of the issue, and the verbs people use --------------------------------------
    ("remind me to pay the electricity bill on the 15th of every month at 9am",
     Made("pay the electricity bill", "FREQ=MONTHLY;BYMONTHDAY=15", "09:00", reminder=True)),
    ("remind me to pay the electricity bill on the 15th of every month", ASK),
    ("add gym on mondays, wednesdays and fridays at 6:30am", Made("gym", "FREQ=WEEKLY;BYDAY=MO,WE,FR", "06:30")),
    ("schedule team sync every weekday at 10am", Made("team sync", f"FREQ=WEEKLY;BYDAY={WEEKDAYS}", "10:00")),
    ("every 2 weeks on tuesday remind me to water the plants at 7pm",
     Made("water the plants", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "19:00", weekday=1, reminder=True)),
    ("every 2 weeks on tuesday remind me to water the plants", ASK),
    ("what's coming up this week?", LIST),
    ("set up a dentist appointment next friday at 3pm", Made("dentist appointment", None, "15:00", weekday=4)),
    ("Set up an oil change on Dec 20 at 9am", Made("oil change", None, "09:00", month_day=(12, 20))),
    ("plan quarterly review every quarter on the 1st", Made("quarterly review", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1")),
    ("plan a retro every other friday at 4pm", Made("retro", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "16:00", weekday=4)),
    ("book a haircut on friday at 11am", Made("haircut", None, "11:00", weekday=4)),
    ("book an eye test tomorrow at 2pm", Made("eye test", None, "14:00", in_days=1)),
    ("put laundry on saturday at 10am", Made("laundry", None, "10:00", weekday=5)),
    ("put away the dishes tomorrow", ASK),
    ("create a task call mom on sunday at 6pm", Made("call mom", None, "18:00", weekday=6)),
    ("create a task call mom on sunday evening", ASK),
    ("Schedule standup every mon, wed & fri at 9:15am", Made("standup", "FREQ=WEEKLY;BYDAY=MO,WE,FR", "09:15")),
    ("schedule backups every first monday of the month at 8pm", Made("backups", "FREQ=MONTHLY;BYDAY=1MO", "20:00", weekday=0)),
    ("plan a review on the last friday of every month at 4pm", Made("review", "FREQ=MONTHLY;BYDAY=-1FR", "16:00", weekday=4)),
    ("schedule payroll on the last weekday of every month at 10am",
     Made("payroll", f"FREQ=MONTHLY;BYDAY={WEEKDAYS};BYSETPOS=-1", "10:00")),
    ("SCHEDULE Board Meeting every month on the first Monday at 2pm for 6 times",
     Made("Board Meeting", "FREQ=MONTHLY;COUNT=6;BYDAY=1MO", "14:00", weekday=0)),
    # -- the when before the command ----------------------------------------------------------------
    ("every monday at 9am add standup notes", Made("standup notes", "FREQ=WEEKLY;BYDAY=MO", "09:00", weekday=0)),
    ("tomorrow at 9am remind me to call the bank", Made("call the bank", None, "09:00", in_days=1, reminder=True)),
    ("every weekday at 8am remind me to check email", Made("check email", f"FREQ=WEEKLY;BYDAY={WEEKDAYS}", "08:00", reminder=True)),
    ("daily at 10pm add journal", Made("journal", "FREQ=DAILY", "22:00")),
    ("on friday at 5pm add send invoices", Made("send invoices", None, "17:00", weekday=4)),
    ("every blue moon add water ferns", ASK),
    # -- polite openings ----------------------------------------------------------------------------
    ("please add buy bread tomorrow at 8am", Made("buy bread", None, "08:00", in_days=1)),
    ("can you remind me to stretch every day at 3pm", Made("stretch", "FREQ=DAILY", "15:00", reminder=True)),
    ("could you schedule a call with Ana on friday at 2pm", Made("call with Ana", None, "14:00", weekday=4)),
    ("Please, add pay rent monthly on the 1st at 9am", Made("pay rent", "FREQ=MONTHLY;BYMONTHDAY=1", "09:00")),
    # -- titles that name a kind of task ------------------------------------------------------------
    ("add weekly review every friday at 4pm", Made("weekly review", "FREQ=WEEKLY;BYDAY=FR", "16:00", weekday=4)),
    ("add daily standup notes every weekday at 9am", Made("daily standup notes", f"FREQ=WEEKLY;BYDAY={WEEKDAYS}", "09:00")),
    ("add Quarterly report every 3 months on the 15th", Made("Quarterly report", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15")),
    ("add monthly budget check on the last day of every month", Made("monthly budget check", "FREQ=MONTHLY;BYMONTHDAY=-1")),
    ("add finish the first draft tomorrow at 10am", Made("finish the first draft", None, "10:00", in_days=1)),
    ("add buy sun cream on saturday at 11am", Made("buy sun cream", None, "11:00", weekday=5)),
    ("add prepare March report on friday at 9am", Made("prepare March report", None, "09:00", weekday=4)),
    ("add evening walk every day at 7pm", Made("evening walk", "FREQ=DAILY", "19:00")),
    # -- quoted titles are the user's -----------------------------------------------------------------
    ('add "Monday meeting notes" every monday at 9am', Made("Monday meeting notes", "FREQ=WEEKLY;BYDAY=MO", "09:00", weekday=0)),
    ('add "call mom on sunday" tomorrow at 6pm', Made("call mom on sunday", None, "18:00", in_days=1)),
    ("add \u201cweekend plans\u201d on friday at 5pm", Made("weekend plans", None, "17:00", weekday=4)),
    ('add "review quarterly numbers" every quarter on the 1st', Made("review quarterly numbers", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1")),
    ('add "pay rent on the 1st"', Made("pay rent on the 1st")),
    # -- words that say when but were not understood: a question, nothing stored ----------------------
    ("add submit timesheet last friday of the month", ASK),
    ("add call grandma tonight", ASK),
    ("add pay rent on the 1st", ASK),
    ("add team lunch on the 2nd tuesday", ASK),
    ("add backup photos first of the month", ASK),
    ("add water ferns every 3 mondays", ASK),
    ("add dentist next week", ASK),
    ("add mow the lawn every saturday morning", ASK),
    ("remind me to take out the bins every tuesday evening", ASK),
    ("add gym every blue moon", ASK),
    ("add meeting at 7", ASK),
    ("add yoga at 6 every tuesday", ASK),
    ("add standup every weekday at 9 and 5", ASK),
    ("add rent monthly on the 32nd", ASK),
    ("add taxes on the 2nd of", ASK),
    ("add review budget every fortnight on blursday", ASK),
    ("add report due the third thursday", ASK),
    ("remind me to call mom", ASK),
    ("remind me to call mom sunday at 25:00", ASK),
    ("add call the plumber this weekend", ASK),
    ("add file taxes next month", ASK),
    ("add meet Sam on wed at 1pm", Made("meet Sam", None, "13:00", weekday=2)),
    ("add pay bills 12/15", ASK),
    ("add team offsite in june", ASK),
    ("add gym weekly at", ASK),
    ("add clean the fridge this morning", ASK),
    ("set up a call on the 3rd", ASK),
    ("schedule dentist every 2nd tuesday", ASK),
    ("every day", ASK),
    ("take out the trash every wednesday at 7pm", ASK),
    # -- things that are understood without a verb of their own -------------------------------------
    ("add gym mondays and thursdays at 7am", Made("gym", "FREQ=WEEKLY;BYDAY=MO,TH", "07:00", weekday=0)),
    ("add call Mark at 5pm", Made("call Mark", None, "17:00")),
    ("add buy milk", Made("buy milk")),
    ("todo file taxes on 2027-04-15 at 9am", Made("file taxes", None, "09:00", month_day=(4, 15))),
    ("i need to renew car insurance next monday at noon", Made("renew car insurance", None, "12:00", weekday=0)),
    ("add stretch every 2 hours", Made("stretch", "FREQ=HOURLY;INTERVAL=2")),
    # -- questions about what is coming up: answered, nothing added ----------------------------------
    ("what's coming up?", LIST),
    ("What is coming up this month?", LIST),
    ("anything due tomorrow?", LIST),
    ("what's next?", LIST),
    ("what do I have today?", LIST),
    ("do I have anything due this week?", LIST),
    ("is anything due today?", LIST),
    ("what's planned for next week?", LIST),
    ("upcoming", LIST),
    ("show me what's overdue", LIST),
    ("whats coming up next week", LIST),
    ("is there anything due today?", LIST),
]


def say(user: User, message: str) -> dict:
    r = requests.post(f"{CHAT}/api/chat", json={"message": message, "tzid": "Europe/Berlin"},
                      headers=user.headers(), timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def stored(user: User) -> list[dict]:
    r = user.request("GET", "/api/tasks")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def reminders(user: User, task_id: str) -> list[dict]:
    r = user.request("GET", f"/api/tasks/{task_id}")
    assert r.status_code == 200, r.text
    return r.json().get("reminders") or []


def check_made(user: User, want: Made, answer: dict) -> None:
    tasks = stored(user)
    assert [t["title"] for t in tasks] == [want.title], (answer["reply"], tasks)
    task = tasks[0]
    rule = task.get("recurrence_pattern")
    rule = ";".join(p for p in rule.split(";") if not p.startswith("UNTIL=")) if rule else None
    assert rule == want.rrule, answer["reply"]
    due = task.get("due_date")
    if want.time or want.weekday is not None or want.in_days is not None or want.month_day:
        assert due, answer["reply"]
        local = datetime.fromisoformat(due.replace("Z", "+00:00")).astimezone(BERLIN)
        if want.time:
            assert local.strftime("%H:%M") == want.time, (answer["reply"], due)
        if want.weekday is not None:
            assert local.weekday() == want.weekday, (answer["reply"], due)
        if want.in_days is not None:
            assert local.date() == datetime.now(BERLIN).date() + timedelta(days=want.in_days), (answer["reply"], due)
        if want.month_day:
            assert (local.month, local.day) == want.month_day, (answer["reply"], due)
    elif want.rrule is None:
        assert due is None, (answer["reply"], due)
    if want.reminder:
        assert reminders(user, task["task_id"]), answer["reply"]


@pytest.mark.parametrize("utterance, want", TABLE, ids=[u for u, _ in TABLE])
def test_the_chat_stores_what_the_words_mean_or_asks(utterance, want):
    user = User()
    answer = say(user, utterance)
    understood = answer["understood"]
    if want == ASK:
        assert understood["kind"] == "clarify", answer
        assert answer["task"] is None
        assert stored(user) == [], answer["reply"]
    elif want == LIST:
        assert understood["kind"] == "action" and understood["intent"]["intent"] == "list_due", answer
        assert stored(user) == [], answer["reply"]
    else:
        assert understood["kind"] == "action", answer
        check_made(user, want, answer)


def test_the_table_is_large_and_covers_both_outcomes():
    made = [w for _, w in TABLE if isinstance(w, Made)]
    asks = [w for _, w in TABLE if w == ASK]
    lists = [w for _, w in TABLE if w == LIST]
    assert len(TABLE) >= 80 and len(made) >= 30 and len(asks) >= 25 and len(lists) >= 10


@pytest.mark.parametrize("utterance", [
    "move standup to sunday evening",
    "move standup to next week",
    "move standup to blursday",
    "move standup to 7",
    "change standup to every blue moon",
    "stop the standup series after someday",
])
def test_a_change_that_is_not_understood_changes_nothing(utterance):
    user = User()
    assert say(user, "add standup every weekday at 9:30am")["task"]
    before = stored(user)
    answer = say(user, utterance)
    assert answer["understood"]["kind"] == "clarify", answer
    assert stored(user) == before, answer["reply"]
