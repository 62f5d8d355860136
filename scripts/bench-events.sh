#!/usr/bin/env bash
# Event latency on a running stack: commit of a task change → each consumer processed it.
# Creates N daily series (each with a PT1H reminder) through the Task API, then completes each
# instance, both at RATE per second (open loop). That makes 3N task events on `task-operations`:
# N v1.task.created, N v1.task.completed and the N v1.task.created of the next instances the
# completions create. Every time is read from PostgreSQL's clock (one clock for all):
#   commit       outbox.created_at: now() of the one statement that wrote the task row and its
#                outbox row (the statement commits on its own, a few ms later)
#   published    outbox.published_at: the Task API marked the event published to Kafka
#   dashboard    dashboard_changes.recorded_at: the dashboard consumer recorded the event (every
#                event)
#   engine       processed_events.processed_at of consumer recurrence-engine/task-operations:
#                the recurrence engine confirmed the next instance (v1.task.completed only; for
#                v1.task.created it only schedules a Dapr job and records no time)
#   notification reminders.cancelled_at: the notification consumer cancelled the completed
#                task's reminder (v1.task.completed only; for v1.task.created it schedules the
#                reminder's job and records no time: `scheduled_for` holds the reminder time)
#   scripts/bench-events.sh                     N=1700 (5100 events) against the test stack
#   STACK=dev N=100 RATE=20 USERS=24 scripts/bench-events.sh   (tasks spread over USERS users)
#   RESULTS_DIR=<dir>                           also writes events-latency.csv and events-summary.json
#   SHED_RETRY=1                                a shed request (429/503 + Retry-After) is sent again
#                                               after that wait (bench-lag.sh, beyond the API's capacity)
# Last line: events=<n> dashboard_p50_ms=.. dashboard_p95_ms=.. dashboard_p99_ms=.. engine_p50_ms=..
# engine_p95_ms=.. engine_p99_ms=.. notification_p50_ms=.. notification_p95_ms=..
# notification_p99_ms=.. publish_p95_ms=.. unprocessed=<n> sc002_p95_met=<yes|no>
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
STACK="${STACK:-test}"
N="${N:-1700}"
RATE="${RATE:-20}"
WAIT="${WAIT:-120}"
RESULTS_DIR="${RESULTS_DIR:-}"
stack_env "$STACK"
BASE="http://127.0.0.1:$APP_PORT_BASE"
curl -fsS "$BASE/readyz" >/dev/null || die "task-api on $BASE is not ready: start the stack first (scripts/stack.sh $STACK up)"
for app in recurrence-engine notification dashboard; do
  curl -fsS "$(app_url "$app")/healthz" >/dev/null || die "$app is not running (scripts/stack.sh $STACK up)"
done
USERS="${USERS:-24}"
USER_ID="bench-events-$(date +%s)"
TOKENS=()
for ((i = 0; i < USERS; i++)); do TOKENS+=("$(bash "$ROOT/scripts/dev-token.sh" "$USER_ID-$i" 3600)"); done
log "event latency: $N series, $((3 * N)) events at $RATE requests/s on $BASE (stack $STACK, $USERS users $USER_ID-*)"

PYTHONPATH="$ROOT/scripts/lib" "$TOOLS/venv/bin/python" - "$BASE" "$PG_DSN" "$N" "$RATE" "$WAIT" "$RESULTS_DIR" "$USER_ID" "${TOKENS[@]}" <<'PYEOF'
import concurrent.futures as cf
import csv
import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone

import benchclient
from benchclient import client

base, dsn, n, rate, wait, out, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7]
auth = [{"authorization": f"Bearer {t}"} for t in sys.argv[8:]]


def psql(sql):
    return benchclient.psql(dsn, sql)


def paced(fn, items):
    """Calls fn on each item at `rate` per second (open loop); returns the results in order."""
    t0 = time.monotonic()
    futures = []
    with cf.ThreadPoolExecutor(32) as pool:
        for i, item in enumerate(items):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(fn, item))
    return [f.result() for f in futures], time.monotonic() - t0


