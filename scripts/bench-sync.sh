#!/usr/bin/env bash
# Live sync at scale, on a running stack: N dashboard pages connected to the live-sync server
# (Centrifugo) at once, as the page connects (its own JWT, its user's channel), spread over users
# with several open pages each. In one run it measures:
#   - the database's transaction rate while the stack idles, without clients and with all N
#     connected (the whole stack's: other work shows in it too), and the reads of the tables a
#     waiting page used to poll (change log, cursors, slots): none while pages wait on live sync;
#   - the server's memory per connection;
#   - change -> visible on every open page: one task created through the Task API for each of a
#     sample of users at a steady rate; latency from sending the request to each page receiving
#     the change (Task API -> Kafka -> dashboard consumer -> live-sync binding -> Centrifugo).
# The load client (scripts/lib/syncload.py, asyncio) runs for a bounded time (connect phase at
# most 300 s, deliveries awaited at most 20 s after the last change).
#   scripts/bench-sync.sh [--clients N]       default 10000, against the test stack
#   STACK=dev USERS=2000 SAMPLE=200 RATE=20 IDLE_S=10 scripts/bench-sync.sh --clients 10000
# Last line: sync_clients=.. sync_connected=.. sync_p50_ms=.. sync_p95_ms=.. sync_p99_ms=.. sync_missed=..
#   kb_per_connection=.. idle_db_tps_0=.. idle_db_tps_n=.. page_reads_per_s_n=.. connect_s=..
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
CLIENTS="${CLIENTS:-10000}"
while (($#)); do
  case "$1" in
    --clients) CLIENTS="${2:?--clients needs a number}"; shift 2 ;;
    *) die "unknown option $1 (usage: scripts/bench-sync.sh [--clients N])" ;;
  esac
done
[[ "$CLIENTS" =~ ^[0-9]+$ ]] && ((CLIENTS >= 10)) || die "--clients must be a number >= 10"
USERS="${USERS:-$(( CLIENTS >= 50 ? CLIENTS / 5 : 10 ))}"
SAMPLE="${SAMPLE:-$(( USERS < 200 ? USERS : 200 ))}"
RATE="${RATE:-20}"
IDLE_S="${IDLE_S:-10}"
STACK="${STACK:-test}"
stack_env "$STACK"
command -v psql >/dev/null || die "psql not found (Debian package postgresql-client)"
[ -x "$TOOLS/venv/bin/python" ] || die "the Python venv is missing: scripts/setup.sh python"
TASK_API="$(app_url task-api)"
curl -fsS "$TASK_API/readyz" >/dev/null || die "task-api on $TASK_API is not ready: start the stack first (scripts/stack.sh $STACK up)"
curl -fsS "http://127.0.0.1:$CENTRIFUGO_PORT/health" >/dev/null || die "centrifugo on :$CENTRIFUGO_PORT is not up (scripts/stack.sh $STACK start centrifugo)"
pid="$(proc_pid centrifugo)"
[ -n "$pid" ] || die "no pid of the stack's centrifugo"
# Each connection is a file descriptor on both sides.
need=$((CLIENTS + 1000))
(( $(ulimit -n) >= need )) || ulimit -Sn "$need" 2>/dev/null \
  || die "open-file limit $(ulimit -n) < $need for $CLIENTS connections (ulimit -Hn is $(ulimit -Hn))"
climit="$(awk '/Max open files/ {print $4}' "/proc/$pid/limits")"
(( climit >= need )) || die "centrifugo (pid $pid) may open only $climit files, fewer than $need; restart it from a shell with a higher ulimit -n"

log "live sync: $CLIENTS pages of $USERS users on ws://127.0.0.1:$CENTRIFUGO_PORT, $SAMPLE users with a change at $RATE/s"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
CLIENTS="$CLIENTS" USERS="$USERS" SAMPLE="$SAMPLE" RATE="$RATE" IDLE_S="$IDLE_S" \
  LIVE_URL="ws://127.0.0.1:$CENTRIFUGO_PORT/connection/websocket" TASK_API="$TASK_API" PG_DSN="$PG_DSN" \
  CENTRIFUGO_PID="$pid" RESULTS_DIR="${RESULTS_DIR:-}" SECRETS_FILE="$STACK_DIR/secrets/secrets.json" RUN_ID="bench-sync-$(date +%s)" \
  PYTHONPATH="$ROOT/scripts/lib" "$TOOLS/venv/bin/python" "$ROOT/scripts/lib/syncload.py" | tee "$out"
figures="$(tail -n 1 "$out")"
[ -n "${RESULTS_DIR:-}" ] && printf '%s\n' "$figures" >"$RESULTS_DIR/sync.json"
"$TOOLS/venv/bin/python" - "$figures" <<'PY'
import json, sys
f = json.loads(sys.argv[1])
print(f"pages connected {f['connected']}/{f['clients']} in {f['connect_s']} s; server RSS "
      f"{f['server_rss_mb_idle']} MB idle -> {f['server_rss_mb_connected']} MB connected "
      f"({f['kb_per_connection']} KB per connection); load client {f['client_rss_mb']} MB")
print(f"database while idle: {f['idle_db_tps_0']} transactions/s without clients, {f['idle_db_tps_n']} "
      f"with {f['connected']} connected (the whole stack's, other work included); reads of the tables "
      f"pages used to poll: {f['page_reads_per_s_0']}/s without, {f['page_reads_per_s_n']}/s with")
print(f"change -> visible on every page: {f['deliveries']}/{f['deliveries_expected']} deliveries, "
      f"p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms, p99 {f['p99_ms']} ms, max {f['max_ms']} ms")
ok = f["connected"] == f["clients"] and f["missed"] == 0
print(" ".join([
    f"sync_clients={f['clients']}", f"sync_connected={f['connected']}", f"sync_p50_ms={f['p50_ms']}",
    f"sync_p95_ms={f['p95_ms']}", f"sync_p99_ms={f['p99_ms']}", f"sync_missed={f['missed']}",
    f"kb_per_connection={f['kb_per_connection']}", f"idle_db_tps_0={f['idle_db_tps_0']}",
    f"idle_db_tps_n={f['idle_db_tps_n']}", f"page_reads_per_s_n={f['page_reads_per_s_n']}",
    f"connect_s={f['connect_s']}"]))
sys.exit(0 if ok else 1)
PY
