#!/usr/bin/env bash
# Low-level control of one stack, for tests and operators.
#   scripts/stack.sh <dev|test> up|down|status|env
#   scripts/stack.sh cluster up|down|status|env    the host services of the local cluster's pods only
#   scripts/stack.sh <dev|test> start|stop|kill <process>   (postgres kafka scheduler mailpit mosquitto centrifugo registry daprd-<app> <component>)
#   scripts/stack.sh <dev|test> replica <app>  a second replica of an app (same app id; e.g. notification)
#   scripts/stack.sh <dev|test> push [tag]   pushes the built application to the stack's local OCI
#                                            registry (started if needed); prints the reference for SPIN_APP_FROM
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
(($# >= 2)) || die "usage: scripts/stack.sh <dev|test> <command> [process]"
stack_env "$1"
cmd="$2"; name="${3:-}"
case "$cmd" in
  up) if [ "$STACK_NAME" = cluster ]; then stack_infra_up; else stack_up; fi ;;
  down) stack_down ;;
  status) stack_table ;;
  push) push_app "$name" ;;
  # A second replica of an app (same app id, its own ports): Kafka shares the partitions of the
  # app's consumer group between the two, the scheduler its job triggers. `stop`/`kill` it as
  # <component>-2 and daprd-<app>-2.
  replica)
    [ -n "${APP_COMPONENT[$name]:-}" ] || die "usage: scripts/stack.sh <dev|test> replica <app> (${APPS[*]})"
    start_component "$name" 2
    start_daprd "$name" 2
    wait_for "$name replica ready" 60 curl -fsS "$(app_url "$name" 2)/readyz" ;;
  env) env | grep -E '^(STACK_|PG_|KAFKA_|SCHEDULER_|APP_PORT_BASE|DAPR_HTTP_BASE|PORT_OFFSET|LOG_DIR|RUN_DIR|SMTP_|MAILPIT_|MQTT_|REGISTRY_|CENTRIFUGO_|POD_LISTEN)' | sort ;;
  kill) pid="$(proc_pid "$name")"; [ -n "$pid" ] || die "$name has no pid"; { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"; }; log "killed -9 $name ($pid, with its process group)" ;;
  stop) case "$name" in postgres) stop_postgres ;; *) stop_proc "$name" 60 ;; esac ;;
  start)
    case "$name" in
      postgres) start_postgres ;;
      kafka) start_kafka ;;
      scheduler) start_scheduler ;;
      mailpit) start_mailpit ;;
      mosquitto) start_mosquitto ;;
      centrifugo) start_centrifugo ;;
      registry) start_registry ;;
      daprd-*-2) a="${name#daprd-}"; start_daprd "${a%-2}" 2 ;;
      daprd-*) start_daprd "${name#daprd-}" ;;
      *-2) for app in "${APPS[@]}"; do if [ "${APP_COMPONENT[$app]}-2" = "$name" ]; then start_component "$app" 2; fi; done ;;
      *) for app in "${APPS[@]}"; do if [ "${APP_COMPONENT[$app]}" = "$name" ]; then start_component "$app"; fi; done ;;
    esac ;;
  *) die "unknown command $cmd" ;;
esac
