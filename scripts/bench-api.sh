#!/usr/bin/env bash
# Load test of the task-api on a running stack: creates, completes and lists at increasing rates
# (vegeta, open loop) until the API saturates, a CPU profile per process group for each step,
# and a pgbench single-row insert ceiling on the same PostgreSQL, so our throughput reads as a
# fraction of it. Each kind stops stepping up once a step saturates (errors > 10 % or under
# 80 % of the offered rate achieved).
#   scripts/bench-api.sh                      against the test stack (scripts/stack.sh test up)
#   STACK=dev scripts/bench-api.sh            against the dev stack
#   RATES="200 400 800" COMPLETE_RATES="200 400" LIST_RATES="200 800" DURATION=10 scripts/bench-api.sh
#   RESULTS_DIR=<dir>                         also writes api-steps.csv and api-summary.json there
#   CPU_BY=app scripts/bench-api.sh           cores used per app for daprd and Spin (else per program)
#   USERS=100 scripts/bench-api.sh            creates spread round-robin over that many users (default
#                                             100; events are partitioned by user, so one user
#                                             would put every event on one partition)
#   IDLE_MAX_CORES=0.5                        most cores the idle stack may use for its baseline
#                                             (sampled again for up to a minute, then a warning)
# Last line: creates_per_s=<x> p95_ms=<y> error_pct=<z> pgbench_fraction=<w> completes_per_s=..
# lists_per_s=.. pgbench_tps=.. sc003_ops_per_s=.. sc003_gap=.. cpu_ms_per_create=..
# where x is the highest achieved create rate with p95 < 100 ms and < 1 % errors (else the
# highest with < 1 % errors, else the highest achieved rate; p95/error are of that step); completes_per_s and lists_per_s likewise;
# sc003_ops_per_s is the highest write rate (create or complete) meeting the seed's SC-003 bar
# (p95 < 500 ms, < 1 % errors) and sc003_gap = 1000 / sc003_ops_per_s.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STACK="${STACK:-test}"
RATES="${RATES:-100 200 300 500 600 800 1000}"
COMPLETE_RATES="${COMPLETE_RATES:-100 200 300 500 600 800 1000}"
LIST_RATES="${LIST_RATES:-100 300 600 1000 1500}"
RESULTS_DIR="${RESULTS_DIR:-}"
DURATION="${DURATION:-10}"
PY="$ROOT/.tools/venv/bin/python"
source "$ROOT/scripts/lib/common.sh"
ensure_vegeta
PGBENCH="$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)"

eval "$(bash "$ROOT/scripts/stack.sh" "$STACK" env | sed 's/^/export /')"
off=0; [ "$STACK" = test ] && off="${TEST_PORT_OFFSET:-10000}"
BASE="http://127.0.0.1:$((8000 + off))"
curl -fsS "$BASE/readyz" >/dev/null || { echo "task-api on $BASE is not ready: start the stack first (scripts/stack.sh $STACK up)" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
USER_ID="bench-$(date +%s)"
USERS="${USERS:-100}"
TOKEN="$(bash "$ROOT/scripts/dev-token.sh" "$USER_ID" 3600)"
# DUE_DATE: the created tasks' due date; the default puts their reminder beyond the reminder
# horizon (no Dapr job until 48 h before), DUE_DATE="$(date -ud '+1 day' +%FT%TZ)" inside it.
DUE_DATE="${DUE_DATE:-2030-01-01T09:00:00Z}"
printf '{"title":"bench task","priority":"low","due_date":"%s","reminders":["PT1H"]}' "$DUE_DATE" >"$WORK/body.json"

# CPU seconds used so far per process group (wasmtime, daprd, postgres, kafka, vegeta), from
# /proc/<pid>/stat utime + stime, counting only this stack's processes (their command line names
# this checkout or the stack's data dir; PostgreSQL's backends by their postmaster), not those
# of other stacks on the same machine.
cpu_snapshot() {
  "$PY" - "$ROOT" "$STACK_DIR" "$(cat "$RUN_DIR/postgres.pid" 2>/dev/null || echo 0)" <<'PYEOF'
import os, sys
root, stack_dir, postmaster = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, f"{root}/scripts/lib")
from stack_procs import group_of, stack_processes
groups = {}
by_app = os.environ.get("CPU_BY") == "app"
for _pid, _ppid, comm, line, seconds in stack_processes(root, stack_dir, postmaster):
    g = group_of(comm, line, by_app)
    groups[g] = groups.get(g, 0) + seconds
for g, v in sorted(groups.items()):
    print(g, v)
PYEOF
}

