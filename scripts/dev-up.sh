#!/usr/bin/env bash
# Starts the whole local platform: installs what is missing, builds the components, starts
# PostgreSQL, Kafka, the Dapr scheduler, one daprd per app and wasmtime serve per component,
# waits for every health check and prints what runs where. Data lives in .data/ and survives
# scripts/dev-down.sh.
#   scripts/dev-up.sh            start (or resume) the stack
#   scripts/dev-up.sh --watch    ... then rebuild and restart a component when its source changes
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"

watch=false
for a in "$@"; do
  case "$a" in
    --watch) watch=true ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown option $a" ;;
  esac
done

# Only what the running platform needs; the validators and the test browser come with scripts/test.sh.
bash "$ROOT/scripts/setup.sh" apt python wasmtime wasm kafka dapr mail
bash "$ROOT/scripts/build-components.sh" >/dev/null
stack_env "${TODO_STACK:-dev}"
stack_up
echo
stack_table
echo
echo "Task API: http://localhost:$(app_port task-api)   (try: curl localhost:$(app_port task-api)/healthz)"
echo "Dashboard: http://localhost:$(app_port dashboard)   (sign in with a token from scripts/dev-token.sh)"
echo "Stop with scripts/dev-down.sh (data in .data/ is kept)."

if $watch; then
  source "$ROOT/scripts/lib/watch.sh"
  watch_components
fi
