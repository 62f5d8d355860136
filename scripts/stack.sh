#!/usr/bin/env bash
# Low-level control of one stack, for tests and operators.
#   scripts/stack.sh <dev|test> up|down|status|env
#   scripts/stack.sh <dev|test> start|stop|kill <process>   (postgres kafka scheduler mailpit mosquitto registry daprd-<app> <component>)
#   scripts/stack.sh <dev|test> push [tag]   pushes the built application to the stack's local OCI
#                                            registry (started if needed); prints the reference for SPIN_APP_FROM
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
(($# >= 2)) || die "usage: scripts/stack.sh <dev|test> <command> [process]"
stack_env "$1"
cmd="$2"; name="${3:-}"
case "$cmd" in
  up) stack_up ;;
  down) stack_down ;;
  status) stack_table ;;
  push) push_app "$name" ;;
  env) env | grep -E '^(STACK_|PG_|KAFKA_|SCHEDULER_|APP_PORT_BASE|DAPR_HTTP_BASE|PORT_OFFSET|LOG_DIR|RUN_DIR|SMTP_|MAILPIT_|MQTT_|REGISTRY_)' | sort ;;
  kill) pid="$(proc_pid "$name")"; [ -n "$pid" ] || die "$name has no pid"; { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"; }; log "killed -9 $name ($pid, with its process group)" ;;
  stop) case "$name" in postgres) stop_postgres ;; *) stop_proc "$name" 60 ;; esac ;;
  start)
    case "$name" in
      postgres) start_postgres ;;
      kafka) start_kafka ;;
      scheduler) start_scheduler ;;
      mailpit) start_mailpit ;;
      mosquitto) start_mosquitto ;;
      registry) start_registry ;;
      daprd-*) start_daprd "${name#daprd-}" ;;
      *) for app in "${APPS[@]}"; do if [ "${APP_COMPONENT[$app]}" = "$name" ]; then start_component "$app"; fi; done ;;
    esac ;;
  *) die "unknown command $cmd" ;;
esac
