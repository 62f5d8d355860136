#!/usr/bin/env bash
# Lists and replays dead-lettered events. Dapr moves an event to a subscription's dead-letter
# topic when its consumer answered DROP (poison) or kept failing past the resiliency retries;
# this reads those topics with Kafka's own console consumer and republishes chosen events to
# their original topic through a Dapr sidecar, keeping each CloudEvent id (consumers are
# idempotent, so replaying an event that was handled meanwhile changes nothing).
#   scripts/dlq.sh list   <dlq>                      every dead-lettered event of <dlq>
#   scripts/dlq.sh replay <dlq> <event id>... | --all  republish to the original topic
#   <dlq>: task-events-dlq (→ task-operations), updates-dlq (→ task-modifications),
#          alerts-dlq (→ alerts), or `outbox`: the parked outbox rows (events that kept failing
#          to publish while others were published, or that are not valid events); replaying one
#          makes it due again for the Task API's outbox repair job, which publishes it in order;
#          or `reminders`: reminder channels that are `dead` (every delivery attempt failed);
#          replaying one (by reminder id) gives it its attempts again for the reminder sweep
# Environment: STACK=dev|test (default dev; the test stack honours TEST_PORT_OFFSET),
# DAPR_URL (sidecar to publish through; default the stack's task-api sidecar), TIMEOUT_MS
# (how long the reader waits for more messages; default 5000).
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"

usage() { die "usage: scripts/dlq.sh list <dlq> | replay <dlq> <event id>... | replay <dlq> --all"; }
(($# >= 2)) || usage
cmd="$1" dlq="$2"; shift 2

# Dead letters kept in the database rather than on a topic (parked outbox rows, dead reminder
# channels), through psql on the stack's database: $1 what a row is, $2 the printf format of a
# line, $3 the tab-separated headings, $4 the listing query (six columns, the last the reason),
# $5 the id column, $6 the replay update (its `where`, to which the chosen ids are added), $7
# what happens after a replay.
db_dead_letters() {
  local noun="$1" fmt="$2" heading="$3" list_sql="$4" id_col="$5" replay_sql="$6" after="$7"
  shift 7
  local psql=(psql "$PG_DSN" -v ON_ERROR_STOP=1 -qAt -F $'\t')
  case "$cmd" in
    list)
      local rows; rows="$("${psql[@]}" -c "$list_sql")"
      echo "$dlq: $(grep -c . <<<"$rows" || true) $noun(s)"
      if [ -n "$rows" ]; then
        local -a cols; IFS=$'\t' read -ra cols <<<"$heading"
        # shellcheck disable=SC2059 # the format is this script's own
        printf "$fmt" "${cols[@]}"
        local id a b n at why
        while IFS=$'\t' read -r id a b n at why; do
          # shellcheck disable=SC2059
          printf "$fmt" "$id" "$a" "$b" "$n" "$at" "${why:0:160}"
        done <<<"$rows"
      fi
      ;;
    replay)
      (($#)) || usage
      local filter="true"
      if [ "$1" != "--all" ]; then
        local id
        for id in "$@"; do [[ "$id" =~ ^[0-9a-f-]{36}$ ]] || die "not a $id_col: $id"; done
        filter="$id_col = any(string_to_array('$(IFS=,; echo "$*")', ',')::uuid[])"
      fi
      local n; n="$("${psql[@]}" -c "with r as ($replay_sql and $filter returning 1) select count(*) from r")"
      echo "replayed=$n ($after)"
      ;;
    *) usage ;;
  esac
}
UTC_SECONDS="'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"
case "$dlq" in
  outbox)
    stack_env "${STACK:-dev}"
    db_dead_letters "parked event" '%-36s  %-22s %-20s %8s  %-20s  %s\n' \
      $'EVENT ID\tTYPE\tUSER\tATTEMPTS\tPARKED\tREASON' \
      "select event_id, type, user_id, retry_count, to_char(parked_at at time zone 'UTC', $UTC_SECONDS), coalesce(last_error, '') from outbox where parked_at is not null and published_at is null order by seq" \
      event_id \
      "update outbox set parked_at = null, retry_count = 0, next_attempt_at = null where parked_at is not null and published_at is null" \
      "due again for the outbox repair job" "$@"
    exit 0 ;;
  reminders)
    stack_env "${STACK:-dev}"
    db_dead_letters "dead channel" '%-36s  %-7s %-20s %8s  %-20s  %s\n' \
      $'REMINDER ID\tCHANNEL\tUSER\tATTEMPTS\tREMIND AT\tLAST ERROR' \
      "select d.reminder_id, d.channel, r.user_id, d.attempts, to_char(d.remind_at at time zone 'UTC', $UTC_SECONDS), coalesce(d.last_error, '') from reminder_deliveries d join reminders r using (reminder_id) where d.status = 'dead' order by d.remind_at" \
      reminder_id \
      "update reminder_deliveries set status = 'failed', attempts = 0, claimed_at = now() - interval '1 hour' where status = 'dead'" \
      "the reminder sweep delivers them again within a minute" "$@"
    exit 0 ;;