cpu_delta() { # before after seconds
  "$PY" - "$1" "$2" "$3" <<'PYEOF'
import sys
def load(p): return {l.split()[0]: float(l.split()[1]) for l in open(p) if l.strip()}
a, b, secs = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
parts = [f"{g} {max(b[g] - a.get(g, 0), 0) / secs:.2f}" for g in sorted(b) if g != "other"]
print("    cores used: " + ", ".join(parts))
# The stack's CPU seconds in the step (without the load generator), for CPU per operation.
total = sum(max(b[g] - a.get(g, 0), 0) for g in b if g not in ("other", "vegeta"))
open(sys.argv[1] + ".total", "w").write(f"{total:.3f}\n")
PYEOF
}

# Runs one step; prints a table row and appends "kind rate achieved p50 p95 p99 err" to results.
step() {
  local kind="$1" rate="$2" targets="$WORK/targets-$1"
  cpu_snapshot >"$WORK/cpu-before"
  local t0=$SECONDS
  "$VEGETA" attack -targets="$targets" -rate="$rate" -duration="${DURATION}s" -timeout=10s -max-workers=512 \
    >"$WORK/$kind-$rate.bin"
  cpu_snapshot >"$WORK/cpu-after"
  "$VEGETA" report -type=json <"$WORK/$kind-$rate.bin" >"$WORK/$kind-$rate.json"
  "$PY" - "$kind" "$rate" "$WORK/$kind-$rate.json" >>"$WORK/results" <<'PYEOF'
import json, sys
kind, rate, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = json.load(open(path))
lat = r["latencies"]
ok = r["success"] * r["requests"]
achieved = ok / (r["duration"] / 1e9) if r["duration"] else 0
err = 100 * (1 - r["success"])
print(kind, rate, f"{achieved:.0f}", f"{lat['50th'] / 1e6:.1f}", f"{lat['95th'] / 1e6:.1f}", f"{lat['99th'] / 1e6:.1f}", f"{err:.2f}")
PYEOF
  SATURATED="$(tail -1 "$WORK/results" | awk '{print ($7 > 10 || $3 < 0.8 * $2) ? "yes" : "no"}')"
  tail -1 "$WORK/results" | awk '{printf "  %-7s target %5s/s  achieved %5s ops/s  p50 %7s ms  p95 %7s ms  p99 %7s ms  errors %5s %%\n", $1, $2, $3, $4, $5, $6, $7}'
  "$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); e = r.get("errors") or []
if r["success"] < 1: print("    status codes:", r["status_codes"], "| errors:", "; ".join(e[:3]))' "$WORK/$kind-$rate.json"
  cpu_delta "$WORK/cpu-before" "$WORK/cpu-after" "$((SECONDS - t0 > 0 ? SECONDS - t0 : 1))"
  # CPU ms per successful operation of the step, appended to its results row.
  # The stack's idle CPU over the same time is subtracted (its background: jobs, Kafka, Dapr).
  "$PY" - "$WORK/$kind-$rate.json" "$(cat "$WORK/cpu-before.total")" "$IDLE_CORES" "$((SECONDS - t0 > 0 ? SECONDS - t0 : 1))" \
    >>"$WORK/cpu-per-op" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
ok = r["success"] * r["requests"]
busy = float(sys.argv[2]) - float(sys.argv[3]) * float(sys.argv[4])
print(f"{1000 * max(busy, 0) / ok:.2f}" if ok else "nan")
PYEOF
  sed -i "\$ s/\$/ $(tail -1 "$WORK/cpu-per-op")/" "$WORK/results"
}

# One create target per user; vegeta takes them in turn.
: >"$WORK/targets-create"
for ((i = 0; i < USERS; i++)); do
  printf 'POST %s/api/tasks\nAuthorization: Bearer %s\nContent-Type: application/json\n@%s\n\n' \
    "$BASE" "$(bash "$ROOT/scripts/dev-token.sh" "$USER_ID-u$i" 3600)" "$WORK/body.json" >>"$WORK/targets-create"
done
printf 'GET %s/api/tasks?limit=50\nAuthorization: Bearer %s\n' "$BASE" "$TOKEN" >"$WORK/targets-list"

