#!/usr/bin/env bash
# How fast, and at what CPU cost, each consumer of task-operations works off a backlog, with its
# subscription delivering one event per request and in bulk, measured in the same run.
# For each consumer and mode: its sidecar is stopped, a backlog is built through the Task API, the
# sidecar is started again with the mode set in its rendered subscriptions, and the CPU of the
# stack's processes is counted until the database shows every event handled:
#   dashboard, notification  EVENTS daily series with a reminder created (one v1.task.created
#                            each): a change logged / the reminder's job scheduled for each;
#   recurrence-engine        EVENTS such series created while it runs, then completed (one
#                            v1.task.completed each, and the next instance's v1.task.created):
#                            every completion confirmed (processed_events).
# (daprd's bulk event counter counts bulk requests per status, not events, so it cannot tell.)
# The rendered subscriptions are restored at the end.
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
BASE="http://127.0.0.1:$(app_port task-api)"
[ -x "$PY" ] || die "$PY is missing (run scripts/setup.sh)"
ensure_vegeta
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
import json, sys
root, stack_dir, postmaster, app, port = sys.argv[1:6]
sys.path.insert(0, f"{root}/scripts/lib")
from stack_procs import stack_processes
out = {}
for pid, ppid, comm, line, seconds in stack_processes(root, stack_dir, postmaster):
    name = None
    if comm.startswith("daprd") and f"--app-id {app} " in line + " ":
        name = "daprd"
    elif comm.startswith("spin") and f"127.0.0.1:{port}" in line:
        name = "spin"
    elif pid == postmaster or ppid == postmaster:
        name = "postgres"
    elif comm == "java":
        name = "kafka"
    elif comm.startswith("scheduler"):
        name = "scheduler"
    elif comm.startswith("centrifugo"):
        name = "centrifugo"
    if name:
        out[name] = out.get(name, 0) + seconds
print(json.dumps(out))
PYEOF
}

# Events of the backlog the consumer has handled, read from the database.
handled() { # app tag
  local sql
  case "$1" in
    dashboard) sql="select count(*) from dashboard_changes where user_id like '$2-%'" ;;
    notification) sql="select count(*) from reminders r join tasks t using (task_id)
                       where t.user_id like '$2-%' and r.scheduled_for is not null" ;;
    recurrence-engine) sql="select count(*) from outbox o join processed_events p
                            on p.consumer = 'recurrence-engine/task-operations' and p.event_id = o.event_id::text
                            where o.user_id like '$2-%' and o.type = 'v1.task.completed'" ;;
  esac
  psql "$PG_DSN" -qAt -c "$sql" 2>/dev/null || echo 0
}

# Targets creating a task for one of 50 users of the run's tag (their tokens in $WORK/tokens).
tokens() { # tag
  : >"$WORK/targets"; : >"$WORK/tokens"
  for u in $(seq 1 50); do
    local t; t="$(bash "$ROOT/scripts/dev-token.sh" "$1-$u" 3600)"
    printf '%s-%s %s\n' "$1" "$u" "$t" >>"$WORK/tokens"
    printf 'POST %s/api/tasks\nAuthorization: Bearer %s\nContent-Type: application/json\n@%s\n\n' \
      "$BASE" "$t" "$WORK/body.json" >>"$WORK/targets"
  done
}

# Sends the targets at RATE/s for EVENTS requests; prints how many got `want` (201 or 200).
attack() { # want
  "$VEGETA" attack -targets="$1" -rate="$RATE" -duration="$((EVENTS / RATE))s" -timeout=30s \
    | "$VEGETA" report -type=json >"$WORK/attack.json"
  "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["status_codes"].get(sys.argv[2], 0))' "$WORK/attack.json" "$2"
}

# Targets completing each pending task of the tag, with its owner's token.
complete_targets() { # tag
  psql "$PG_DSN" -qAt -F' ' -c "select user_id, task_id from tasks where user_id like '$1-%' and status = 'pending'" \
    | "$PY" -c '
import sys
tokens = dict(l.split() for l in open(sys.argv[1]) if l.strip())
for line in sys.stdin:
    if line.strip():
        user, task = line.split()
        print(f"POST {sys.argv[2]}/api/tasks/{task}/complete\nAuthorization: Bearer {tokens[user]}\n")' "$WORK/tokens" "$BASE" \
    >"$WORK/complete-targets"
}

# One drain: prints "app mode events seconds cpu_ms_per_event" to results.
drain() { # app mode(single|bulk)
  local app="$1" mode="$2" enabled=false n=0
  [ "$mode" = bulk ] && enabled=true
  bash "$ROOT/scripts/stack.sh" "$STACK" stop "daprd-$app" >/dev/null
  "$PY" - "$WORK/$app.subscriptions.yaml" "$enabled" >"$STACK_DIR/resources/$app/subscriptions.yaml" <<'PYEOF'
import re, sys
text, enabled = open(sys.argv[1]).read(), sys.argv[2]
text = re.sub(r"  bulkSubscribe:\n(    .*\n)+", "", text)
bulk = "  bulkSubscribe:\n    enabled: true\n    maxMessagesCount: 100\n    maxAwaitDurationMs: 250\n"
print(re.sub(r"(  deadLetterTopic: \S+\n)", r"\1" + bulk, text) if enabled == "true" else text, end="")
PYEOF
  local tag made
  tag="drain$(date +%s%N | cut -c1-13)"
  tokens "$tag"
  if [ "$app" = recurrence-engine ]; then
    # Series made while the engine runs; the backlog is their completions.
    bash "$ROOT/scripts/stack.sh" "$STACK" start "daprd-$app" >/dev/null 2>&1
    log "$app ($mode): $EVENTS series at $RATE/s, then their completions as the backlog"
    [ "$(attack "$WORK/targets" 201)" -gt 0 ] || die "no series was created: $(cat "$WORK/attack.json")"
    sleep 5
    bash "$ROOT/scripts/stack.sh" "$STACK" stop "daprd-$app" >/dev/null
    complete_targets "$tag"
    made="$(attack "$WORK/complete-targets" 200)"
  else
    log "$app ($mode): building a backlog of $EVENTS created events at $RATE/s"
    made="$(attack "$WORK/targets" 201)"
  fi
  [ "$made" -gt 0 ] || die "$app ($mode): the backlog is empty (status codes: $(cat "$WORK/attack.json"))"
  sleep 3 # the outbox publishes the last events
  cpu_snapshot "$app" >"$WORK/cpu-before"
  local t0 t1
  t0="$(date +%s.%N)"
  bash "$ROOT/scripts/stack.sh" "$STACK" start "daprd-$app" >/dev/null 2>&1
  for _ in $(seq 1 1200); do
    n="$(handled "$app" "$tag")"
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
