#!/usr/bin/env bash
# Load test of the task-api on a running stack: creates and lists at increasing rates (vegeta,
# open loop), a CPU profile per process group for each step, and a pgbench single-row insert
# ceiling on the same PostgreSQL, so our create throughput reads as a fraction of it.
#   scripts/bench-api.sh                      against the test stack (scripts/stack.sh test up)
#   STACK=dev scripts/bench-api.sh            against the dev stack
#   RATES="200 400 800" LIST_RATES="200 800" DURATION=10 scripts/bench-api.sh
# Last line: creates_per_s=<x> p95_ms=<y> error_pct=<z> pgbench_fraction=<w>
# where x is the highest achieved create rate with p95 < 100 ms and < 1 % errors (else the
# highest achieved rate, and p95/error of that step).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STACK="${STACK:-test}"
RATES="${RATES:-100 200 300 500 1000}"
LIST_RATES="${LIST_RATES:-100 300 600}"
DURATION="${DURATION:-10}"
PY="$ROOT/.tools/venv/bin/python"
VEGETA="$ROOT/.tools/bin/vegeta"
VEGETA_VERSION="v12.13.0"

if [ ! -x "$VEGETA" ]; then
  echo "installing vegeta $VEGETA_VERSION into .tools/bin" >&2
  GOBIN="$ROOT/.tools/bin" go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
fi
PGBENCH="$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)"

eval "$(bash "$ROOT/scripts/stack.sh" "$STACK" env | sed 's/^/export /')"
off=0; [ "$STACK" = test ] && off="${TEST_PORT_OFFSET:-10000}"
BASE="http://127.0.0.1:$((8000 + off))"
curl -fsS "$BASE/readyz" >/dev/null || { echo "task-api on $BASE is not ready: start the stack first (scripts/stack.sh $STACK up)" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
USER_ID="bench-$(date +%s)"
TOKEN="$(bash "$ROOT/scripts/dev-token.sh" "$USER_ID" 3600)"
printf '{"title":"bench task","priority":"low","due_date":"2030-01-01T09:00:00Z","reminders":["PT1H"]}' >"$WORK/body.json"

# CPU seconds used so far per process group (wasmtime, daprd, postgres, kafka, vegeta), from
# /proc/<pid>/stat utime + stime.
cpu_snapshot() {
  "$PY" - <<'PYEOF'
import os, re
hz = os.sysconf("SC_CLK_TCK")
groups = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        raw = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])
    g = next((name for prefix, name in (("wasmtime", "wasmtime"), ("daprd", "daprd"), ("postgres", "postgres"),
                                        ("java", "kafka(java)"), ("vegeta", "vegeta"), ("scheduler", "scheduler"))
              if comm.startswith(prefix)), "other")
    groups[g] = groups.get(g, 0) + ticks / hz
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
  tail -1 "$WORK/results" | awk '{printf "  %-7s target %5s/s  achieved %5s ops/s  p50 %7s ms  p95 %7s ms  p99 %7s ms  errors %5s %%\n", $1, $2, $3, $4, $5, $6, $7}'
  cpu_delta "$WORK/cpu-before" "$WORK/cpu-after" "$((SECONDS - t0 > 0 ? SECONDS - t0 : 1))"
}

printf 'POST %s/api/tasks\nAuthorization: Bearer %s\nContent-Type: application/json\n@%s\n' \
  "$BASE" "$TOKEN" "$WORK/body.json" >"$WORK/targets-create"
printf 'GET %s/api/tasks?limit=50\nAuthorization: Bearer %s\n' "$BASE" "$TOKEN" >"$WORK/targets-list"

echo "task-api bench on $BASE (stack $STACK), ${DURATION}s per step, $(nproc) cores"
: >"$WORK/results"
echo "creates (POST /api/tasks: one statement with task + reminder + outbox row, then publish):"
for r in $RATES; do step create "$r"; done
echo "lists (GET /api/tasks, 50 per page):"
for r in $LIST_RATES; do step list "$r"; done

echo "pgbench ceiling: single-row inserts, 8 clients, ${DURATION}s:"
psql "$PG_DSN" -qc "create table if not exists bench_pgbench (id bigserial primary key, user_id text not null, title text not null, created_at timestamptz not null default now())"
echo "insert into bench_pgbench (user_id, title) values ('bench', 'bench task');" >"$WORK/pgbench.sql"
"$PGBENCH" -n -c 8 -j 2 -T "$DURATION" -f "$WORK/pgbench.sql" "$PG_DSN" >"$WORK/pgbench.out" 2>&1 || cat "$WORK/pgbench.out" >&2
PG_TPS="$(grep -oE 'tps = [0-9.]+' "$WORK/pgbench.out" | head -1 | awk '{print $3}')"
grep -E "latency average|tps =" "$WORK/pgbench.out" | sed 's/^/  /'
psql "$PG_DSN" -qc "drop table if exists bench_pgbench"
psql "$PG_DSN" -qc "delete from reminders where user_id = '$USER_ID'; delete from outbox where user_id = '$USER_ID'; delete from tasks where user_id = '$USER_ID'" || true

"$PY" - "$WORK/results" "${PG_TPS:-0}" <<'PYEOF'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.startswith("create")]
pg = float(sys.argv[2])
steps = [(float(r[2]), float(r[4]), float(r[6])) for r in rows]
good = [s for s in steps if s[1] < 100 and s[2] < 1]
best = max(good or steps, key=lambda s: s[0])
frac = best[0] / pg if pg else 0
print(f"creates_per_s={best[0]:.0f} p95_ms={best[1]:.1f} error_pct={best[2]:.2f} pgbench_fraction={frac:.3f}")
PYEOF
