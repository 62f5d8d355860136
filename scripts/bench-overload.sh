#!/usr/bin/env bash
# The platform's own deliveries under user overload, on a running stack: CLIENTS dashboard pages
# (one user each) keep long polls open for HOLD_S seconds, far more than the dashboard admits at
# once (MAX_LIVE_POLLS, default 150). Meanwhile a watcher changes CHANGES tasks, a reminder falls
# due and a recurring task is completed. Checked (the script exits 1 if any fails):
#   - polls beyond the cap are answered 503 with Retry-After at once, never 500 nor a timeout;
#   - no event is dead-lettered (end offsets of task-events-dlq, updates-dlq, alerts-dlq) and the
#     dashboard failed no delivery (its log);
#   - the reminder is delivered within 15 s of its time (seed: a minute), the engine creates the next instance;
#   - once the load ends, the watcher's live view holds every change.
#   scripts/bench-overload.sh                          against the test stack (TEST_PORT_OFFSET honoured)
#   STACK=dev CLIENTS=1000 HOLD_S=60 scripts/bench-overload.sh
# Last line: clients=.. admitted_max=.. polls_ok=.. shed_503=.. http500=.. errors=.. deliveries_failed=..
# dead_lettered=.. reminder_late_ms=.. engine_next_s=.. live_changes=..
source "$(dirname "$0")/lib/common.sh"
STACK="${STACK:-test}"
CLIENTS="${CLIENTS:-1000}"
HOLD_S="${HOLD_S:-40}"
CHANGES="${CHANGES:-40}"

eval "$(bash "$ROOT/scripts/stack.sh" "$STACK" env | sed 's/^/export /')"
DASHBOARD="http://127.0.0.1:$((3000 + PORT_OFFSET))/dashboard"
TASK_API="http://127.0.0.1:$APP_PORT_BASE"
for url in "$TASK_API" "$DASHBOARD"; do
  curl -fsS "$url/readyz" >/dev/null || die "$url is not ready: start the stack first (scripts/stack.sh $STACK up)"
done
command -v java >/dev/null || die "java is missing (scripts/setup.sh apt)"
[ -d "$ROOT/.tools/kafka/libs" ] || die "Kafka's tools are missing (scripts/setup.sh kafka)"
log "overload: $CLIENTS waiting pages on $DASHBOARD for ${HOLD_S}s; $CHANGES changes, a reminder and a completion meanwhile"

DASHBOARD="$DASHBOARD" TASK_API="$TASK_API" CLIENTS="$CLIENTS" HOLD_S="$HOLD_S" CHANGES="$CHANGES" \
  SECRETS="$ROOT/runtime-config/local/secrets.json" DASH_LOG="$STACK_DIR/logs/dashboard.log" \
  KAFKA_LIBS="$ROOT/.tools/kafka/libs" LOG4J="$ROOT/runtime-config/local/kafka/log4j2-tools.properties" \
  PYTHONPATH="$ROOT/scripts/lib" "$TOOLS/venv/bin/python" - <<'PY'
import asyncio, os, subprocess, sys, time, uuid
from collections import Counter
from urllib.parse import urlsplit

import requests

from deliveries import Probe, dlq_total as dlq_count, token as sign

env = os.environ
DASH, API = env["DASHBOARD"], env["TASK_API"]
CLIENTS, HOLD_S, CHANGES = int(env["CLIENTS"]), int(env["HOLD_S"]), int(env["CHANGES"])
RUN = uuid.uuid4().hex[:8]


def say(msg):
    print(msg, flush=True)


def token(user):
    return sign(env["SECRETS"], user)


def dlq_total():
    return dlq_count(env["KAFKA_LIBS"], env["LOG4J"], env["KAFKA_BROKERS"])


def psql(q):
    return subprocess.run(["psql", env["PG_DSN"], "-AtX", "-c", q], capture_output=True, text=True, check=True).stdout.strip()


def failed_deliveries_since(offset):
    with open(env["DASH_LOG"], "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    return sum(1 for l in text.splitlines() if "will retry event" in l or "concurrent limit" in l or "dead-lettering" in l)


# ---- the waiting pages --------------------------------------------------------------------------
dash = urlsplit(DASH)
statuses: Counter = Counter()
missing_retry_after = 0
stop = asyncio.Event()


async def one_poll(auth):
    global missing_retry_after
    reader, writer = await asyncio.open_connection(dash.hostname, dash.port)
    try:
        writer.write((f"GET {dash.path}/api/changes?after=0&wait=20 HTTP/1.1\r\nHost: {dash.hostname}\r\n"
                      f"Authorization: Bearer {auth}\r\nConnection: close\r\n\r\n").encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=35)
        await reader.read()
    finally:
        writer.close()
    lines = head.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:] if l)}
    retry = headers.get("retry-after")
    if status == 503 and not retry:
        missing_retry_after += 1
    return status, float(retry) if retry else None


