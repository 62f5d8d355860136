#!/usr/bin/env bash
# Thundering-herd benchmark of the recurrence engine on a running stack: N daily series all due
# at the same instant O, whose pre-creation time has come (the clock fast-forwarded to 15 min
# before O: each series' latest instance is yesterday's, naming O as its upcoming occurrence, and
# no job is pending). The engine's generation sweep is then scheduled through its own sidecar
# (Jobs API, due in 1 s) and generates the N instances in batches of 100 (one statement and one
# bulk publish per topic each), paced by the engine's GENERATION_RATE. Prints generations/s,
# total time, the database lag (trigger → last instance row), the outbox lag (→ last event
# published to Kafka) and the engine's consumer lag on task-operations (→ every v1.task.created
# consumed, i.e. the job of each next occurrence scheduled), the load average, the sweep's time
# per phase and the CPU each process of the stack used (trigger → last row → consumer lag 0).
#   scripts/bench-herd.sh                 N=100000 against the test stack (scripts/stack.sh test up)
#   N=10000 STACK=dev scripts/bench-herd.sh
# Last line: herd_n=<n> herd_seconds=<s> generations_per_s=<r>
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
STACK="${STACK:-test}"
N="${N:-100000}"
USERS="${USERS:-1000}"
stack_env "$STACK"
ENGINE_DAPR="http://127.0.0.1:$((DAPR_HTTP_BASE + 1))"
curl -fsS "http://127.0.0.1:$((APP_PORT_BASE + 1))/recurrence/healthz" >/dev/null || die "recurrence-engine is not running (scripts/stack.sh $STACK up)"
curl -fsS "$ENGINE_DAPR/v1.0/healthz" >/dev/null || die "the recurrence engine's sidecar is not running"
TAG="herd-$(date +%s)"
PSQL=(psql "$PG_DSN" -v ON_ERROR_STOP=1 -qAt)

# O: the whole minute 14 minutes ahead: inside the 15-minute lead (pre-creation time reached),
# and late enough that the generation finishes before O (occurrences still not generated when O
# passes count as missed: the catch-up policy skips and counts them).
O="$(date -u -d "@$(( ( $(date +%s) / 60 + 14 ) * 60 ))" +%Y-%m-%dT%H:%M:%SZ)"
log "herd: $N daily series ($USERS users, tag $TAG) due at $O, pre-creation time reached"
t_setup=$SECONDS
"${PSQL[@]}" <<SQL
create temporary table herd as
  select gen_random_uuid() as series_id, gen_random_uuid() as task_id, '$TAG-' || (g % $USERS) as user_id
  from generate_series(1, $N) g;
