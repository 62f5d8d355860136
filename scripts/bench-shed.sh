#!/usr/bin/env bash
# Creates beyond saturation, on a running stack: the Task API's load shedding (MAX_QUEUE_MS) as a
# curve. A first step at a high offered rate measures the create capacity C (2xx per second);
# then creates are offered at each multiple of C in MULTIPLES for DURATION seconds (vegeta, open
# loop, up to WORKERS requests in flight, 10 s client timeout). Per step: offered and achieved
# rate, shed (503 or 429, each with Retry-After), 500s, timeouts and other failures, p95 of the
# admitted creates. Then, the accounting (the script exits 1 if it fails): every 201 is one task
# in the database and every task of the run got its 201 (a shed create wrote nothing, nothing is
# half-written), every 503/429 carried Retry-After, and the outbox of the run drains (each
# admitted create's event reached Kafka); during the highest step a reminder falls due and a
# series instance is completed: the reminder must be sent within 15 s of its time (seed: within a minute), the engine
# must create the next instance, and no event may be dead-lettered.
#   scripts/bench-shed.sh                          against the test stack (TEST_PORT_OFFSET honoured)
#   STACK=dev MULTIPLES="1 2 3 5" DURATION=10 CHAT_RATE=400 scripts/bench-shed.sh
# Last, the chat is offered CHAT_RATE questions a second ("what is due today?") with the same
# checks (no 500, no timeout, every 503 with Retry-After).
# Last line: dead_lettered=.. reminder_late_ms=.. engine_next_s=.. capacity_per_s=.. shed_at_5x_pct=.. goodput_at_5x_per_s=.. http500=.. timeouts=..
# admitted_p95_ms_at_5x=.. half_written=.. missing_retry_after=..
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
STACK="${STACK:-test}"
MULTIPLES="${MULTIPLES:-1 2 3 5}"
DURATION="${DURATION:-8}"
WORKERS="${WORKERS:-900}"
CHAT_RATE="${CHAT_RATE:-400}"

stack_env "$STACK"
BASE="$(app_url task-api)"
curl -fsS "$BASE/readyz" >/dev/null || die "task-api on $BASE is not ready: start the stack first (scripts/stack.sh $STACK up)"
ensure_vegeta
USER_ID="bench-shed-$(date +%s)"
TOKEN="$(bash "$ROOT/scripts/dev-token.sh" "$USER_ID" 3600)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
echo '{"title": "shed bench", "priority": "low"}' >"$WORK/body.json"
printf 'POST %s/api/tasks\nAuthorization: Bearer %s\nContent-Type: application/json\n@%s\n' \
  "$BASE" "$TOKEN" "$WORK/body.json" >"$WORK/targets"
log "load shedding of creates on $BASE: capacity first, then ${MULTIPLES// /×, }× of it, ${DURATION}s each, up to $WORKERS in flight"

attack() { # rate out.json
  "$VEGETA" attack -targets="$WORK/targets" -rate="$1" -duration="${DURATION}s" -timeout=10s -max-workers="$WORKERS" \
    | "$VEGETA" encode --to json >"$2"
}

KAFKA_ENV=("$ROOT/.tools/kafka/libs" "$ROOT/runtime-config/local/kafka/log4j2-tools.properties" "$KAFKA_BROKERS")
dlq_total() {
  PYTHONPATH="$ROOT/scripts/lib" "$TOOLS/venv/bin/python" -c \
    'import sys, deliveries; print(deliveries.dlq_total(*sys.argv[1:]))' "${KAFKA_ENV[@]}"
}
DLQ_BEFORE="$(dlq_total)"
attack 1000 "$WORK/probe.json"
sleep 3
: >"$WORK/steps"
CAPACITY="$("$TOOLS/venv/bin/python" - "$WORK/probe.json" "$DURATION" <<'PY'
import json, sys
ok = sum(1 for l in open(sys.argv[1]) if json.loads(l)["code"] in (200, 201))
print(max(20, round(ok / float(sys.argv[2]))))
PY
)"
log "capacity: $CAPACITY creates/s"
LAST="${MULTIPLES##* }"
for m in $MULTIPLES; do
  if [ "$m" = "$LAST" ]; then
    # During the highest step: a reminder falls due and the engine must follow a completion.
    PYTHONPATH="$ROOT/scripts/lib" "$TOOLS/venv/bin/python" - "$BASE" "$ROOT/runtime-config/local/secrets.json" \
      "$USER_ID" "$WORK/deliveries.json" "$DURATION" <<'PY' &
