#!/usr/bin/env bash
# Consumer lag at ten times the normal load, in one run: bench-events.sh (commit -> each consumer
# processed: dashboard, recurrence engine, notification) first at the bench's normal rate, then at
# MULTIPLE times it, for DURATION seconds of creates and as long of completes each. Beyond the Task API's
# capacity requests are shed (503 + Retry-After) and sent again after that wait (SHED_RETRY=1), so
# the achieved rate is the API's, and is printed beside the offered one.
# Then the MULTIPLE pass again with REPLICAS replicas of the consumers that scale on lag (recurrence
# engine and notification: the chart's KEDA ScaledObjects; scripts/stack.sh replica), started
# before it and stopped after it: daprd's Kafka consumer hands a sidecar's bulks to its app one at
# a time, so a replica adds delivery capacity even on the same cores (docs/adr/0010-bulk-delivery.md).
# REPLICAS=1 skips that pass.
#   scripts/bench-lag.sh                      RATE=20 MULTIPLE=10 DURATION=15 REPLICAS=2, test stack
#   STACK=dev RATE=10 MULTIPLE=10 DURATION=20 scripts/bench-lag.sh
# Last line: lag_p99_s=<worst consumer p99 at MULTIPLE× with REPLICAS replicas, seconds> replicas=..
#   lag_p99_s_one_replica=<the same with one replica each> lag_p99_s_1x=.. offered_per_s=.. achieved_per_s=..
#   dashboard_p99_ms=.. engine_p99_ms=.. notification_p99_ms=.. (at MULTIPLE× with REPLICAS) unprocessed=.. (all passes)
source "$(dirname "$0")/lib/common.sh"
RATE="${RATE:-20}"
MULTIPLE="${MULTIPLE:-10}"
SECONDS_EACH="${DURATION:-15}"
STACK="${STACK:-test}"
REPLICAS="${REPLICAS:-2}"
[[ "$RATE" =~ ^[0-9]+$ && "$MULTIPLE" =~ ^[0-9]+$ && "$SECONDS_EACH" =~ ^[0-9]+$ ]] || die "RATE, MULTIPLE and DURATION must be whole numbers"
[[ "$REPLICAS" =~ ^[12]$ ]] || die "REPLICAS must be 1 or 2 (scripts/stack.sh starts one extra replica per app)"
source "$ROOT/scripts/lib/stack.sh"
stack_env "$STACK"
SCALED=(recurrence-engine notification)
work="$(mktemp -d)"
stop_replicas() {
  for app in "${SCALED[@]}"; do
    bash "$ROOT/scripts/stack.sh" "$STACK" stop "daprd-$app-2" >/dev/null 2>&1 || true
    bash "$ROOT/scripts/stack.sh" "$STACK" stop "${APP_COMPONENT[$app]}-2" >/dev/null 2>&1 || true
  done
}
trap 'stop_replicas; rm -rf "$work"' EXIT

# True when two members of consumer group $1 hold partitions (the replica has joined).
two_members_hold_partitions() {
  local n
  n="$(kafka_java org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$KAFKA_BROKERS" \
    --describe --group "$1" --members 2>/dev/null | awk -v g="$1" '$1 == g && $5 ~ /^[0-9]+$/ && $5 > 0' | wc -l)"
  [ "$n" = 2 ]
}

# One bench-events pass: label, multiple of RATE.
pass() {
  local label="$1" m="$2" rate=$((RATE * $2)) n=$((RATE * $2 * SECONDS_EACH))
  mkdir -p "$work/$label"
  log "lag at ${m}× ($label: $rate requests/s offered, $n series then $n completions)"
  STACK="$STACK" N="$n" RATE="$rate" SHED_RETRY=1 WAIT=180 RESULTS_DIR="$work/$label" \
    bash "$ROOT/scripts/bench-events.sh" | tee "$work/$label.log" || warn "bench-events ($label) reported missing records or errors (see above)"
  [ -s "$work/$label/events-summary.json" ] || die "bench-events ($label) wrote no summary"
}

pass x1 1
pass one "$MULTIPLE"
if [ "$REPLICAS" = 2 ]; then
  for app in "${SCALED[@]}"; do
    bash "$ROOT/scripts/stack.sh" "$STACK" replica "$app"
  done
  for app in "${SCALED[@]}"; do
    wait_for "two members of consumer group $app holding partitions" 120 two_members_hold_partitions "$app"
    ok "consumer group $app: two members hold its partitions"
  done
  pass scaled "$MULTIPLE"
  stop_replicas
fi
"$TOOLS/venv/bin/python" - "$work" "$MULTIPLE" "$RATE" "$SECONDS_EACH" "$REPLICAS" <<'PY'
import json, re, sys
work, m, rate, secs, replicas = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
CONSUMERS = ("dashboard", "engine", "notification")
def load(label):
    return json.load(open(f"{work}/{label}/events-summary.json"))
def achieved(label):
    made = [float(x) for x in re.findall(r"in ([0-9.]+) s \(", open(f"{work}/{label}.log").read())]
    n = rate * m * secs
    return round(2 * n / sum(made), 1) if len(made) == 2 and sum(made) else float("nan")
worst = lambda s: max(s[f"{c}_p99_ms"] for c in CONSUMERS) / 1000
passes = [("1×", "x1"), (f"{m}×, one replica each", "one")] + ([(f"{m}×, {replicas} replicas of engine and notification", "scaled")] if replicas == 2 else [])
for name, label in passes:
    s = load(label)
    print(f"{name}: " + ", ".join(f"{c} p50 {s[f'{c}_p50_ms']} / p95 {s[f'{c}_p95_ms']} / p99 {s[f'{c}_p99_ms']} ms" for c in CONSUMERS)
          + f"; unprocessed {s['unprocessed']}, shed and retried {s.get('shed_retried', 0)}"
          + (f"; achieved {achieved(label)}/s of {rate * m}/s offered" if label != "x1" else ""))
head = "scaled" if replicas == 2 else "one"
sh = load(head)
unprocessed = sum(load(label)["unprocessed"] for _, label in passes)
print(f"lag_p99_s={worst(sh):.2f} replicas={replicas} lag_p99_s_one_replica={worst(load('one')):.2f} "
      f"lag_p99_s_1x={worst(load('x1')):.2f} offered_per_s={rate * m} achieved_per_s={achieved(head)} "
      f"dashboard_p99_ms={sh['dashboard_p99_ms']} engine_p99_ms={sh['engine_p99_ms']} "
      f"notification_p99_ms={sh['notification_p99_ms']} unprocessed={unprocessed}")
PY