due = (datetime.now(timezone.utc) + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
body = {"title": "bench events", "recurrence": "daily", "due_date": due.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reminders": ["PT1H"]}
errors = []


retry_shed = os.environ.get("SHED_RETRY") == "1"
shed = [0]


def send(method, url, **kw):
    """One request; with SHED_RETRY=1 a shed one (429/503 with Retry-After) is sent again after
    the wait it names, up to 20 times, as a well-behaved client does."""
    for _ in range(20):
        r = client().request(method, url, timeout=30, **kw)
        if not (retry_shed and r.status_code in (429, 503) and r.headers.get("retry-after")):
            return r
        shed[0] += 1
        time.sleep(float(r.headers["retry-after"]))
    return r


def create(i):
    r = send("POST", f"{base}/api/tasks", json=body, headers=auth[i % len(auth)])
    if r.status_code != 201:
        errors.append(f"create {r.status_code}")
        return None
    return i, r.json()["task_id"]


def complete(item):
    i, tid = item
    r = send("POST", f"{base}/api/tasks/{tid}/complete", headers=auth[i % len(auth)])
    if r.status_code != 200:
        errors.append(f"complete {r.status_code}")


tasks, secs = paced(create, range(n))
tasks = [t for t in tasks if t]
print(f"  created {len(tasks)} daily series in {secs:.1f} s ({len(tasks) / secs:.0f}/s)", flush=True)
_, secs = paced(complete, tasks)
print(f"  completed {len(tasks)} instances in {secs:.1f} s ({len(tasks) / secs:.0f}/s), {len(errors)} request errors, "
      f"{shed[0]} shed and sent again", flush=True)

mine = f"like '{prefix}-%'"
ms = "1000 * extract(epoch from ({} - o.created_at))"
sql = f"""select o.event_id::text, o.type, {ms.format('o.published_at')},
       {ms.format('(select d.recorded_at from dashboard_changes d where d.event_id = o.event_id::text)')},
       case when o.type = 'v1.task.completed' then coalesce({ms.format('''(select p.processed_at from processed_events p
            where p.consumer = 'recurrence-engine/task-operations' and p.event_id = o.event_id::text)''')}, -1) else -2 end,
       case when o.type = 'v1.task.completed' then coalesce({ms.format('''(select max(r.cancelled_at) from reminders r
            where r.task_id = o.task_id and r.status = 'cancelled')''')}, -1) else -2 end
       from outbox o where o.user_id {mine} and o.topic = 'task-operations'"""
deadline = time.monotonic() + wait
while True:
    rows = psql(sql)
    pending = sum(1 for r in rows for v in r[2:] if v == "" or v == "-1")
    if (len(rows) >= 3 * len(tasks) and pending == 0) or time.monotonic() > deadline:
        break
    time.sleep(1)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))] if xs else float("nan")


consumers = {"published": 2, "dashboard": 3, "engine": 4, "notification": 5}
lat = {c: [] for c in consumers}
samples = []
for r in rows:
    for c, i in consumers.items():
        if r[i] not in ("", "-1", "-2"):
            v = float(r[i])
            lat[c].append(v)
            samples.append((r[0], r[1], c, f"{v:.1f}"))
unprocessed = sum(1 for r in rows for i in (3, 4, 5) if r[i] in ("", "-1"))
print(f"  events: {len(rows)} on task-operations ({sum(r[1] == 'v1.task.completed' for r in rows)} completed); "
      f"not processed within {wait} s: {unprocessed}")
what = {"published": "commit -> published to Kafka (task-api)", "dashboard": "commit -> dashboard recorded (all events)",
        "engine": "commit -> recurrence engine processed", "notification": "commit -> notification cancelled reminder"}
for c, xs in lat.items():
    print(f"  {what[c]:<44} n={len(xs):5d}  p50 {pct(xs, 50):7.1f} ms  p95 {pct(xs, 95):7.1f} ms  "
          f"p99 {pct(xs, 99):7.1f} ms  max {max(xs, default=float('nan')):7.1f} ms")
worst95 = max(pct(lat[c], 95) for c in ("dashboard", "engine", "notification"))
summary = {"events": len(rows), "unprocessed": unprocessed, "request_errors": len(errors), "rate": rate, "shed_retried": shed[0]}
for c, xs in lat.items():
    for p in (50, 95, 99):
        summary[f"{c}_p{p}_ms"] = round(pct(xs, p), 1)
    summary[f"{c}_n"] = len(xs)
summary["sc002_p95_met"] = "yes" if worst95 < 1000 and not unprocessed else "no"
if out:
    with open(os.path.join(out, "events-latency.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["event_id", "type", "consumer", "ms"])
        w.writerows(samples)
    json.dump(summary, open(os.path.join(out, "events-summary.json"), "w"), indent=1)
psql(f"delete from dashboard_changes where user_id {mine}; delete from dashboard_cursors where user_id {mine}; "
     f"delete from processed_events where event_id in (select event_id::text from outbox where user_id {mine}); "
     f"delete from outbox where user_id {mine}; delete from reminders where user_id {mine}; "
     f"delete from tasks where user_id {mine}; delete from series where user_id {mine}")
if unprocessed or errors:
    print(f"error: {unprocessed} consumer records missing, {len(errors)} request errors {errors[:5]}", file=sys.stderr)
keys = [f"{c}_p{p}_ms" for c in ("dashboard", "engine", "notification") for p in (50, 95, 99)]
print(f"events={len(rows)} " + " ".join(f"{k}={summary[k]}" for k in keys)
      + f" publish_p95_ms={summary['published_p95_ms']} unprocessed={unprocessed} sc002_p95_met={summary['sc002_p95_met']}")
sys.exit(1 if unprocessed or errors else 0)
PYEOF
