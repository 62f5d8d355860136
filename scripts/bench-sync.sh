#!/usr/bin/env bash
# Change → visible in a second client, on a running stack. One client makes changes through the
# Task API (create, complete, delete, cycling); a second client, a long-poll client speaking the
# dashboard's own protocol (GET /api/changes?after=<cursor>, exactly what the page does), waits
# for each. Changes are made one at a time: the next one starts once the previous was seen.
# Latency = from sending the change request to the long poll answering with that change.
#   scripts/bench-sync.sh                       against the test stack (TEST_PORT_OFFSET honoured)
#   STACK=dev scripts/bench-sync.sh             against the dev stack
#   CHANGES=500 scripts/bench-sync.sh
# Last line: sync_p50_ms=<a> sync_p95_ms=<b>
source "$(dirname "$0")/lib/common.sh"
STACK="${STACK:-test}"
CHANGES="${CHANGES:-240}"
(( CHANGES >= 200 )) || die "CHANGES must be at least 200"

eval "$(bash "$ROOT/scripts/stack.sh" "$STACK" env | sed 's/^/export /')"
TASK_API="http://127.0.0.1:$APP_PORT_BASE"
DASHBOARD="http://127.0.0.1:$((3000 + PORT_OFFSET))/dashboard"
curl -fsS "$TASK_API/readyz" >/dev/null || die "task-api on $TASK_API is not ready: start the stack first (scripts/stack.sh $STACK up)"
curl -fsS "$DASHBOARD/readyz" >/dev/null || die "dashboard on $DASHBOARD is not ready"
USER_ID="bench-sync-$(date +%s)"
TOKEN="$(bash "$ROOT/scripts/dev-token.sh" "$USER_ID" 3600)"
log "measuring $CHANGES changes of user $USER_ID: Task API $TASK_API → events → dashboard $DASHBOARD long poll"

TASK_API="$TASK_API" DASHBOARD="$DASHBOARD" TOKEN="$TOKEN" CHANGES="$CHANGES" "$TOOLS/venv/bin/python" - <<'PY'
import os, statistics, threading, time
import requests

api, dash, n = os.environ["TASK_API"], os.environ["DASHBOARD"], int(os.environ["CHANGES"])
auth = {"authorization": f"Bearer {os.environ['TOKEN']}"}
writer, reader = requests.Session(), requests.Session()
seen: dict[tuple[str, str], float] = {}
cond = threading.Condition()
stop = False


def poll():
    cursor = reader.get(f"{dash}/api/changes", headers=auth, timeout=30).json()["cursor"]
    while not stop:
        r = reader.get(f"{dash}/api/changes?after={cursor}", headers=auth, timeout=40)
        now = time.perf_counter()
        r.raise_for_status()
        body = r.json()
        with cond:
            for c in body["changes"]:
                seen.setdefault((c["task_id"], c["type"]), now)
            cursor = body["cursor"]
            cond.notify_all()


def wait_seen(key, timeout=15.0):
    with cond:
        if not cond.wait_for(lambda: key in seen, timeout=timeout):
            raise SystemExit(f"change {key} not seen within {timeout}s")
        return seen[key]


threading.Thread(target=poll, daemon=True).start()
time.sleep(0.5)
lat, kinds, task = [], {}, None
for i in range(n):
    step = i % 3
    t0 = time.perf_counter()
    if step == 0:
        r = writer.post(f"{api}/api/tasks", json={"title": f"sync {i}"}, headers=auth, timeout=30)
        task, kind = r.json()["task_id"], "v1.task.created"
    elif step == 1:
        r = writer.post(f"{api}/api/tasks/{task}/complete", headers=auth, timeout=30)
        kind = "v1.task.completed"
    else:
        r = writer.post(f"{api}/api/tasks", json={"title": f"sync {i} (deleted)"}, headers=auth, timeout=30)
        task = r.json()["task_id"]
        wait_seen((task, "v1.task.created"))
        t0 = time.perf_counter()
        r = writer.delete(f"{api}/api/tasks/{task}", headers=auth, timeout=30)
        kind = "v1.task.deleted"
    assert r.status_code < 300, r.text
    ms = (wait_seen((task, kind)) - t0) * 1000
    lat.append(ms)
    kinds.setdefault(kind, []).append(ms)
stop = True


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


for kind, values in kinds.items():
    print(f"{kind:20s} n={len(values):4d} p50={pct(values, 50):6.0f} ms p95={pct(values, 95):6.0f} ms max={max(values):6.0f} ms")
print(f"all                  n={len(lat):4d} p50={pct(lat, 50):6.0f} ms p95={pct(lat, 95):6.0f} ms "
      f"max={max(lat):6.0f} ms mean={statistics.mean(lat):6.0f} ms")
print(f"sync_p50_ms={pct(lat, 50):.0f} sync_p95_ms={pct(lat, 95):.0f}")
PY
