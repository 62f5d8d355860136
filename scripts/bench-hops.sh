#!/usr/bin/env bash
# What one hop of the write path costs in CPU, each measured alone on a running stack: a request to
# a Spin component (a handler without I/O), and the three kinds of sidecar call a create makes
# through the Task API's daprd (a secret read, a statement through the PostgreSQL binding, a
# publish to Kafka). Each hop runs open loop (vegeta) at RATE for DURATION; the CPU of every stack
# process over the burst, less the idle stack's, is divided by the calls. The sum for one create's
# hops (one request, one secret read, two statements, one publish) is the floor of the Task API's
# part of a create in this design, before any consumer sees the event.
#   scripts/bench-hops.sh                         against the test stack
#   STACK=dev RATE=300 DURATION=10 scripts/bench-hops.sh
# Publishes go to the topic `bench-hops` (created if missing, no consumer).
# Last line: request_ms=<a> secret_ms=<b> statement_ms=<c> publish_ms=<d> create_floor_ms=<e>
# create_hops=<f> goal_ms=3
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
STACK="${STACK:-test}"
RATE="${RATE:-300}"
DURATION="${DURATION:-10}"
[[ "$RATE" =~ ^[0-9]+$ && "$DURATION" =~ ^[0-9]+$ ]] || die "RATE and DURATION must be whole numbers"
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

# The stack's idle CPU per second, subtracted from each burst.
cpu_snapshot >"$WORK/idle-a"; sleep 5; cpu_snapshot >"$WORK/idle-b"

printf 'GET %s/healthz\n' "$TASK_API" >"$WORK/request.targets"
printf 'GET %s/v1.0/secrets/local-secrets/jwt-secret\n' "$DAPR" >"$WORK/secret.targets"
printf '{"operation":"query","metadata":{"sql":"select 1"}}' >"$WORK/statement.json"
printf 'POST %s/v1.0/bindings/tasks-db\nContent-Type: application/json\n@%s\n' "$DAPR" "$WORK/statement.json" >"$WORK/statement.targets"
printf '{"specversion":"1.0","id":"bench","source":"bench-hops","type":"v1.bench.hop","datacontenttype":"application/json","data":{"n":1}}' >"$WORK/publish.json"
printf 'POST %s/v1.0/publish/pubsub/bench-hops\nContent-Type: application/cloudevents+json\n@%s\n' "$DAPR" "$WORK/publish.json" >"$WORK/publish.targets"

log "hop costs on stack $STACK: $RATE calls/s for ${DURATION}s each, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for hop in request secret statement publish; do
  cpu_snapshot >"$WORK/$hop-a"
  t0=$(date +%s.%N)
  "$VEGETA" attack -targets="$WORK/$hop.targets" -rate="$RATE" -duration="${DURATION}s" -timeout=10s >"$WORK/$hop.bin"
  t1=$(date +%s.%N)
  cpu_snapshot >"$WORK/$hop-b"
  "$VEGETA" report -type=json <"$WORK/$hop.bin" >"$WORK/$hop.json"
  echo "$t0 $t1" >"$WORK/$hop.span"
done

"$PY" - "$WORK" <<'PYEOF'
import json, sys
work = sys.argv[1]
def snap(name):
    return {k: float(v) for k, v in (p.split("=") for p in open(f"{work}/{name}").read().split())}
ia, ib = snap("idle-a"), snap("idle-b")
idle = {k: (ib.get(k, 0) - ia.get(k, 0)) / 5 for k in ib}
cost = {}
for hop in ("request", "secret", "statement", "publish"):
    a, b = snap(f"{hop}-a"), snap(f"{hop}-b")
    t0, t1 = map(float, open(f"{work}/{hop}.span").read().split())
    r = json.load(open(f"{work}/{hop}.json"))
    ok = r["success"] * r["requests"]
    parts = {k: max(b[k] - a.get(k, 0) - idle.get(k, 0) * (t1 - t0), 0) * 1000 / ok
             for k in b if k not in ("vegeta", "other")} if ok else {}
    cost[hop] = sum(parts.values()) if ok else float("nan")
    shown = ", ".join(f"{k} {v:.2f}" for k, v in sorted(parts.items()) if v >= 0.005)
    print(f"  {hop:<9} {ok:6.0f} ok of {r['requests']:5d}  p50 {r['latencies']['50th'] / 1e6:6.2f} ms  "
          f"CPU {cost[hop]:.2f} ms per call ({shown})")
floor = cost["request"] + cost["secret"] + 2 * cost["statement"] + cost["publish"]
print(f"  one create's hops (1 request + 1 secret read + 2 statements + 1 publish): {floor:.2f} ms of CPU"
      " before any consumer or the statement's own work")
print(f"request_ms={cost['request']:.2f} secret_ms={cost['secret']:.2f} statement_ms={cost['statement']:.2f} "
      f"publish_ms={cost['publish']:.2f} create_floor_ms={floor:.2f} create_hops=5 goal_ms=3")
PYEOF
