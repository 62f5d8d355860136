#!/usr/bin/env bash
# Runs every benchmark against a running stack and ends with one line of headline figures:
#   api         creates, completes, lists at stepped rates up to saturation + pgbench ceiling (bench-api.sh)
#   events      commit -> each consumer processed (bench-events.sh)
#   recurrence  complete -> next instance (bench-recurrence-e2e.sh)
#   reminders   reminder lateness at the sinks (bench-reminders.sh)
#   herd        N daily series due at one instant (bench-herd.sh)
#   sync        N dashboard pages on the live-sync server: change -> visible on each, memory per
#               connection, database rate while idle (bench-sync.sh --clients N)
#   lag         every consumer's lag (commit -> processed, p99) at the bench's normal rate and at
#               10× it; shed requests sent again after Retry-After (bench-lag.sh)
#   drain       a consumer working off a backlog, one event per delivery and in bulk: CPU per
#               event and events/s of each (bench-drain.sh)
#   keystrokes  the rule field typed a character at a time: completions + preview per keystroke
#               (bench-keystrokes.sh)
#   shed        creates offered at 1×–5× the measured capacity: 503/429 with Retry-After, never a
#               500 or a timeout, nothing half-written (bench-shed.sh)
#   overload    far more waiting dashboard pages than admitted while events, a reminder and the
#               engine must keep working; fails on any 500, dead letter or failed delivery
#               (bench-overload.sh)
#   hops        CPU of one hop of the write path alone: a Spin request, a secret read, a statement, a
#               publish, a bulk publish per event; their sum for one create is the floor of the Task
#               API's part, with a batching relay and for a read likewise (bench-hops.sh)
#   components  Spin vs `wasmtime serve` on the same components and sidecars: per-request overhead,
#               req/s (trivial route, creates), RSS idle and per instance, daprd connection reuse
#               (bench-components.sh)
# Raw results (each bench's output, CSV/JSON figures, machine and load average per bench) go to
# <stack data dir>/bench/<UTC time>-<mode>/ (a `latest` link points at the newest); the plots
# (scripts/bench-plots.py) go to docs/benchmarks/ for a full run and into the results dir for --quick.
#   scripts/bench.sh                 full run against the test stack (scripts/stack.sh test up)
#   scripts/bench.sh --quick         small parameters (a few minutes; used by scripts/test.sh)
#   STACK=dev scripts/bench.sh       against the dev stack
#   HERD_N=10000 EVENTS_N=1700 scripts/bench.sh   override a bench's size (see below)
# Prints `N passed, M failed` (a bench passes when it ran and printed its figures), then the last
# line: mode=.. creates_per_s=.. completes_per_s=.. ... load_avg=.. duration_s=..
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
quick=false
for a in "$@"; do
  case "$a" in
    --quick) quick=true ;;
    *) die "unknown option $a (usage: scripts/bench.sh [--quick])" ;;
  esac
done
STACK="${STACK:-test}"
export STACK
stack_env "$STACK"

# The stack must be up: every process healthy, else say which are not and how to start them.
down=()
while IFS='|' read -r name cmd; do
  eval "$cmd" >/dev/null 2>&1 || down+=("$name")