esac

case "$dlq" in
  task-events-dlq) origin=task-operations ;;
  updates-dlq) origin=task-modifications ;;
  alerts-dlq) origin=alerts ;;
  *) die "unknown dead-letter topic '$dlq' (task-events-dlq, updates-dlq, alerts-dlq, outbox, reminders)" ;;
esac
stack_env "${STACK:-dev}"
DAPR_URL="${DAPR_URL:-http://127.0.0.1:$DAPR_HTTP_BASE}"
PY="$TOOLS/venv/bin/python"
port_open "$KAFKA_PORT" || die "Kafka of stack '$STACK_NAME' is not running on $KAFKA_BROKERS"

# Every message of the topic from the beginning (a fresh consumer group, so nothing is committed
# for anyone else), one "partition<TAB>offset<TAB>key<TAB>value" line each.
read_dlq() {
  kafka_java org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$KAFKA_BROKERS" \
    --topic "$dlq" --from-beginning --timeout-ms "${TIMEOUT_MS:-5000}" \
    --group "dlq-reader-$(date +%s%N)" \
    --property print.partition=true --property print.offset=true --property print.key=true \
    --property key.separator=$'\t' 2>/dev/null || true
}

MESSAGES="$(mktemp)"
trap 'rm -f "$MESSAGES"' EXIT
log "reading $dlq on $KAFKA_BROKERS"
read_dlq >"$MESSAGES"

case "$cmd" in
  list)
    "$PY" - "$MESSAGES" "$dlq" <<'PYEOF'
import json, re, sys
path, dlq = sys.argv[1], sys.argv[2]
rows = []
for line in open(path, encoding="utf-8", errors="replace"):
    m = re.match(r"Partition:(\d+)\tOffset:(\d+)\t([^\t]*)\t(.*)$", line.rstrip("\n"))
    if not m:
        continue
    part, off, key, value = m.groups()
    try:
        e = json.loads(value)
    except json.JSONDecodeError:
        e = {}
    data = e.get("data") if isinstance(e.get("data"), dict) else {}
    rows.append((int(part), int(off), key, e.get("id", "(not a CloudEvent)"), e.get("type", ""),
                 e.get("time", ""), data.get("task_id", "")))
print(f"{dlq}: {len(rows)} dead-lettered event(s)")
if rows:
    print(f"{'PART':>4} {'OFFSET':>6}  {'EVENT ID':<36}  {'TYPE':<20} {'TIME':<24} {'KEY':<20} TASK")
for p, o, k, i, t, tm, task in sorted(rows):
    print(f"{p:>4} {o:>6}  {i:<36}  {t:<20} {tm:<24} {k:<20} {task}")
PYEOF
    ;;
  replay)
    (($#)) || usage
    "$PY" - "$MESSAGES" "$origin" "$DAPR_URL" "$@" <<'PYEOF'
import json, re, sys, urllib.error, urllib.parse, urllib.request
path, origin, dapr, wanted = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
replay_all = wanted == ["--all"]
seen, sent, failed = set(), 0, 0
for line in open(path, encoding="utf-8", errors="replace"):
    m = re.match(r"Partition:(\d+)\tOffset:(\d+)\t([^\t]*)\t(.*)$", line.rstrip("\n"))
    if not m:
        continue
    key, value = m.group(3), m.group(4)
    try:
        e = json.loads(value)
    except json.JSONDecodeError:
        continue
    eid = e.get("id")
    if not eid or eid in seen or not (replay_all or eid in wanted):
        continue
    seen.add(eid)
    if key in ("", "null"):
        key = (e.get("data") or {}).get("user_id", "") if isinstance(e.get("data"), dict) else ""
    for attr in ("topic", "pubsubname", "traceid", "traceparent", "tracestate"):
        e.pop(attr, None)
    url = f"{dapr}/v1.0/publish/pubsub/{origin}"
    if key:
        url += "?" + urllib.parse.urlencode({"metadata.partitionKey": key})
    req = urllib.request.Request(url, data=json.dumps(e).encode(), method="POST",
                                 headers={"content-type": "application/cloudevents+json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            ok = r.status == 204
    except urllib.error.URLError as err:
        ok = False
        print(f"  {eid}: publish failed: {err}", file=sys.stderr)
    if ok:
        sent += 1
        print(f"  replayed {eid} ({e.get('type', '')}) to {origin} (key {key or '-'})")
    else:
        failed += 1
missing = [] if replay_all else [w for w in wanted if w not in seen]
for w in missing:
    print(f"  {w}: not on the dead-letter topic", file=sys.stderr)
print(f"replayed={sent} failed={failed} missing={len(missing)}")
sys.exit(1 if failed or missing else 0)
PYEOF
    ;;
  *) usage ;;
esac
