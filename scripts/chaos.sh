#!/usr/bin/env bash
# Reliability under faults, on a running stack (default the test stack; loopback only, bounded in
# time). A steady load of task operations runs while each process is killed with SIGKILL in turn
# and restarted (Kafka, every daprd, every component's wasmtime, PostgreSQL, the Dapr scheduler),
# a poison event goes to its dead-letter topic and is replayed, and the JWT secret and database
# password are rotated. Afterwards every committed operation is accounted for by event id.
#   scripts/chaos.sh [--quick]
# Environment: STACK=dev|test (default test; the test stack honours TEST_PORT_OFFSET).
# Prints the recovery time of each fault and ends with
#   operations=<n> lost=<n> duplicates=<n> max_recovery_s=<s>
# and exits non-zero if anything was lost or duplicated, or a fault did not recover.
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"

mode=full
for a in "$@"; do
  case "$a" in
    --quick) mode=quick ;;
    *) die "unknown option $a (usage: scripts/chaos.sh [--quick])" ;;
  esac
done
stack_env "${STACK:-test}"
PY="$TOOLS/venv/bin/python"
[ -x "$PY" ] || die "no Python venv in .tools (run scripts/setup.sh)"

# The stack must be up and healthy: a fault test against a half-started stack proves nothing.
while IFS='|' read -r name cmd; do
  proc_alive "$name" || die "$name of stack '$STACK_NAME' is not running (start it: scripts/stack.sh $STACK_NAME up)"
  eval "$cmd" >/dev/null 2>&1 || die "$name of stack '$STACK_NAME' is not healthy"
done < <(health_checks)
# Registers the outbox-sweep job on a stack started before stack_up did so.
curl -fsS "http://127.0.0.1:$(app_port task-api)/readyz" >/dev/null || die "task-api of stack '$STACK_NAME' is not ready"
ok "stack '$STACK_NAME' is up and healthy; chaos run ($mode)"

export CHAOS_MODE="$mode" STACK="$STACK_NAME" MAILPIT_HTTP_PORT MQTT_PORT DAPR_HTTP_BASE APP_PORT_BASE PG_PORT \
  STACK_DIR KAFKA_BROKERS SCHEDULER_HEALTH_PORT
cd "$ROOT"
exec "$PY" -u "$ROOT/scripts/chaos/main.py"