# Pending tasks to complete, one per request of a step, inserted directly (setup, not measured),
# spread round-robin over USERS users of the step's own (like the creates: a user's writes are
# serialized, and its events share one partition); the targets file names each task once.
seed_completes() {
  local rate="$1" n=$(( $1 * DURATION )) i users="$USERS" user="$USER_ID-c$1-u"
  (( users <= n )) || users="$n"
  for ((i = 0; i < users; i++)); do
    echo "$user$i $(bash "$ROOT/scripts/dev-token.sh" "$user$i" 3600)"
  done >"$WORK/tokens-complete"
  psql "$PG_DSN" -qAt -F ' ' -c "insert into tasks (task_id, user_id, title, priority) select gen_random_uuid(), '$user' || (g % $users), 'bench complete', 'low' from generate_series(0, $n - 1) g returning user_id, task_id" \
    | awk -v base="$BASE" 'NR == FNR {tok[$1] = $2; next}
        NF {printf "POST %s/api/tasks/%s/complete\nAuthorization: Bearer %s\n\n", base, $2, tok[$1]}' \
      "$WORK/tokens-complete" - >"$WORK/targets-complete"
}

# Gives the outbox and consumers a moment to drain between kinds, so one kind's backlog does not
# land on the next kind's figures.
settle() { sleep "${SETTLE:-3}"; }

echo "task-api bench on $BASE (stack $STACK), ${DURATION}s per step, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$WORK/results"
# The stack's CPU while idle (its background), subtracted from each step's CPU per operation:
# each process group's median over five 1 s windows, so that one burst of background work (the
# scheduler compacting, a recurring job) inside the idle measurement is not taken for the baseline.
# A stack still busy with its start-up work (the scheduler used 1.86 cores for a minute after
# `stack.sh up`) is no baseline: it would cancel the steps' CPU. Sample again until the idle
# stack uses at most IDLE_MAX_CORES, for up to a minute, and say so if it never does.
IDLE_MAX_CORES="${IDLE_MAX_CORES:-0.5}"
for attempt in 1 2 3 4 5 6 7; do
  idle_samples "$WORK"
  "$PY" - "$WORK" "$ROOT" <<'PYEOF'
import sys
work = sys.argv[1]
sys.path.insert(0, f"{sys.argv[2]}/scripts/lib")
from stack_procs import idle_cores
def load(p): return {l.split()[0]: float(l.split()[1]) for l in open(p) if l.strip()}
median = idle_cores(work, load)
median.pop("other", None)
print("    idle stack, cores used (median of five 1 s windows): "
      + ", ".join(f"{g} {v:.2f}" for g, v in sorted(median.items())))
open(f"{work}/idle-cores", "w").write(f"{sum(v for g, v in median.items() if g != 'vegeta'):.4f}\n")
PYEOF
  IDLE_CORES="$(cat "$WORK/idle-cores")"
  awk -v c="$IDLE_CORES" -v m="$IDLE_MAX_CORES" 'BEGIN { exit !(c <= m) }' && break
  if [ "$attempt" = 7 ]; then
    warn "the idle stack still uses $IDLE_CORES cores (more than IDLE_MAX_CORES=$IDLE_MAX_CORES): cpu_ms_per_create is unreliable in this run"
  else
    warn "the idle stack uses $IDLE_CORES cores (more than IDLE_MAX_CORES=$IDLE_MAX_CORES; start-up work?): sampling again in 3 s"
    sleep 3
  fi
done
echo "creates (POST /api/tasks: one statement with task + reminder + outbox row; the outbox relay publishes):"
for r in $RATES; do step create "$r"; [ "$SATURATED" = no ] || { echo "  saturated at $r/s"; break; }; done
settle
echo "completes (POST /api/tasks/{id}/complete of a pending one-off task: one statement with the update + outbox row; the outbox relay publishes):"
for r in $COMPLETE_RATES; do seed_completes "$r"; step complete "$r"; [ "$SATURATED" = no ] || { echo "  saturated at $r/s"; break; }; done
settle
# The listing user's page: 50 pending tasks inserted directly (setup, not measured), so that each
# list answers a full page (the creates belong to other users).
if [ -n "${LIST_RATES// /}" ]; then
  psql "$PG_DSN" -qc "insert into tasks (task_id, user_id, title, description, priority, due_date) select gen_random_uuid(), '$USER_ID', 'bench list ' || g, 'a page of the list bench', 'medium', now() + g * interval '1 day' from generate_series(1, 50) g"
  page="$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/tasks?limit=50" \
    | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)["items"]))')" || page=0
  [ "$page" = 50 ] || { echo "the listing user's page holds $page tasks, not 50" >&2; exit 1; }
