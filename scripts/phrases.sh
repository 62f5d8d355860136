#!/usr/bin/env bash
# Evaluates a recurrence phrase table (schema: tests/phrases/README.md) on the running stack,
# through the Task API: every phrase becomes a task's `recurrence`, and the series' occurrences
# are compared one by one with python-dateutil's expansion of the expected RRULE from the same
# start; refusals must name the expected words. Prints the failures, then a closing line
# `N passed, M failed`; exits 1 if M > 0.
#   scripts/phrases.sh tests/phrases/phrases.json [-v]
#   STACK=dev scripts/phrases.sh <file>       against the dev stack (default: the test stack)
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"

(($#)) || die "usage: scripts/phrases.sh <phrases.json> [-v]"
file="$1"; shift
[ -f "$file" ] || die "no such file: $file"

STACK="${STACK:-test}"
stack_env "$STACK"
PY="$TOOLS/venv/bin/python"
[ -x "$PY" ] || die "$PY is missing (run scripts/setup.sh)"
"$PY" -c 'import dateutil, requests' 2>/dev/null || die "$PY needs python-dateutil and requests (run scripts/setup.sh)"
base="http://127.0.0.1:$APP_PORT_BASE"
curl -fsS "$base/healthz" >/dev/null 2>&1 \
  || die "the Task API of the $STACK stack does not answer at $base; start it with: scripts/stack.sh $STACK up"

# One user per run, so earlier runs' tasks do not mix in.
token="$(bash "$ROOT/scripts/dev-token.sh" "phrases-$(date +%s)-$$")"
exec "$PY" "$ROOT/scripts/phrases.py" "$file" "$base" "$token" "$@"
