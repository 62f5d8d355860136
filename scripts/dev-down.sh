#!/usr/bin/env bash
# Stops every process of the local platform gracefully (components, sidecars, scheduler, Kafka,
# PostgreSQL) and keeps .data/ so scripts/dev-up.sh resumes where it left off.
#   scripts/dev-down.sh --cluster   the local cluster (scripts/cluster.sh down) and the host services
#                                   its pods use (stack `cluster`), keeping their data
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
case "${1:-}" in
  "") stack_env "${TODO_STACK:-dev}" ;;
  --cluster) bash "$ROOT/scripts/cluster.sh" down; stack_env cluster ;;
  *) die "unknown option $1 (--cluster)" ;;
esac
stack_down
left="$(pgrep -f -- "$STACK_DIR" || true)"
[ -z "$left" ] || die "processes still running under $STACK_DIR: $left"
ok "stack '$STACK_NAME' stopped; data kept in ${STACK_DIR#"$ROOT"/}"