fi
echo "lists (GET /api/tasks, 50 per page):"
for r in $LIST_RATES; do step list "$r"; [ "$SATURATED" = no ] || { echo "  saturated at $r/s"; break; }; done

echo "pgbench ceiling: single-row inserts, 8 clients, ${DURATION}s:"
psql "$PG_DSN" -qc "create table if not exists bench_pgbench (id bigserial primary key, user_id text not null, title text not null, created_at timestamptz not null default now())"
echo "insert into bench_pgbench (user_id, title) values ('bench', 'bench task');" >"$WORK/pgbench.sql"
"$PGBENCH" -n -c 8 -j 2 -T "$DURATION" -f "$WORK/pgbench.sql" "$PG_DSN" >"$WORK/pgbench.out" 2>&1 || cat "$WORK/pgbench.out" >&2
PG_TPS="$(grep -oE 'tps = [0-9.]+' "$WORK/pgbench.out" | head -1 | awk '{print $3}')"
grep -E "latency average|tps =" "$WORK/pgbench.out" | sed 's/^/  /'
psql "$PG_DSN" -qc "drop table if exists bench_pgbench"
PG_LAT="$(grep -oE 'latency average = [0-9.]+' "$WORK/pgbench.out" | head -1 | awk '{print $4}')"
psql "$PG_DSN" -qc "delete from reminders where user_id like '$USER_ID%'; delete from outbox where user_id like '$USER_ID%'; delete from tasks where user_id like '$USER_ID%'" || true

"$PY" - "$WORK/results" "${PG_TPS:-0}" "${PG_LAT:-0}" "$RESULTS_DIR" <<'PYEOF'
import csv, json, os, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
pg, pg_lat, out = float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
steps = {k: [(float(r[2]), float(r[4]), float(r[6])) for r in rows if r[0] == k] for k in ("create", "complete", "list")}
# CPU per create: the stack's CPU time over the creates of the first (unsaturated) step, less
# the idle stack's over the same time.
cpu_create = next((float(r[7]) for r in rows if r[0] == "create" and len(r) > 7), float("nan"))

def best(kind, p95_max):
    s = steps[kind]
    if not s:
        return (0.0, float("nan"), float("nan"))
    good = [x for x in s if x[1] < p95_max and x[2] < 1] or [x for x in s if x[2] < 1] or s
    return max(good, key=lambda x: x[0])

create, complete, lst = best("create", 100), best("complete", 100), best("list", 100)
sc003 = max([x[0] for k in ("create", "complete") for x in steps[k] if x[1] < 500 and x[2] < 1] or [0])
frac = create[0] / pg if pg else 0
summary = {"creates_per_s": round(create[0]), "p95_ms": create[1], "error_pct": create[2], "pgbench_fraction": round(frac, 4),
           "completes_per_s": round(complete[0]), "complete_p95_ms": complete[1], "lists_per_s": round(lst[0]),
           "pgbench_tps": pg, "pgbench_latency_ms": pg_lat, "sc003_ops_per_s": round(sc003),
           "sc003_gap": round(1000 / sc003, 1) if sc003 else None, "cpu_ms_per_create": cpu_create}
if out:
    with open(os.path.join(out, "api-steps.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kind", "target_per_s", "achieved_per_s", "p50_ms", "p95_ms", "p99_ms", "error_pct", "cpu_ms_per_op"])
        w.writerows(rows)
    json.dump(summary, open(os.path.join(out, "api-summary.json"), "w"), indent=1)
print(f"creates_per_s={create[0]:.0f} p95_ms={create[1]:.1f} error_pct={create[2]:.2f} pgbench_fraction={frac:.3f} "
      f"completes_per_s={complete[0]:.0f} complete_p95_ms={complete[1]:.1f} lists_per_s={lst[0]:.0f} "
      f"pgbench_tps={pg:.0f} sc003_ops_per_s={sc003:.0f} sc003_gap={summary['sc003_gap']} cpu_ms_per_create={cpu_create:.2f}")
PYEOF
