#!/usr/bin/env bash
# Evaluates an RRULE test-vector file (schema: ../shared/recurrence/README.md) against the
# recurrence crate. Every rfc_legal case must produce exactly `expected` / `expected_utc`,
# the totals and the between/after/before query answers; every other case must be rejected.
# Prints the failures, then a closing line `N passed, M failed`; exits 1 if M > 0.
#   scripts/recurrence-vectors.sh ../shared/recurrence/vectors.json [-v]
source "$(dirname "$0")/lib/common.sh"

(($#)) || die "usage: scripts/recurrence-vectors.sh <vectors.json> [-v]"
file="$1"; shift
[ -f "$file" ] || die "no such file: $file"
file="$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"

log "building recurrence-vectors"
(cd "$ROOT" && cargo build -q -p recurrence --bin recurrence-vectors >&2)
exec "$ROOT/target/debug/recurrence-vectors" "$file" "$@"
