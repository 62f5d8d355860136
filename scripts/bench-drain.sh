#!/usr/bin/env bash
# How fast, and at what CPU cost, each consumer of task-operations works off a backlog, with its
# subscription delivering one event per request and in bulk, measured in the same run.
# For each consumer and mode: its sidecar is stopped, EVENTS daily series with a reminder are
# created through the Task API (one v1.task.created each; the backlog), the sidecar is started
# again with the mode set in its rendered subscriptions, and the CPU of the stack's processes
# is counted until the sidecar's metrics show every event handled. The rendered subscriptions
# are restored at the end.
#   scripts/bench-drain.sh                     EVENTS=1500, consumers dashboard, recurrence-engine, notification
#   EVENTS=3000 CONSUMERS="dashboard" STACK=dev scripts/bench-drain.sh
# Last line: drain_cpu_ratio_<consumer>=<single ms/event ÷ bulk ms/event> ... and
#   drain_eps_bulk_<consumer>= / drain_eps_single_<consumer>= (events per second).
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
STACK="${STACK:-test}"
EVENTS="${EVENTS:-1500}"
CONSUMERS="${CONSUMERS:-dashboard recurrence-engine notification}"
RATE="${RATE:-60}"
stack_env "$STACK"
PY="$TOOLS/venv/bin/python"
VEGETA="$ROOT/.tools/bin/vegeta"
BASE="http://127.0.0.1:$(app_port task-api)"
for bin in "$PY" "$VEGETA"; do [ -x "$bin" ] || die "$bin is missing (run scripts/setup.sh)"; done
curl -fsS "$BASE/readyz" >/dev/null || die "task-api on $BASE is not ready: start the stack first (scripts/stack.sh $STACK up)"

