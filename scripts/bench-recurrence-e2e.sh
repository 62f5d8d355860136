#!/usr/bin/env bash
# End-to-end latency of recurring completions on a running stack: creates N daily series through
# the Task API, then completes their instances at RATE per second (open loop) and measures, per
# completion, from sending `POST /api/tasks/{id}/complete` to:
#   api     the next instance row exists (the Task API writes it in the completing statement);
#   engine  the recurrence engine consumed the v1.task.completed event from Kafka and confirmed
#           the next instance (its processed_events row);
#   next    both: the next instance exists and the event pipeline agreed (the figure reported).
# Times come from one clock (client and PostgreSQL run on this host).
#   scripts/bench-recurrence-e2e.sh                 against the test stack (scripts/stack.sh test up)
#   STACK=dev N=1000 RATE=40 scripts/bench-recurrence-e2e.sh
# Last line: complete_to_next_p50_ms=<a> complete_to_next_p95_ms=<b> complete_to_next_p99_ms=<c>
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
STACK="${STACK:-test}"
N="${N:-500}"
RATE="${RATE:-25}"
((N >= 500)) || warn "N=$N: the acceptance figure needs at least 500 completions"
stack_env "$STACK"
BASE="http://127.0.0.1:$APP_PORT_BASE"
curl -fsS "$BASE/readyz" >/dev/null || die "task-api on $BASE is not ready: start the stack first (scripts/stack.sh $STACK up)"
curl -fsS "http://127.0.0.1:$((APP_PORT_BASE + 1))/recurrence/healthz" >/dev/null || die "recurrence-engine is not running"
USER_ID="bench-e2e-$(date +%s)"
TOKEN="$(bash "$ROOT/scripts/dev-token.sh" "$USER_ID" 3600)"
log "bench: $N completions at $RATE/s on $BASE (stack $STACK, user $USER_ID)"

PYTHONPATH="$ROOT/scripts/lib" "$TOOLS/venv/bin/python" - "$BASE" "$TOKEN" "$PG_DSN" "$N" "$RATE" <<'PYEOF'
import concurrent.futures as cf
import sys
import time
from datetime import datetime, timedelta, timezone

import benchclient
from benchclient import client

base, token, dsn, n, rate = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
headers = {"authorization": f"Bearer {token}"}


def psql(sql):
    return benchclient.psql(dsn, sql)


due = (datetime.now(timezone.utc) + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
body = {"title": "bench e2e", "recurrence": "daily", "due_date": due.strftime("%Y-%m-%dT%H:%M:%SZ")}


def create(_):
    r = client().post(f"{base}/api/tasks", json=body, headers=headers, timeout=30)
    r.raise_for_status()
    return r.json()["task_id"]


t0 = time.monotonic()
with cf.ThreadPoolExecutor(8) as pool:
    tasks = list(pool.map(create, range(n)))
print(f"  created {n} daily series in {time.monotonic() - t0:.1f} s", flush=True)
time.sleep(2)  # let the engine consume their v1.task.created events first

sent = {}
errors = []


def complete(tid):
    start = time.time()
    r = client().post(f"{base}/api/tasks/{tid}/complete", headers=headers, timeout=30)
    if r.status_code != 200:
        errors.append(r.status_code)
    sent[tid] = (start, time.time())


t0 = time.monotonic()
with cf.ThreadPoolExecutor(32) as pool:
    for i, tid in enumerate(tasks):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        pool.submit(complete, tid)
elapsed = time.monotonic() - t0
print(f"  sent {n} completions in {elapsed:.1f} s ({n / elapsed:.0f}/s), {len(errors)} errors", flush=True)

ids = ",".join(f"'{t}'" for t in tasks)
sql = f"""select c.task_id::text, extract(epoch from n.created_at), extract(epoch from p.processed_at)
          from tasks c join outbox o on o.task_id = c.task_id and o.type = 'v1.task.completed'
          left join processed_events p on p.consumer = 'recurrence-engine/task-operations' and p.event_id = o.event_id::text
          left join tasks n on n.series_id = c.series_id and n.task_id <> c.task_id and n.status = 'pending'
          where c.task_id in ({ids})"""
deadline = time.monotonic() + 120
while True:
    rows = psql(sql)
    done = [r for r in rows if r[1] and r[2]]
    if len(done) == n or time.monotonic() > deadline:
        break
    time.sleep(0.5)
missing = n - len(done)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))] if xs else float("nan")


api = [1000 * (float(r[1]) - sent[r[0]][0]) for r in done]
engine = [1000 * (float(r[2]) - sent[r[0]][0]) for r in done]
both = [max(a, e) for a, e in zip(api, engine)]
request = [1000 * (sent[t][1] - sent[t][0]) for t in tasks if t in sent]
for name, xs in (("complete request (response)", request), ("request -> next instance row (api)", api),
                 ("request -> engine processed event", engine), ("request -> next confirmed (reported)", both)):
    print(f"  {name:<38} p50 {pct(xs, 50):7.1f} ms  p95 {pct(xs, 95):7.1f} ms  p99 {pct(xs, 99):7.1f} ms  max {max(xs, default=float('nan')):7.1f} ms")
print(f"  completions measured: {len(done)} of {n}; not confirmed within 120 s: {missing}")
owner = psql(f"select user_id from tasks where task_id = '{tasks[0]}'")[0][0]
psql(f"delete from outbox where user_id = '{owner}'; delete from reminders where user_id = '{owner}'; "
     f"delete from tasks where user_id = '{owner}'; delete from series where user_id = '{owner}'")
if missing or errors:
    print(f"error: {missing} completions unconfirmed, {len(errors)} request errors", file=sys.stderr)
print(f"complete_to_next_p50_ms={pct(both, 50):.1f} complete_to_next_p95_ms={pct(both, 95):.1f} complete_to_next_p99_ms={pct(both, 99):.1f}")
sys.exit(1 if missing or errors else 0)
PYEOF
