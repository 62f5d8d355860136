#!/usr/bin/env bash
# Statement cost against table size on a running stack. Runs one workload twice (creates,
# completes and lists through bench-api.sh, then bench-events.sh): once with the tables as they
# are, once after adding ROWS rows of other users to each table that grows with use (tasks,
# reminders, published outbox rows, the dashboard's change log, processed events, idempotency
# keys). Compares each statement's mean time (pg_stat_statements). A statement whose mean grows
# with the tables reads more than its own rows: a whole-table scan, or a plan PostgreSQL switches
# with the table's size. The added rows are deleted at the end.
#   scripts/bench-growth.sh                 ROWS=100000, against the test stack
#   STACK=dev ROWS=20000 scripts/bench-growth.sh
#   GROWTH_MAX=1.5                          a statement whose mean grew more than this many times,
#                                           and by more than 1 ms, counts as grown (exit 1)
# On a stack whose outbox is already long, a whole-table scan is slow in both runs: read the
# slowest means too (the old relay claim: 15.2 ms, then 30.2 ms with 100,000 rows added).
# Enables pg_stat_statements on the stack's PostgreSQL the first time (ALTER SYSTEM, then one
# restart of PostgreSQL; the sidecars reconnect).
# Last line: rows=<n> statements=<compared> max_growth=<x> grown=<n> slowest_mean_ms=<y>
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
STACK="${STACK:-test}"
ROWS="${ROWS:-100000}"
GROWTH_MAX="${GROWTH_MAX:-1.5}"
MIN_CALLS=10
stack_env "$STACK"
BASE="http://127.0.0.1:$APP_PORT_BASE"
for bin in psql awk curl; do command -v "$bin" >/dev/null || die "$bin is not installed (scripts/setup.sh)"; done
curl -fsS "$BASE/readyz" >/dev/null || die "task-api on $BASE is not ready: start the stack first (scripts/stack.sh $STACK up)"
sql=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$TODO_DB_NAME" -X -q -A -t -v ON_ERROR_STOP=1)
work="$(mktemp -d)"
PREFIX="growth-$(date +%s)"

cleanup() {
  log "deleting the added rows (users $PREFIX-*)"
  "${sql[@]}" -c "delete from reminders where user_id like '$PREFIX-%';
    delete from idempotency_keys where user_id like '$PREFIX-%';
    delete from tasks where user_id like '$PREFIX-%';
    delete from outbox where user_id like '$PREFIX-%';
    delete from dashboard_changes where user_id like '$PREFIX-%';
    delete from processed_events where event_id like '$PREFIX-%';" || warn "the added rows of $PREFIX-* could not all be deleted"
  rm -rf "$work"
}

if [[ "$("${sql[@]}" -c "show shared_preload_libraries")" != *pg_stat_statements* ]]; then
  log "enabling pg_stat_statements (restarts PostgreSQL once)"
  "${sql[@]}" -c "alter system set shared_preload_libraries = 'pg_stat_statements'"
  bash "$ROOT/scripts/stack.sh" "$STACK" stop postgres
  bash "$ROOT/scripts/stack.sh" "$STACK" start postgres
  wait_for "task-api ready after the restart" 60 curl -fsS "$BASE/readyz"
fi
"${sql[@]}" -c "create extension if not exists pg_stat_statements"
trap cleanup EXIT

# One workload; afterwards, every statement of the platform's role called MIN_CALLS times or more
# as `queryid <tab> calls <tab> mean ms <tab> text` (the benches' own cleanup and pgbench left out).
workload() {
  local out="$1"
  "${sql[@]}" -c "select pg_stat_statements_reset()" >/dev/null
  USERS=50 RATES=100 COMPLETE_RATES=100 LIST_RATES=200 DURATION=8 bash "$ROOT/scripts/bench-api.sh" \
    >"$work/api.log" 2>&1 || { tail -5 "$work/api.log" >&2; die "bench-api.sh failed"; }
  N=60 RATE=20 USERS=10 bash "$ROOT/scripts/bench-events.sh" >"$work/events.log" 2>&1 \
    || { tail -5 "$work/events.log" >&2; die "bench-events.sh failed"; }
  "${sql[@]}" -F $'\t' -c "select queryid, calls, round(mean_exec_time::numeric, 3),
      left(regexp_replace(query, '\s+', ' ', 'g'), 100)
    from pg_stat_statements s join pg_roles r on r.oid = s.userid
    where r.rolname = '$TODO_DB_USER' and s.dbid = (select oid from pg_database where datname = current_database())
      and calls >= $MIN_CALLS and query not like '%bench_pgbench%' and query not like '%like \$%'" >"$out"
  ok "$(wc -l <"$out") statements measured"
}

log "workload 1: the tables as they are"
workload "$work/before.tsv"

log "adding $ROWS rows of other users to each growing table"
"${sql[@]}" -c "
  insert into tasks (task_id, user_id, title, status, due_date)
    select gen_random_uuid(), '$PREFIX-' || (g % 500), 'growth', case when g % 3 = 0 then 'completed' else 'pending' end,
      now() + interval '3 days' + g * interval '1 minute' from generate_series(1, $ROWS) g;
  insert into reminders (reminder_id, task_id, user_id, offset_text, offset_secs, status, remind_at)
    select gen_random_uuid(), t.task_id, t.user_id, '1h', 3600,
      case when t.status = 'completed' then 'sent' else 'pending' end,
      case when t.status = 'completed' then now() - interval '2 days' - random() * interval '300 days' else t.due_date - interval '1 hour' end
    from tasks t where t.user_id like '$PREFIX-%';
  insert into outbox (event_id, type, topic, user_id, payload, published_at, created_at)
    select gen_random_uuid(), 'v1.task.created', 'task-operations', '$PREFIX-' || (g % 500), '{}', now() - interval '1 hour', now() - interval '1 hour'
    from generate_series(1, $ROWS) g;
  insert into dashboard_changes (event_id, user_id, seq, event_type)
    select '$PREFIX-' || g, '$PREFIX-' || (g % 500), g, 'v1.task.created' from generate_series(1, $ROWS) g;
  insert into processed_events (consumer, event_id)
    select c, '$PREFIX-' || g from generate_series(1, $ROWS / 2) g, (values ('recurrence-engine'), ('notification')) v(c);
  insert into idempotency_keys (user_id, key, request_hash, task_id, response)
    select t.user_id, 'k-' || t.task_id, 'h', t.task_id, '{}' from tasks t where t.user_id like '$PREFIX-%';
  analyze tasks; analyze reminders; analyze outbox; analyze dashboard_changes; analyze processed_events; analyze idempotency_keys;"
ok "added"

log "workload 2: with the added rows"
workload "$work/after.tsv"

echo "statements called at least $MIN_CALLS times in both runs, by growth of their mean time:"
awk -F'\t' -v max="$GROWTH_MAX" -v rows="$ROWS" '
  NR == FNR { before[$1] = $3; next }
  ($1 in before) {
    b = before[$1] + 0; a = $3 + 0; g = (b > 0 ? a / b : 0)
    n++; if (g > top) top = g; if (a > slowest) slowest = a
    if (g > max && a - b > 1) grown++
    printf "%8.3f ms -> %8.3f ms  x%-6.2f %s\n", b, a, g, $4 | "sort -t x -k2 -rn | head -15"
  }
  END {
    close("sort -t x -k2 -rn | head -15")
    printf "rows=%d statements=%d max_growth=%.2f grown=%d slowest_mean_ms=%.3f\n", rows, n, top, grown + 0, slowest
    exit (grown > 0 ? 1 : 0)
  }' "$work/before.tsv" "$work/after.tsv"
