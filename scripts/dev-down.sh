#!/usr/bin/env bash
# Stops every process of the local platform gracefully (components, sidecars, scheduler, Kafka,
# PostgreSQL) and keeps .data/ so scripts/dev-up.sh resumes where it left off.
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
stack_env "${TODO_STACK:-dev}"
stack_down
left="$(pgrep -f -- "$STACK_DIR" || true)"
[ -z "$left" ] || die "processes still running under $STACK_DIR: $left"
ok "stack '$STACK_NAME' stopped; data kept in ${STACK_DIR#"$ROOT"/}"
