#!/usr/bin/env bash
# The dashboard's rule field, keystroke by keystroke, on a running stack: a signed-in client types
# everyday phrases one character at a time and, for every keystroke, asks the dashboard for the
# completions (GET /api/preview/completions) and the preview (GET /api/preview), one request after
# the other as the page does. Latency = request sent → answer read, on loopback (an upper bound of
# the server's time). The goal is < 50 ms per keystroke for each request.
#   scripts/bench-keystrokes.sh                 against the test stack (TEST_PORT_OFFSET honoured)
#   STACK=dev scripts/bench-keystrokes.sh
#   ROUNDS=3 scripts/bench-keystrokes.sh        type the phrase list three times
# Last line: keystrokes=<n> completion_p95_ms=<a> preview_p95_ms=<b> keystroke_max_ms=<c> under_50ms=<share>
source "$(dirname "$0")/lib/common.sh"
STACK="${STACK:-test}"
ROUNDS="${ROUNDS:-1}"

eval "$(bash "$ROOT/scripts/stack.sh" "$STACK" env | sed 's/^/export /')"
DASHBOARD="http://127.0.0.1:$((3000 + PORT_OFFSET))/dashboard"
# A bench before this one may just have restarted the dashboard's sidecar (bench-drain does).
wait_for "the dashboard on $DASHBOARD to be ready (scripts/stack.sh $STACK up starts it)" 60 curl -fsS "$DASHBOARD/readyz"
TOKEN="$(bash "$ROOT/scripts/dev-token.sh" "bench-keys-$(date +%s)" 3600)"
log "typing phrases into $DASHBOARD ($ROUNDS round(s)): completions and preview per keystroke"

DASHBOARD="$DASHBOARD" TOKEN="$TOKEN" ROUNDS="$ROUNDS" "$TOOLS/venv/bin/python" - <<'PY'
import os, time
import requests

dash, rounds = os.environ["DASHBOARD"], int(os.environ["ROUNDS"])
s = requests.Session()
s.headers["authorization"] = f"Bearer {os.environ['TOKEN']}"
PHRASES = [
    "every other Tuesday at 7:30",
    "every first Monday of the month at 9",
    "the last weekday of every month",
    "every March and September on the 10th",
    "twice a week on Monday and Thursday",
    "every mon, wed & fri at 6:30am until June",
    "every day starting tomorrow for 10 times",
    "quarterly on the 15th",
]


def timed(path, params):
    t = time.perf_counter()
    r = s.get(f"{dash}{path}", params=params, timeout=30)
    ms = (time.perf_counter() - t) * 1000
    if r.status_code not in (200, 422):
        raise SystemExit(f"{path} {params} answered {r.status_code}: {r.text[:200]}")
    return ms, r


def p(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


completion, preview, keystroke, offered = [], [], [], 0
for _ in range(rounds):
    for phrase in PHRASES:
        for i in range(1, len(phrase) + 1):
            typed = phrase[:i]
            a, r = timed("/api/preview/completions", {"q": typed})
            offered += bool(r.json()["completions"])
            b, _ = timed("/api/preview", {"recurrence": typed, "tzid": "Europe/Berlin"})
            completion.append(a); preview.append(b); keystroke.append(max(a, b))
n = len(keystroke)
under = sum(1 for k in keystroke if k < 50) / n
print(f"{n} keystrokes of {len(PHRASES)} phrases; suggestions offered at {offered} of them")
print(f"completions p50 {p(completion, .5):.1f} ms p95 {p(completion, .95):.1f} ms; "
      f"preview p50 {p(preview, .5):.1f} ms p95 {p(preview, .95):.1f} ms; slowest keystroke {max(keystroke):.1f} ms")
print(f"keystrokes={n} completion_p95_ms={p(completion, .95):.1f} preview_p95_ms={p(preview, .95):.1f} "
      f"keystroke_max_ms={max(keystroke):.1f} under_50ms={under:.3f}")
PY