WORK="$(mktemp -d)"
restore() {
  for app in $CONSUMERS; do
    [ -f "$WORK/$app.subscriptions.yaml" ] || continue
    cp "$WORK/$app.subscriptions.yaml" "$STACK_DIR/resources/$app/subscriptions.yaml"
    bash "$ROOT/scripts/stack.sh" "$STACK" stop "daprd-$app" >/dev/null 2>&1 || true
    bash "$ROOT/scripts/stack.sh" "$STACK" start "daprd-$app" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap restore EXIT
for app in $CONSUMERS; do cp "$STACK_DIR/resources/$app/subscriptions.yaml" "$WORK/$app.subscriptions.yaml"; done

due="$(date -u -d '+2 days' +%Y-%m-%dT09:00:00Z)"
printf '{"title":"drain bench","recurrence":"daily","due_date":"%s","reminders":["PT1H"]}' "$due" >"$WORK/body.json"

# CPU seconds so far of the stack's processes that take part in a drain, by name (the
# consumer's sidecar and Spin process, PostgreSQL, Kafka, the scheduler, the live-sync server).
cpu_snapshot() { # app
  "$PY" - "$ROOT" "$STACK_DIR" "$(cat "$RUN_DIR/postgres.pid" 2>/dev/null || echo 0)" "$1" "$(app_port "$1")" <<'PYEOF'
import json, os, sys
root, stack_dir, postmaster, app, port = sys.argv[1:6]
hz = os.sysconf("SC_CLK_TCK")
out = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        raw = open(f"/proc/{pid}/stat").read()
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace").split("\0")
    except OSError:
        continue
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    f = raw[raw.rindex(")") + 2:].split()
    line = " ".join(cmd)
    if not (root in line or stack_dir in line or pid == postmaster or f[1] == postmaster):
        continue
    name = None
    if comm.startswith("daprd") and f"--app-id {app} " in line + " ":
        name = "daprd"
    elif comm.startswith("spin") and f"127.0.0.1:{port}" in line:
        name = "spin"
    elif pid == postmaster or f[1] == postmaster:
        name = "postgres"
    elif comm == "java":
        name = "kafka"
    elif comm.startswith("scheduler"):
        name = "scheduler"
    elif comm.startswith("centrifugo"):
        name = "centrifugo"
    if name:
        out[name] = out.get(name, 0) + (int(f[11]) + int(f[12])) / hz
print(json.dumps(out))
PYEOF
}

# Events of task-operations the consumer's sidecar has handled since it started (single and bulk).
handled() { # app
  curl -fsS "http://127.0.0.1:$(metrics_port "$1")/metrics" 2>/dev/null | "$PY" -c '
import re, sys
n = 0
for line in sys.stdin:
    if line.startswith("#") or "topic=\"task-operations\"" not in line:
        continue
    name = line.split("{", 1)[0]
    if name == "dapr_component_pubsub_ingress_count" or name == "dapr_component_pubsub_ingress_bulk_event_count":
        n += float(line.rsplit(" ", 1)[1])
print(int(n))'
}

metrics_port() { echo $((DAPR_METRICS_BASE + APP_INDEX[$1])); }

tokens() {
  : >"$WORK/targets"
  for u in $(seq 1 50); do
    printf 'POST %s/api/tasks\nAuthorization: Bearer %s\nContent-Type: application/json\n@%s\n\n' \
      "$BASE" "$(bash "$ROOT/scripts/dev-token.sh" "drain-$(date +%s)-$u" 3600)" "$WORK/body.json" >>"$WORK/targets"
  done
}

# One drain: prints "app mode events seconds cpu_ms_per_event" to results.
drain() { # app mode(single|bulk)
  local app="$1" mode="$2" enabled=false
  [ "$mode" = bulk ] && enabled=true
  bash "$ROOT/scripts/stack.sh" "$STACK" stop "daprd-$app" >/dev/null
  sed "s/^    enabled: .*/    enabled: $enabled/" "$WORK/$app.subscriptions.yaml" >"$STACK_DIR/resources/$app/subscriptions.yaml"
  tokens
  log "$app ($mode): building a backlog of $EVENTS created events at $RATE/s"
  "$VEGETA" attack -targets="$WORK/targets" -rate="$RATE" -duration="$((EVENTS / RATE))s" -timeout=30s \
    | "$VEGETA" report -type=json >"$WORK/attack.json"
  local made
  made="$("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["status_codes"].get("201", 0))' "$WORK/attack.json")"
  [ "$made" -gt 0 ] || die "no task was created (status codes: $(cat "$WORK/attack.json"))"
  sleep 3 # the outbox publishes the last events
  cpu_snapshot "$app" >"$WORK/cpu-before"
  local t0 t1 n=0
  t0="$(date +%s.%N)"
  bash "$ROOT/scripts/stack.sh" "$STACK" start "daprd-$app" >/dev/null 2>&1
  for _ in $(seq 1 1200); do
    n="$(handled "$app" || echo 0)"
    [ "${n:-0}" -ge "$made" ] && break
    sleep 0.25
  done
  t1="$(date +%s.%N)"
  cpu_snapshot "$app" >"$WORK/cpu-after"
  [ "${n:-0}" -ge "$made" ] || die "$app ($mode): only $n of $made events handled in 300 s"
  "$PY" - "$app" "$mode" "$made" "$t0" "$t1" "$WORK/cpu-before" "$WORK/cpu-after" >>"$WORK/results" <<'PYEOF'
import json, sys
app, mode, n, t0, t1 = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
a, b = json.load(open(sys.argv[6])), json.load(open(sys.argv[7]))
parts = {k: (b[k] - a.get(k, 0)) * 1000 / n for k in b}
print(app, mode, n, f"{t1 - t0:.2f}", f"{sum(parts.values()):.3f}",
      " ".join(f"{k}={v:.2f}" for k, v in sorted(parts.items())))
PYEOF
  tail -1 "$WORK/results" | awk '{printf "  %-18s %-6s %5d events in %6.2f s (%5.0f/s)  %.2f ms CPU/event  [%s]\n", $1, $2, $3, $4, $3/$4, $5, substr($0, index($0,$6))}'
}

log "drain bench on the $STACK stack: $EVENTS events per run, consumers: $CONSUMERS"
for app in $CONSUMERS; do
  for mode in single bulk; do drain "$app" "$mode"; done
done

"$PY" - "$WORK/results" <<'PYEOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    app, mode, n, secs, cpu = line.split()[:5]
    rows[(app, mode)] = (int(n) / float(secs), float(cpu))
keys = []
for app in dict.fromkeys(a for a, _ in rows):
    short = {"recurrence-engine": "engine"}.get(app, app)
    single, bulk = rows.get((app, "single")), rows.get((app, "bulk"))
    if single and bulk:
        print(f"{app}: bulk delivery uses {single[1] / bulk[1]:.2f}x less CPU per event and drains {bulk[0] / single[0]:.2f}x faster")
        keys += [f"drain_cpu_ratio_{short}={single[1] / bulk[1]:.2f}", f"drain_eps_bulk_{short}={bulk[0]:.0f}",
                 f"drain_eps_single_{short}={single[0]:.0f}", f"drain_cpu_ms_bulk_{short}={bulk[1]:.2f}"]
print(" ".join(keys))
PYEOF
