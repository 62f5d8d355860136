"""Accounting by event id after a chaos run: every committed operation has its outbox event,
published and present on Kafka, and processed exactly once in effect by every consumer; no
occurrence of a series exists twice, every completed occurrence has its successor, and every
reminder sent arrived exactly once by email (Mailpit) and once by push (Mosquitto)."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from load import Op
from stackctl import KAFKA_BROKERS, MAILPIT, MQTT_PORT, ROOT, STACK_DIR, psql

EVENT_OF = {"create": "v1.task.created", "create-recurring": "v1.task.created", "complete": "v1.task.completed",
            "patch": "v1.task.updated", "delete": "v1.task.deleted"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Tally:
    lost: Counter = field(default_factory=Counter)
    duplicates: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def loss(self, what: str, n: int, example: str = "") -> None:
        if n:
            self.lost[what] += n
            self.notes.append(f"LOST {n} {what} {example}".rstrip())

    def dup(self, what: str, n: int, example: str = "") -> None:
        if n:
            self.duplicates[what] += n
            self.notes.append(f"DUPLICATE {n} {what} {example}".rstrip())


def observer_password() -> str:
    return (STACK_DIR / "secrets" / "mqtt-push-observer").read_text().strip()


class PushInbox:
    """A real MQTT subscription to every user's reminder topic for the whole run, as the stack's
    push-observer account (anonymous clients cannot connect; users may read only their own topic)."""

    def __init__(self):
        self.path = Path(tempfile.mkstemp(prefix="chaos-push-", suffix=".log")[1])
        self._fh = self.path.open("w")
        self._proc = subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(MQTT_PORT),
                                       "-u", "push-observer", "-P", observer_password(),
                                       "-q", "1", "-t", "todo/reminders/#", "-F", "%p", "-d"],
                                      stdout=self._fh, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 10
        while "SUBACK" not in self.path.read_text():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"no MQTT subscription: {self.path.read_text()}")
            time.sleep(0.05)

    def reminder_ids(self) -> Counter:
        c: Counter = Counter()
        for line in self.path.read_text().splitlines():
            try:
                c[json.loads(line)["reminder_id"]] += 1
            except (ValueError, KeyError, TypeError):
                continue  # mosquitto_sub's debug lines
        return c

    def close(self) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=10)
        self._fh.close()
        self.path.unlink(missing_ok=True)


def kafka_tool(tool_class: str, *args: str, timeout: float) -> str:
    """Runs one of Kafka's command-line tools against the stack's broker; its standard output."""
    cmd = ["java", "-Xmx256m", f"-Dlog4j2.configurationFile={ROOT}/runtime-config/local/kafka/log4j2-tools.properties",
           "-cp", f"{ROOT}/.tools/kafka/libs/*", tool_class, "--bootstrap-server", KAFKA_BROKERS, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout).stdout


def kafka_ids(topic: str) -> tuple[Counter, dict[str, str]]:
    """Event ids on a topic, read from the beginning with a fresh consumer group, and where each
    one first sits (`partition/offset`)."""
    out = kafka_tool("org.apache.kafka.tools.consumer.ConsoleConsumer", "--topic", topic, "--from-beginning",
                     "--timeout-ms", "8000", "--property", "print.partition=true", "--property", "print.offset=true",
                     "--group", f"chaos-account-{uuid.uuid4().hex[:8]}", timeout=180)
    ids: Counter = Counter()
    where: dict[str, str] = {}
    for line in out.splitlines():
        partition, offset, value = (line.split("\t", 2) + ["", ""])[:3]
        try:
            eid = json.loads(value)["id"]
        except (ValueError, KeyError, TypeError):
            continue
        ids[eid] += 1
        where.setdefault(eid, f"{partition.removeprefix('Partition:')}/{offset.removeprefix('Offset:')}")
    return ids, where


def group_offsets(group: str) -> str:
    """`kafka-consumer-groups --describe` of one consumer group (committed offset, end, lag)."""
    return kafka_tool("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", "--describe", "--group", group,
                      timeout=120)


def emails_by_reminder(users: list[str]) -> Counter:
    c: Counter = Counter()
    for u in users:
        r = requests.get(f"{MAILPIT}/api/v1/search", params={"query": f"to:{u}@users.todo.local", "limit": 5000},
                         timeout=30)
        r.raise_for_status()
        for m in r.json().get("messages") or []:
            text = requests.get(f"{MAILPIT}/api/v1/message/{m['ID']}", timeout=30).json().get("Text", "")
            for rid in set(UUID.findall(text)):
                c[rid] += 1
    return c


def quiesce(users_like: str, timeout: float) -> None:
    """Waits until the run's outbox is published and every reminder due is settled."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = psql(f"""select
            (select count(*) from outbox where user_id like '{users_like}' and published_at is null),
            (select count(*) from reminders r join tasks t using (task_id) where r.user_id like '{users_like}'
               and r.status = 'pending' and t.status = 'pending' and r.remind_at < now() - interval '5 seconds'),
            (select count(*) from reminders r join tasks t using (task_id) where r.user_id like '{users_like}'
               and r.status = 'pending' and t.status <> 'pending')""")
        unpublished, overdue, uncancelled = (int(x) for x in rows[0])
        if unpublished == 0 and overdue == 0 and uncancelled == 0:
            return
        time.sleep(2)


def account(committed: list[Op], users_like: str, users: list[str], inbox: PushInbox, tally: Tally) -> None:
    # 1. Every committed operation has its event in the outbox (one statement with the write).
    want = Counter((op.task_id, EVENT_OF[op.kind]) for op in committed)
    have = Counter()
    for tid, typ, n in psql(f"select task_id, type, count(*) from outbox where user_id like '{users_like}' "
                            "and task_id is not null group by 1, 2"):
        have[(tid, typ)] = int(n)
    missing = [k for k, n in want.items() if have[k] < n]
    tally.loss("committed operations without their outbox event", sum(want[k] - have[k] for k in missing),
               str(missing[:3]) if missing else "")
    # 2. Every event published, and on Kafka.
    rows = psql(f"select event_id, topic, type, coalesce(task_id::text, ''), published_at is not null "
                f"from outbox where user_id like '{users_like}'")
    unpublished = [r[0] for r in rows if r[4] != "t"]
    tally.loss("events never published", len(unpublished), str(unpublished[:3]) if unpublished else "")
    with ThreadPoolExecutor() as pool:
        topics = sorted({r[1] for r in rows})
        read = dict(zip(topics, pool.map(kafka_ids, topics)))
    on_kafka = {t: ids for t, (ids, _) in read.items()}
    located = {eid: f"{t}/{w}" for t, (_, where) in read.items() for eid, w in where.items()}
    absent = [r[0] for r in rows if r[4] == "t" and on_kafka[r[1]][r[0]] == 0]
    tally.loss("published events not on Kafka", len(absent), str(absent[:3]) if absent else "")
    redelivered = sum(max(0, on_kafka[r[1]][r[0]] - 1) for r in rows)
    tally.notes.append(f"events={len(rows)} on Kafka more than once (at-least-once publish, "
                       f"absorbed by idempotent consumers)={redelivered}")
    # 3. Processed exactly once in effect: the dashboard records every task event once (its
    # event_id is the primary key); the recurrence engine every completion of a series instance.
    task_events = {r[0] for r in rows if r[1] in ("task-operations", "task-modifications")}
    seen = {r[0] for r in psql(f"select event_id from dashboard_changes where user_id like '{users_like}'")}
    unseen = sorted(task_events - seen)
    tally.loss("task events the dashboard never processed", len(unseen), str(unseen[:3]) if unseen else "")
    if unseen:
        _explain_unprocessed(unseen, located, tally)
    completions = {r[0] for r in psql(
        f"select o.event_id from outbox o join tasks t using (task_id) where o.user_id like '{users_like}' "
        "and o.type = 'v1.task.completed' and t.series_id is not null")}
    engine = Counter(r[0] for r in psql(
        f"select event_id from processed_events where consumer = 'recurrence-engine/task-operations' and "
        f"event_id in (select event_id::text from outbox where user_id like '{users_like}')"))
    lost_engine = sorted(e for e in completions if engine[e] == 0)
    tally.loss("completions the recurrence engine never processed", len(lost_engine),
               str(lost_engine[:3]) if lost_engine else "")
    # 4. Series: no occurrence twice; every completed occurrence has a successor.
    dups = psql(f"select series_id, recurrence_id, count(*) from tasks where user_id like '{users_like}' "
                "and series_id is not null group by 1, 2 having count(*) > 1")
    tally.dup("occurrences of a series", sum(int(r[2]) - 1 for r in dups), str(dups[:3]) if dups else "")
    orphans = psql(f"""select c.task_id from tasks c where c.user_id like '{users_like}' and c.series_id is not null
        and c.status = 'completed' and not exists (select 1 from tasks n where n.series_id = c.series_id
        and n.recurrence_id > c.recurrence_id)""")
    tally.loss("completed occurrences without a next instance", len(orphans), str(orphans[:3]) if orphans else "")
    # 5. Reminders: each one due is settled; each sent one arrived once per channel.
    overdue = psql(f"""select r.reminder_id from reminders r join tasks t using (task_id)
        where r.user_id like '{users_like}' and r.status = 'pending' and t.status = 'pending'
        and r.remind_at < now() - interval '5 seconds'""")
    tally.loss("reminders due but never sent", len(overdue), str(overdue[:3]) if overdue else "")
    # Only reminders inside the notification's 48 h horizon have a job (docs/adr/0011); one that
    # came inside it during the run gets its job at the next hourly horizon run, so the check
    # stops two hours short of the horizon.
    unscheduled = psql(f"""select r.reminder_id from reminders r join tasks t using (task_id)
        where r.user_id like '{users_like}' and r.status = 'pending' and t.status = 'pending'
        and r.remind_at >= now() and r.remind_at < now() + interval '46 hours' and r.job_name is null""")
    tally.loss("future reminders within the horizon without their job", len(unscheduled),
               str(unscheduled[:3]) if unscheduled else "")
    sent = [r[0] for r in psql(f"select reminder_id from reminders where user_id like '{users_like}' and status = 'sent'")]
    known = {r[0] for r in psql(f"select reminder_id from reminders where user_id like '{users_like}'")}
    mails, pushes = emails_by_reminder(users), inbox.reminder_ids()
    for channel, got in (("email", mails), ("push", pushes)):
        none = [s for s in sent if got[s] == 0]
        more = {s: got[s] for s in sent if got[s] > 1}
        tally.loss(f"sent reminders that never arrived by {channel}", len(none), str(none[:3]) if none else "")
        tally.dup(f"{channel} notifications", sum(n - 1 for n in more.values()), str(list(more.items())[:3]))
        stray = [s for s in got if s in known and s not in set(sent)]
        tally.dup(f"{channel} notifications of reminders not recorded as sent", len(stray), str(stray[:3]))
    tally.notes.append(f"reminders sent={len(sent)} emails={sum(mails[s] for s in sent)} "
                       f"pushes={sum(pushes[s] for s in sent)}")


def _explain_unprocessed(event_ids: list[str], located: dict[str, str], tally: Tally) -> None:
    """Evidence for an event a consumer never acted on: where it sits on Kafka, every sidecar log
    line naming that topic/partition/offset (Dapr logs `<topic>/<partition>/<offset> [key=...]`
    when it processes or fails a message), and each consumer group's committed offsets."""
    logs = {log.name: log.read_text(errors="replace").splitlines()
            for log in sorted((STACK_DIR / "logs").glob("daprd-*.log"))}
    for eid in event_ids[:5]:
        where = located.get(eid, "?")
        tally.notes.append(f"unprocessed event {eid} sits at {where} (topic/partition/offset)")
        tally.notes.extend(f"  {name}: {line[:300]}" for name, lines in logs.items()
                           for line in lines if f"{where} [" in line)
    for group in ("dashboard", "notification", "recurrence-engine"):
        tally.notes.append(f"consumer group {group}:\n{group_offsets(group)}")