import json, sys
from deliveries import Probe
p = Probe(sys.argv[1], sys.argv[2], sys.argv[3])
p.start(lead_s=max(3, int(float(sys.argv[5]) // 2)))
json.dump({"reminder_task": p.reminder_task, "engine_next_s": p.engine_next_s}, open(sys.argv[4], "w"))
PY
    PROBE_PID=$!
  fi
  attack "$((CAPACITY * m))" "$WORK/step-$m.json"
  echo "$m $((CAPACITY * m)) $WORK/step-$m.json" >>"$WORK/steps"
  sleep 3
done
# The chat past its capacity: a question per message (answered from the Task API by
# service invocation), at CHAT_RATE.
CHAT_URL="$(app_url chat)/api/chat"
echo '{"message": "what is due today?", "tzid": "Europe/Berlin"}' >"$WORK/chat.json"
printf 'POST %s\nAuthorization: Bearer %s\nContent-Type: application/json\n@%s\n' \
  "$CHAT_URL" "$TOKEN" "$WORK/chat.json" >"$WORK/targets-chat"
"$VEGETA" attack -targets="$WORK/targets-chat" -rate="$CHAT_RATE" -duration="${DURATION}s" -timeout=10s \
  -max-workers="$WORKERS" | "$VEGETA" encode --to json >"$WORK/chat-steps.json"
echo "chat $CHAT_RATE $WORK/chat-steps.json" >>"$WORK/steps"
sleep 5  # the outbox relay and its repair job
wait "$PROBE_PID" || die "the delivery probe failed"
DEAD=$(( $(dlq_total) - DLQ_BEFORE ))

PYTHONPATH="$ROOT/scripts/lib" "$TOOLS/venv/bin/python" - "$WORK" "$DURATION" "$CAPACITY" "$USER_ID" "$PG_DSN" "$DEAD" <<'PY'
import json, subprocess, sys
from deliveries import Probe
work, duration, capacity, user, dsn = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
dead = int(sys.argv[6])


def sql(q):
    return subprocess.run(["psql", dsn, "-AtX", "-c", q], check=True, capture_output=True, text=True).stdout.strip()


def p95(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(0.95 * len(xs)))] if xs else float("nan")


created = 0
totals = {"500": 0, "timeouts": 0, "other": 0, "missing_retry_after": 0}
files = [("probe", 1000, f"{work}/probe.json")] + [tuple(l.split()) for l in open(f"{work}/steps")]
at5 = {}
print(f"{'step':>6} {'offered/s':>10} {'ok/s':>7} {'shed/s':>7} {'shed %':>7} {'500':>5} {'timeouts':>8} {'other':>6} {'admitted p95 ms':>16}")
for name, rate, path in files:
    ok = shed = e500 = tmo = other = 0
    lat = []
    for line in open(path):
        r = json.loads(line)
        code = r["code"]
        if code in (200, 201):
            ok += 1
            created += name != "chat"
            lat.append(r["latency"] / 1e6)
        elif code in (429, 503):
            shed += 1
            if not any(k.lower() == "retry-after" for k in (r.get("headers") or {})):
                totals["missing_retry_after"] += 1
        elif code == 500:
            e500 += 1
        elif code == 0:
            tmo += 1
        else:
            other += 1
    n = ok + shed + e500 + tmo + other
    totals["500"] += e500
    totals["timeouts"] += tmo
    totals["other"] += other
    label = name if name in ("probe", "chat") else f"{name}x"
    print(f"{label:>6} {int(rate):>10} {ok / duration:>7.0f} {shed / duration:>7.0f} {100 * shed / max(n, 1):>6.1f}% "
          f"{e500:>5} {tmo:>8} {other:>6} {p95(lat):>16.0f}")
    if name == "5":
        at5 = {"shed_pct": 100 * shed / max(n, 1), "goodput": ok / duration, "p95": p95(lat)}
stored = int(sql(f"select count(*) from tasks where user_id = '{user}'"))
pending = int(sql(f"select count(*) from outbox where user_id = '{user}' and published_at is null"))
half = abs(stored - created)
print(f"accounting: {created} creates answered 201, {stored} tasks stored; outbox rows not yet published: {pending}")
sql(f"delete from reminders where user_id = '{user}'; delete from outbox where user_id = '{user}' and published_at is not null; "
    f"delete from tasks where user_id = '{user}'")
dl = json.load(open(f"{work}/deliveries.json"))
late = Probe.late_ms(dsn, dl["reminder_task"])
engine = dl["engine_next_s"]
print(f"during the highest step: reminder sent {'%d ms late' % late if late is not None else 'NOT sent'}, "
      f"next instance {'after %.2f s' % engine if engine is not None else 'NOT created'}, dead letters {dead}")
bad = [k for k, v in (("dead_lettered", dead), ("reminder", late is None or late > 15_000), ("engine", engine is None))
       if v]
bad += [k for k, v in (("http500", totals["500"]), ("timeouts", totals["timeouts"]), ("other", totals["other"]),
                      ("half_written", half), ("missing_retry_after", totals["missing_retry_after"]), ("unpublished", pending)) if v]
print("FAILED: " + ", ".join(bad) if bad else "every check passed")
print(f"dead_lettered={dead} reminder_late_ms={late} engine_next_s={engine} capacity_per_s={capacity} shed_at_5x_pct={at5.get('shed_pct', float('nan')):.1f} "
      f"goodput_at_5x_per_s={at5.get('goodput', float('nan')):.0f} http500={totals['500']} timeouts={totals['timeouts']} "
      f"admitted_p95_ms_at_5x={at5.get('p95', float('nan')):.0f} half_written={half} missing_retry_after={totals['missing_retry_after']}")
sys.exit(1 if bad else 0)
PY