insert into series (series_id, user_id, title, recurrence_pattern, tzid, start_at, dtstart_local, mode)
  select series_id, user_id, 'herd', 'FREQ=DAILY', 'UTC', timestamptz '$O' - interval '1 day',
         to_char((timestamptz '$O' - interval '1 day') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS'), 'fixed'
  from herd;
insert into tasks (task_id, series_id, user_id, title, due_date, is_recurring, recurrence_id, recurrence_pattern,
                   upcoming_occurrence, status, completed_at)
  select task_id, series_id, user_id, 'herd', timestamptz '$O' - interval '1 day', true,
         timestamptz '$O' - interval '1 day', 'FREQ=DAILY', timestamptz '$O', 'completed', now()
  from herd;
analyze series; analyze tasks;
SQL
ok "created $N series in $((SECONDS - t_setup)) s"

count_created() {
  "${PSQL[@]}" -c "select count(*) from tasks where user_id like '$TAG-%' and recurrence_id = timestamptz '$O'"
}
unpublished() {
  "${PSQL[@]}" -c "select count(*) from outbox where user_id like '$TAG-%' and published_at is null"
}
# Sum of the recurrence-engine consumer group's lag on task-operations.
engine_lag() {
  kafka_java org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$KAFKA_BROKERS" \
    --describe --group recurrence-engine 2>/dev/null \
    | awk '$2 == "task-operations" && $6 ~ /^[0-9]+$/ {s += $6} END {print s + 0}'
}

# CPU profile: clock ticks used by each process of the stack (its process tree, plus the
# children a process reaped, e.g. PostgreSQL's exited backends), snapshot before and after.
cpu_ticks() {
  local f name pid
  for f in "$RUN_DIR"/*.pid; do
    name="$(basename "$f" .pid)"; pid="$(cat "$f" 2>/dev/null || true)"
    [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || continue
    ps -eo pid=,ppid= | awk -v root="$pid" -v name="$name" '
      { parent[$1] = $2 }
      END {
        n = 0; tree[root] = 1
        do { grew = 0; for (p in parent) if (!(p in tree) && (parent[p] in tree)) { tree[p] = 1; grew = 1 } } while (grew)
        for (p in tree) {
          f = "/proc/" p "/stat"
          if ((getline line < f) > 0) {
            sub(/^.*\) /, "", line); split(line, a, " ")
            n += a[12] + a[13]; if (p == root) n += a[14] + a[15]
          }
          close(f)
        }
        print name, n
      }'
  done
}
# Prints CPU seconds per process between two snapshots, busiest first, and per generation.
cpu_profile() {
  local hz; hz="$(getconf CLK_TCK)"
  awk -v hz="$hz" -v n="$N" 'NR == FNR { before[$1] = $2; next }
    { d = ($2 - before[$1]) / hz; total += d; if (d > 0) printf "%s %.1f %.2f\n", $1, d, 1000 * d / n }
    END { printf "TOTAL %.1f %.2f\n", total, 1000 * total / n }' "$1" "$2" \
    | sort -k2,2nr | awk '{ printf "  %-28s %8.1f s CPU  %6.2f ms/generation\n", $1, $2, $3 }'
}
PROFILE_DIR="$(mktemp -d)"
trap 'rm -rf "$PROFILE_DIR"' EXIT
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
cpu_ticks >"$PROFILE_DIR/start"

START="$(date +%s.%N)"
curl -fsS -X POST "$ENGINE_DAPR/v1.0-alpha1/jobs/recurrence-catchup-more-bench" -H 'content-type: application/json' \
  -d '{"dueTime": "1s", "overwrite": true, "data": {}}' >/dev/null
log "generation sweep scheduled (due in 1 s); waiting for $N instances"
db_done="" pub_done="" last=0 stalled=0
while :; do
  sleep 1
  now="$(date +%s.%N)"
  c="$(count_created)"
  el="$(awk -v a="$START" -v b="$now" 'BEGIN {printf "%.1f", b - a}')"
  if [ -z "$db_done" ]; then
    printf '  t=%6ss  instances %7s / %s\n' "$el" "$c" "$N" >&2
    if [ "$c" -ge "$N" ]; then db_done="$el"; fi
  fi
  if [ -n "$db_done" ] && [ ! -s "$PROFILE_DIR/db" ]; then cpu_ticks >"$PROFILE_DIR/db"; LOAD_DB="$(cut -d' ' -f1-3 /proc/loadavg)"; fi
  if [ -n "$db_done" ] && [ -z "$pub_done" ] && [ "$(unpublished)" -eq 0 ]; then pub_done="$el"; fi
  if [ -n "$db_done" ] && [ -n "$pub_done" ]; then break; fi
  missed="$("${PSQL[@]}" -c "select coalesce(sum(missed_occurrences), 0) from series where user_id like '$TAG-%'")"
  if [ "$missed" -gt 0 ]; then die "$missed occurrences passed before they were generated (counted as missed): the herd took longer than its 14-minute lead"; fi
  if [ "$c" -eq "$last" ]; then stalled=$((stalled + 1)); else stalled=0; fi
  last="$c"
  ((stalled < 120)) || die "no progress for 120 s at $c of $N instances (see ${LOG_DIR#"$ROOT"/}/recurrence-engine.log)"
done
log "instances done after $db_done s, outbox published after $pub_done s; waiting for the engine to consume the v1.task.created events"
lag_done="" lag_start="$(date +%s)"
while :; do
  lag="$(engine_lag)"
  now="$(date +%s.%N)"
  el="$(awk -v a="$START" -v b="$now" 'BEGIN {printf "%.1f", b - a}')"
  printf '  t=%6ss  recurrence-engine lag on task-operations: %s\n' "$el" "$lag" >&2
  if [ "$lag" -eq 0 ]; then lag_done="$el"; break; fi
  if (( $(date +%s) - lag_start > ${LAG_WAIT:-1800} )); then lag_done="(not drained after ${LAG_WAIT:-1800} s more: $lag left)"; break; fi
  sleep 5
done
cpu_ticks >"$PROFILE_DIR/end"
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"
# The sweep's own account of its time (ms per phase, summed over its triggers).
sweep="$("${PSQL[@]}" -c "with runs as (select data->'summary' as s from jobs where kind = 'catchup' and last_run_at >= to_timestamp($START))
  select (select coalesce(sum((s->>'created')::bigint), 0) from runs) || ' created in ' || (select count(*) from runs) || ' triggers; ms: ' ||
         coalesce((select string_agg(k || ' ' || v, ', ' order by k) from (select m.key as k, sum(m.value::text::bigint) as v
                   from runs, jsonb_each(runs.s->'ms') m group by m.key) x), '-')")"
dupes="$("${PSQL[@]}" -c "select count(*) from (select series_id from tasks where user_id like '$TAG-%' group by series_id, recurrence_id having count(*) > 1) d")"
echo "herd benchmark: $N daily series due at $O ($(nproc) cores, stack $STACK)"
echo "  instances generated:                 $(count_created) (duplicates: $dupes)"
echo "  trigger -> last instance row (DB):   $db_done s"
echo "  trigger -> last event published:     $pub_done s"
echo "  trigger -> engine consumer lag 0:    $lag_done s"
rate="$(awk -v n="$N" -v s="$db_done" 'BEGIN {printf "%.0f", n / s}')"
echo "  generations/s:                       $rate"
echo "  load average (1/5/15 min):           before $LOAD_BEFORE, at last row $LOAD_DB, at end $LOAD_END"
echo "  generation sweep:                    $sweep"
echo "  CPU by process, trigger -> last instance row:"
cpu_profile "$PROFILE_DIR/start" "$PROFILE_DIR/db"
echo "  CPU by process, last instance row -> engine consumer lag 0:"
cpu_profile "$PROFILE_DIR/db" "$PROFILE_DIR/end"
log "cleaning up the bench rows"
"${PSQL[@]}" <<SQL >/dev/null
delete from processed_events where consumer = 'recurrence-engine/precreate' and event_id in
  (select 'precreate-' || s.series_id || '-' || to_char(timestamptz '$O' at time zone 'UTC', 'YYYYMMDD"T"HH24MISS"Z"')
   from series s where s.user_id like '$TAG-%');
delete from outbox where user_id like '$TAG-%';
delete from reminders where user_id like '$TAG-%';
delete from tasks where user_id like '$TAG-%';
delete from series where user_id like '$TAG-%';
SQL
echo "herd_n=$N herd_seconds=$db_done generations_per_s=$rate"