async def page(i):
    auth = token(f"overload-{RUN}-{i}")
    await asyncio.sleep(i * 0.004)  # 1000 pages open within 4 s
    while not stop.is_set():
        try:
            status, retry = await one_poll(auth)
        except (asyncio.TimeoutError, OSError, IndexError, ValueError) as e:
            statuses[f"error:{type(e).__name__}"] += 1
            await asyncio.sleep(1)
            continue
        statuses[status] += 1
        if status == 503 and retry:
            try:
                await asyncio.wait_for(stop.wait(), timeout=retry)
            except asyncio.TimeoutError:
                pass
        elif status != 200:
            await asyncio.sleep(1)


async def sample_admitted(samples):
    while not stop.is_set():
        n = await asyncio.to_thread(psql, "select count(*) from live_poll_slots where held_until > now()")
        samples.append(int(n))
        await asyncio.sleep(1)


# ---- what must keep working meanwhile ------------------------------------------------------------
def changes_and_checks(result):
    http = requests.Session()
    watcher = {"authorization": f"Bearer {token(f'overload-watch-{RUN}')}"}
    ids = []
    for k in range(CHANGES):
        r = http.post(f"{API}/api/tasks", headers=watcher, json={"title": f"overload {RUN} #{k}"}, timeout=60)
        r.raise_for_status()
        ids.append(r.json()["task_id"])
        time.sleep(0.1)
    result["task_ids"] = ids
    # A reminder falling due and a completion the engine must follow, during the load.
    result["probe"] = Probe(API, env["SECRETS"], RUN)
    result["probe"].start()


async def main():
    log_offset = os.path.getsize(env["DASH_LOG"]) if os.path.exists(env["DASH_LOG"]) else 0
    dlq_before = await asyncio.to_thread(dlq_total)
    samples, result = [], {}
    pages = [asyncio.create_task(page(i)) for i in range(CLIENTS)]
    sampler = asyncio.create_task(sample_admitted(samples))
    await asyncio.sleep(6)
    say(f"{CLIENTS} pages polling; statuses so far {dict(statuses)}")
    checks = asyncio.create_task(asyncio.to_thread(changes_and_checks, result))
    await asyncio.sleep(HOLD_S)
    await checks
    stop.set()
    await asyncio.gather(*pages, sampler, return_exceptions=True)
    say(f"load ended; statuses {dict(statuses)}")
    # The reminder: delivered, and how late.
    late = await asyncio.to_thread(result["probe"].reminder_late_ms, env["PG_DSN"])
    # The live view after the load: every change of the watcher.
    w = {"authorization": f"Bearer {token(f'overload-watch-{RUN}')}"}
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(seen) < len(result["task_ids"]):
        body = requests.get(f"{DASH}/api/changes?after=0&wait=1", headers=w, timeout=30).json()
        seen = {c["task_id"] for c in body["changes"] if c["type"] == "v1.task.created"} & set(result["task_ids"])
        if len(seen) < len(result["task_ids"]):
            await asyncio.sleep(1)
    dead = await asyncio.to_thread(dlq_total) - dlq_before
    failed = failed_deliveries_since(log_offset)
    http500 = sum(v for k, v in statuses.items() if k == 500)
    errors = sum(v for k, v in statuses.items() if k not in (200, 503, 500))
    figures = {
        "clients": CLIENTS, "admitted_max": max(samples or [0]), "polls_ok": statuses[200], "shed_503": statuses[503],
        "http500": http500, "errors": errors + missing_retry_after, "deliveries_failed": failed, "dead_lettered": dead,
        "reminder_late_ms": late if late is not None else "none", "engine_next_s": result["probe"].engine_next_s or "none",
        "live_changes": f"{len(seen)}/{len(result['task_ids'])}",
    }
    bad = [k for k in ("http500", "errors", "deliveries_failed", "dead_lettered") if figures[k]]
    if late is None or late > 15_000:
        bad.append("reminder_late_ms")
    if figures["engine_next_s"] == "none":
        bad.append("engine_next_s")
    if len(seen) < len(result["task_ids"]):
        bad.append("live_changes")
    if not figures["shed_503"]:
        bad.append("shed_503 (the load never exceeded the cap)")
    say("FAILED: " + ", ".join(bad) if bad else "every check passed")
    print(" ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    return 1 if bad else 0


sys.exit(asyncio.run(main()))
PY
