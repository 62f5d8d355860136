#!/usr/bin/env bash
# What one hop of the write path costs in CPU, each measured alone on a running stack: a request to
# a Spin component (a handler without I/O), and the three kinds of sidecar call a create makes
# through the Task API's daprd (a secret read, a statement through the PostgreSQL binding, a
# publish to Kafka). Each hop runs open loop (vegeta) at RATE for DURATION; the CPU of every stack
# process over the burst, less the idle stack's (median of five 1 s windows), is divided by the
# calls. The sum for one create's hops (one request, one secret read, two statements, one publish)
# is the floor of the Task API's part of a create in this design, before any consumer sees the
# event. A fifth burst publishes the same events BATCH at a time through the bulk publish API
# (RATE/BATCH calls/s): what a relay that published the outbox in batches would pay per event, and
# so that lever's floor for a create (one request, one secret read, the write statement, its share
# of a bulk publish and of the relay's own request, read and mark statements). A read's floor is
# one request, one secret read and one query.
#   scripts/bench-hops.sh                         against the test stack
#   STACK=dev RATE=300 DURATION=10 BATCH=25 scripts/bench-hops.sh
# Publishes go to the topic `bench-hops` (created if missing, no consumer).
# Last line: request_ms=<a> secret_ms=<b> statement_ms=<c> publish_ms=<d> create_floor_ms=<e>
# create_hops=<f> bulk_publish_ms=<g> relay_floor_ms=<h> batch=<n> read_floor_ms=<r> goal_ms=3
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
STACK="${STACK:-test}"
RATE="${RATE:-300}"
DURATION="${DURATION:-10}"
BATCH="${BATCH:-25}"
[[ "$RATE" =~ ^[0-9]+$ && "$DURATION" =~ ^[0-9]+$ && "$BATCH" =~ ^[1-9][0-9]*$ ]] \
  || die "RATE, DURATION and BATCH must be whole numbers (BATCH at least 1)"
BULK_RATE=$(( RATE / BATCH > 0 ? RATE / BATCH : 1 ))
ensure_vegeta
stack_env "$STACK"
PY="$TOOLS/venv/bin/python"
[ -x "$PY" ] || die "$PY is missing: run scripts/setup.sh"
command -v java >/dev/null || die "java is missing: run scripts/setup.sh"
TASK_API="http://127.0.0.1:$APP_PORT_BASE"
DAPR="http://127.0.0.1:$DAPR_HTTP_BASE"
curl -fsS "$TASK_API/healthz" >/dev/null && curl -fsS "$DAPR/v1.0/healthz" >/dev/null \
  || die "task-api or its daprd on $TASK_API / $DAPR is not up: start the stack first (scripts/stack.sh $STACK up)"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
if ! kafka_topics --list 2>/dev/null | grep -qx bench-hops; then
  log "creating topic bench-hops (no consumer)"
  kafka_topics --create --if-not-exists --topic bench-hops --partitions 12 --replication-factor 1 \
    --config retention.ms=3600000 >/dev/null 2>&1 || die "could not create topic bench-hops"
fi

cpu_snapshot() {
  "$PY" - "$ROOT" "$STACK_DIR" "$(cat "$RUN_DIR/postgres.pid" 2>/dev/null || echo 0)" <<'PYEOF'
import sys
root, stack_dir, postmaster = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, f"{root}/scripts/lib")
from stack_procs import group_of, stack_processes
total = {}
for _pid, _ppid, comm, line, seconds in stack_processes(root, stack_dir, postmaster):
    g = group_of(comm, line)
    total[g] = total.get(g, 0) + seconds
print(" ".join(f"{k}={v:.3f}" for k, v in sorted(total.items())))
PYEOF
}

# The stack's idle CPU per second, subtracted from each burst: each group's median over five 1 s
# windows (stack_procs.idle_cores).
idle_samples "$WORK"

printf 'GET %s/healthz\n' "$TASK_API" >"$WORK/request.targets"
printf 'GET %s/v1.0/secrets/local-secrets/jwt-secret\n' "$DAPR" >"$WORK/secret.targets"
printf '{"operation":"query","metadata":{"sql":"select 1"}}' >"$WORK/statement.json"
printf 'POST %s/v1.0/bindings/tasks-db\nContent-Type: application/json\n@%s\n' "$DAPR" "$WORK/statement.json" >"$WORK/statement.targets"
printf '{"specversion":"1.0","id":"bench","source":"bench-hops","type":"v1.bench.hop","datacontenttype":"application/json","data":{"n":1}}' >"$WORK/publish.json"
printf 'POST %s/v1.0/publish/pubsub/bench-hops\nContent-Type: application/cloudevents+json\n@%s\n' "$DAPR" "$WORK/publish.json" >"$WORK/publish.targets"
# BATCH events of as many users (so partitions), as the relay would send them.
"$PY" - "$BATCH" >"$WORK/bulk.json" <<'PYEOF'
import json, sys
n = int(sys.argv[1])
print(json.dumps([{"entryId": str(i), "contentType": "application/cloudevents+json",
                   "metadata": {"partitionKey": f"user-{i}"},
                   "event": {"specversion": "1.0", "id": f"bench-{i}", "source": "bench-hops",
                             "type": "v1.bench.hop", "datacontenttype": "application/json", "data": {"n": i}}}
                  for i in range(n)]))
