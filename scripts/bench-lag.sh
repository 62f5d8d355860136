#!/usr/bin/env bash
# Consumer lag at ten times the normal load, in one run: bench-events.sh (commit -> each consumer
# processed: dashboard, recurrence engine, notification) first at the bench's normal rate, then at
# MULTIPLE times it, for DURATION seconds of creates and as long of completes each. Beyond the Task API's
# capacity requests are shed (503 + Retry-After) and sent again after that wait (SHED_RETRY=1), so
# the achieved rate is the API's, and is printed beside the offered one.
#   scripts/bench-lag.sh                      RATE=20 MULTIPLE=10 DURATION=15, test stack
#   STACK=dev RATE=10 MULTIPLE=10 DURATION=20 scripts/bench-lag.sh
# Last line: lag_p99_s=<worst consumer p99 at MULTIPLE×, seconds> lag_p99_s_1x=.. offered_per_s=..
#   achieved_per_s=.. dashboard_p99_ms=.. engine_p99_ms=.. notification_p99_ms=.. unprocessed=.. (at MULTIPLE×)
source "$(dirname "$0")/lib/common.sh"
RATE="${RATE:-20}"
MULTIPLE="${MULTIPLE:-10}"
SECONDS_EACH="${DURATION:-15}"
STACK="${STACK:-test}"
[[ "$RATE" =~ ^[0-9]+$ && "$MULTIPLE" =~ ^[0-9]+$ && "$SECONDS_EACH" =~ ^[0-9]+$ ]] || die "RATE, MULTIPLE and DURATION must be whole numbers"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for m in 1 "$MULTIPLE"; do
  rate=$((RATE * m)) n=$((RATE * m * SECONDS_EACH))
  mkdir -p "$work/x$m"
  log "lag at ${m}× ($rate requests/s offered, $n series then $n completions)"
  STACK="$STACK" N="$n" RATE="$rate" SHED_RETRY=1 WAIT=180 RESULTS_DIR="$work/x$m" \
    bash "$ROOT/scripts/bench-events.sh" | tee "$work/x$m.log" || warn "bench-events at ${m}× reported missing records or errors (see above)"
  [ -s "$work/x$m/events-summary.json" ] || die "bench-events at ${m}× wrote no summary"
done
"$TOOLS/venv/bin/python" - "$work" "$MULTIPLE" "$RATE" "$SECONDS_EACH" <<'PY'
import json, re, sys
work, m, rate, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s1 = json.load(open(f"{work}/x1/events-summary.json"))
sm = json.load(open(f"{work}/x{m}/events-summary.json"))
log = open(f"{work}/x{m}.log").read()
made = [float(x) for x in re.findall(r"in ([0-9.]+) s \(", log)]
n = rate * m * secs
achieved = round(2 * n / sum(made), 1) if len(made) == 2 and sum(made) else float("nan")
worst = lambda s: max(s[f"{c}_p99_ms"] for c in ("dashboard", "engine", "notification")) / 1000
for name, s in (("1×", s1), (f"{m}×", sm)):
    print(f"{name:>4}: " + ", ".join(f"{c} p50 {s[f'{c}_p50_ms']} / p95 {s[f'{c}_p95_ms']} / p99 {s[f'{c}_p99_ms']} ms"
                                    for c in ("dashboard", "engine", "notification"))
          + f"; unprocessed {s['unprocessed']}, shed and retried {s.get('shed_retried', 0)}")
print(f"offered {rate * m}/s at {m}×, achieved {achieved}/s (creates and completes)")
print(f"lag_p99_s={worst(sm):.2f} lag_p99_s_1x={worst(s1):.2f} offered_per_s={rate * m} achieved_per_s={achieved} "
      f"dashboard_p99_ms={sm['dashboard_p99_ms']} engine_p99_ms={sm['engine_p99_ms']} "
      f"notification_p99_ms={sm['notification_p99_ms']} unprocessed={sm['unprocessed'] + s1['unprocessed']}")
PY