done < <(health_checks)
((${#down[@]} == 0)) || die "the $STACK stack is not up (not healthy: ${down[*]}); start it with: $( [ "$STACK" = test ] && echo "TEST_PORT_OFFSET=$PORT_OFFSET ")scripts/stack.sh $STACK up"

mode=full; $quick && mode=quick
OUT="$STACK_DIR/bench/$(date -u +%Y%m%dT%H%M%SZ)-$mode"
mkdir -p "$OUT"
ln -sfn "$(basename "$OUT")" "$STACK_DIR/bench/latest"
PLOTS_DIR="${PLOTS_DIR:-$($quick && echo "$OUT" || echo "$ROOT/docs/benchmarks")}"

# Sizes per mode (each overridable from the environment).
if $quick; then
  : "${API_RATES:=50 150}" "${API_COMPLETE_RATES:=50 150}" "${API_LIST_RATES:=100 300}" "${API_DURATION:=4}"
  : "${EVENTS_N:=100}" "${EVENTS_RATE:=20}" "${E2E_N:=100}" "${E2E_RATE:=25}"
  : "${REMINDERS_N:=60}" "${REMINDERS_WINDOW:=22}" "${REMINDERS_LEAD:=15}" "${REMINDERS_USERS:=6}"
  : "${HERD_N:=1000}" "${HERD_USERS:=50}" "${SYNC_CLIENTS:=1000}" "${SYNC_IDLE_S:=4}" "${LAG_RATE:=10}" "${LAG_MULTIPLE:=3}" "${LAG_DURATION:=3}" "${DRAIN_EVENTS:=300}" "${DRAIN_CONSUMERS:=dashboard}" "${KEYSTROKE_ROUNDS:=1}" "${COMP_REQUESTS:=200}"
  : "${OVERLOAD_CLIENTS:=400}" "${OVERLOAD_HOLD_S:=20}" "${OVERLOAD_CHANGES:=20}" "${SHED_MULTIPLES:=1 5}" "${SHED_DURATION:=4}" "${COMP_LOAD_SECONDS:=2}"
  : "${HOPS_RATE:=200}" "${HOPS_DURATION:=3}"
else
  : "${API_RATES:=50 100 200 300 500 600 800 1000}" "${API_COMPLETE_RATES:=50 100 200 300 500 600 800 1000}" "${API_LIST_RATES:=100 300 600 1000 1500}" "${API_DURATION:=10}"
  : "${EVENTS_N:=1700}" "${EVENTS_RATE:=20}" "${E2E_N:=500}" "${E2E_RATE:=25}"
  : "${REMINDERS_N:=1050}" "${REMINDERS_WINDOW:=60}" "${REMINDERS_LEAD:=60}" "${REMINDERS_USERS:=210}"
  : "${HERD_N:=100000}" "${HERD_USERS:=1000}" "${SYNC_CLIENTS:=10000}" "${SYNC_IDLE_S:=10}" "${LAG_RATE:=20}" "${LAG_MULTIPLE:=10}" "${LAG_DURATION:=15}" "${DRAIN_EVENTS:=1500}" "${DRAIN_CONSUMERS:=dashboard recurrence-engine notification}" "${KEYSTROKE_ROUNDS:=3}" "${COMP_REQUESTS:=1000}"
  : "${OVERLOAD_CLIENTS:=1000}" "${OVERLOAD_HOLD_S:=40}" "${OVERLOAD_CHANGES:=40}" "${SHED_MULTIPLES:=1 2 3 5}" "${SHED_DURATION:=8}" "${COMP_LOAD_SECONDS:=10}"
  : "${HOPS_RATE:=300}" "${HOPS_DURATION:=10}"
fi

log "bench ($mode) on the $STACK stack; results in ${OUT#"$ROOT"/}"
start=$SECONDS
PASSED=0 FAILED=0
: >"$OUT/benches.tsv"
# run <name> <script> [VAR=value ...]: runs one bench with its output in <name>.log, records its
# duration, load average before and after, exit code and last line.
run() {
  local name="$1" script="$2"; shift 2
  local t0=$SECONDS load0 rc=0 last
  load0="$(cut -d' ' -f1 /proc/loadavg)"
  log "bench $name: $*"
  env "$@" RESULTS_DIR="$OUT" STACK="$STACK" bash "$ROOT/scripts/$script" 2>&1 | tee "$OUT/$name.log" || rc=${PIPESTATUS[0]}
  last="$(tail -n 1 "$OUT/$name.log")"
  if [ "$rc" -eq 0 ] && grep -qE '^([a-z0-9_]+=[^ ]+ ?)+$' <<<"$last"; then
    PASSED=$((PASSED + 1)); ok "bench $name: $last"
  else
    FAILED=$((FAILED + 1)); warn "bench $name failed (exit $rc): see ${OUT#"$ROOT"/}/$name.log"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - t0))" "$load0" "$(cut -d' ' -f1 /proc/loadavg)" "$last" >>"$OUT/benches.tsv"
}

run api bench-api.sh RATES="$API_RATES" COMPLETE_RATES="$API_COMPLETE_RATES" LIST_RATES="$API_LIST_RATES" DURATION="$API_DURATION"
run events bench-events.sh N="$EVENTS_N" RATE="$EVENTS_RATE"
run recurrence bench-recurrence-e2e.sh N="$E2E_N" RATE="$E2E_RATE"
run reminders bench-reminders.sh REMINDERS="$REMINDERS_N" WINDOW="$REMINDERS_WINDOW" LEAD="$REMINDERS_LEAD" USERS="$REMINDERS_USERS"
run herd bench-herd.sh N="$HERD_N" USERS="$HERD_USERS"
run sync bench-sync.sh CLIENTS="$SYNC_CLIENTS" IDLE_S="$SYNC_IDLE_S"
run lag bench-lag.sh RATE="$LAG_RATE" MULTIPLE="$LAG_MULTIPLE" DURATION="$LAG_DURATION"
run drain bench-drain.sh EVENTS="$DRAIN_EVENTS" CONSUMERS="$DRAIN_CONSUMERS"
run keystrokes bench-keystrokes.sh ROUNDS="$KEYSTROKE_ROUNDS"
run shed bench-shed.sh MULTIPLES="$SHED_MULTIPLES" DURATION="$SHED_DURATION"
run overload bench-overload.sh CLIENTS="$OVERLOAD_CLIENTS" HOLD_S="$OVERLOAD_HOLD_S" CHANGES="$OVERLOAD_CHANGES"
run hops bench-hops.sh RATE="$HOPS_RATE" DURATION="$HOPS_DURATION"
run components bench-components.sh REQUESTS="$COMP_REQUESTS" LOAD_SECONDS="$COMP_LOAD_SECONDS"

# The machine and versions the figures belong to.
psql_version="$(psql "$PG_DSN" -qAtc 'show server_version' 2>/dev/null || echo unknown)"
"$TOOLS/venv/bin/python" - "$OUT" "$mode" "$STACK" "$((SECONDS - start))" "$psql_version" \
  "$("$TOOLS/bin/daprd" --version 2>/dev/null | head -1)" "$KAFKA_VERSION" "$("$TOOLS/bin/wasmtime" --version)" \
  "$("$TOOLS/bin/spin" --version 2>/dev/null || echo unknown)" <<'PYEOF'
import json, os, platform, sys
from datetime import datetime, timezone
out, mode, stack, secs, pg, dapr, kafka, wasmtime, spin = sys.argv[1:10]
mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal:"))
osname = next((l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release") if l.startswith("PRETTY_NAME=")), platform.platform())
benches = []
for line in open(os.path.join(out, "benches.tsv")):
    name, rc, dur, l0, l1, last = line.rstrip("\n").split("\t", 5)
    benches.append({"name": name, "exit": int(rc), "seconds": int(dur), "load_before": float(l0), "load_after": float(l1), "last_line": last})
json.dump({"mode": mode, "stack": stack, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "seconds": int(secs),
           "machine": {"nproc": os.cpu_count(), "mem_gib": round(mem / 2**20, 1), "os": osname, "kernel": platform.release()},
           "versions": {"dapr": dapr, "kafka": kafka, "postgresql": pg, "wasmtime": wasmtime, "spin": spin},
           "benches": benches}, open(os.path.join(out, "run.json"), "w"), indent=1)
PYEOF

log "plots into ${PLOTS_DIR#"$ROOT"/}"
if "$TOOLS/venv/bin/python" "$ROOT/scripts/bench-plots.py" "$OUT" "$PLOTS_DIR"; then
  PASSED=$((PASSED + 1))
else
  FAILED=$((FAILED + 1)); warn "plots failed"
fi

echo
column -t -s $'\t' <(printf 'bench\texit\tseconds\tload_before\tload_after\n'; cut -f1-5 "$OUT/benches.tsv")
echo "results: ${OUT#"$ROOT"/}"
echo "$PASSED passed, $FAILED failed"
# The headline: chosen keys of each bench's last line, the mean 1-minute load average seen, the duration.
"$TOOLS/venv/bin/python" - "$OUT/benches.tsv" "$mode" "$((SECONDS - start))" <<'PYEOF'
import sys
keys = {
    "api": ["creates_per_s", "completes_per_s", "lists_per_s", "p95_ms", "pgbench_tps", "pgbench_fraction", "sc003_gap",
            "cpu_ms_per_create"],
    "events": ["events", "dashboard_p95_ms", "engine_p95_ms", "notification_p95_ms", "dashboard_p99_ms", "sc002_p95_met"],
    "recurrence": ["complete_to_next_p95_ms"],
    "reminders": ["email_p99_ms", "push_p99_ms"],
    "herd": ["herd_n", "generations_per_s"],
    "sync": ["sync_clients", "sync_p95_ms", "sync_p99_ms", "sync_missed", "kb_per_connection", "idle_db_tps_0", "idle_db_tps_n", "page_reads_per_s_n"],
    "lag": ["lag_p99_s", "replicas", "lag_p99_s_one_replica", "lag_p99_s_1x", "offered_per_s", "achieved_per_s"],
    "drain": ["drain_cpu_ratio_dashboard", "drain_cpu_ms_bulk_dashboard", "drain_eps_bulk_dashboard"],
    "keystrokes": ["completion_p95_ms", "preview_p95_ms"],
    "shed": ["http500", "timeouts", "shed_at_5x_pct", "half_written"],
    "overload": ["clients", "shed_503", "deliveries_failed", "dead_lettered"],
    "hops": ["create_floor_ms", "request_ms", "secret_ms", "statement_ms", "publish_ms", "bulk_publish_ms",
             "relay_floor_ms", "read_floor_ms"],
    "components": ["spin_overhead_p50_ms", "wasmtime_overhead_p50_ms", "spin_create_rps", "wasmtime_create_rps",
                   "spin_rss_idle_mb", "wasmtime_rss_idle_mb", "spin_daprd_conns_per_call", "wasmtime_daprd_conns_per_call",
                   "task_api_wasm_kb"],
}
rename = {"p95_ms": "create_p95_ms"}
parts, loads = [f"mode={sys.argv[2]}"], []
for line in open(sys.argv[1]):
    name, _, _, l0, l1, last = line.rstrip("\n").split("\t", 5)
    loads += [float(l0), float(l1)]
    kv = dict(p.split("=", 1) for p in last.split() if "=" in p)
    parts += [f"{rename.get(k, k)}={kv.get(k, 'missing')}" for k in keys.get(name, [])]
parts += [f"load_avg={sum(loads) / len(loads):.1f}" if loads else "load_avg=nan", f"duration_s={sys.argv[3]}"]
print(" ".join(parts))
PYEOF
[ "$FAILED" -eq 0 ]