PYEOF
printf 'POST %s/v1.0-alpha1/publish/bulk/pubsub/bench-hops\nContent-Type: application/json\n@%s\n' "$DAPR" "$WORK/bulk.json" >"$WORK/bulk.targets"

log "hop costs on stack $STACK: $RATE calls/s for ${DURATION}s each, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for hop in request secret statement publish bulk; do
  rate="$RATE"; [ "$hop" = bulk ] && rate="$BULK_RATE"
  cpu_snapshot >"$WORK/$hop-a"
  t0=$(date +%s.%N)
  "$VEGETA" attack -targets="$WORK/$hop.targets" -rate="$rate" -duration="${DURATION}s" -timeout=10s >"$WORK/$hop.bin"
  t1=$(date +%s.%N)
  cpu_snapshot >"$WORK/$hop-b"
  "$VEGETA" report -type=json <"$WORK/$hop.bin" >"$WORK/$hop.json"
  echo "$t0 $t1" >"$WORK/$hop.span"
done

"$PY" - "$WORK" "$BATCH" "$ROOT" <<'PYEOF'
import json, os, sys
work, batch = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, f"{sys.argv[3]}/scripts/lib")
from stack_procs import idle_cores
def load(path):
    return {k: float(v) for k, v in (p.split("=") for p in open(path).read().split())}
def snap(name):
    return load(f"{work}/{name}")
idle = idle_cores(work, load)
cost = {}
for hop in ("request", "secret", "statement", "publish", "bulk"):
    a, b = snap(f"{hop}-a"), snap(f"{hop}-b")
    t0, t1 = map(float, open(f"{work}/{hop}.span").read().split())
    r = json.load(open(f"{work}/{hop}.json"))
    # A bulk call carries `batch` events: its cost is quoted per event.
    ok = r["success"] * r["requests"] * (batch if hop == "bulk" else 1)
    parts = {k: max(b[k] - a.get(k, 0) - idle.get(k, 0) * (t1 - t0), 0) * 1000 / ok
             for k in b if k not in ("vegeta", "other")} if ok else {}
    cost[hop] = sum(parts.values()) if ok else float("nan")
    shown = ", ".join(f"{k} {v:.2f}" for k, v in sorted(parts.items()) if v >= 0.005)
    print(f"  {hop:<9} {ok:6.0f} ok of {r['requests']:5d}  p50 {r['latencies']['50th'] / 1e6:6.2f} ms  "
          f"CPU {cost[hop]:.2f} ms per call ({shown})")
floor = cost["request"] + cost["secret"] + 2 * cost["statement"] + cost["publish"]
print(f"  one create's hops (1 request + 1 secret read + 2 statements + 1 publish): {floor:.2f} ms of CPU"
      " before any consumer or the statement's own work")
# The relay lever: the create keeps its request, secret read and write statement; its publish and
# mark-published become a share of one bulk publish plus a 1/batch share of the relay's own
# request (a job delivery), app-token read, read statement and mark statement.
relay = (cost["request"] + cost["secret"] + cost["statement"] + cost["bulk"]
         + (cost["request"] + cost["secret"] + 2 * cost["statement"]) / batch)
# A list or a get: one request, one secret read, one query (before the rows' own work).
read = cost["request"] + cost["secret"] + cost["statement"]
cores = os.cpu_count() or 1
print(f"  one read's hops (1 request + 1 secret read + 1 query): {read:.2f} ms, so at most "
      f"{cores * 1000 / read:.0f} reads/s on all {cores} cores before anything else runs")
print(f"  bulk publish: {cost['bulk']:.2f} ms per event in calls of {batch} (a single publish: {cost['publish']:.2f} ms)")
print(f"  one create's hops with a batching relay ({batch} events a run): {relay:.2f} ms")
print(f"request_ms={cost['request']:.2f} secret_ms={cost['secret']:.2f} statement_ms={cost['statement']:.2f} "
      f"publish_ms={cost['publish']:.2f} create_floor_ms={floor:.2f} create_hops=5 "
      f"bulk_publish_ms={cost['bulk']:.2f} relay_floor_ms={relay:.2f} batch={batch} read_floor_ms={read:.2f} goal_ms=3")
PYEOF
