#!/usr/bin/env bash
# Starts the whole local platform: installs what is missing, builds the components, starts
# PostgreSQL, Kafka, the Dapr scheduler, one daprd per app and one `spin up` per component
# (RUNTIME=wasmtime: `wasmtime serve`), waits for every health check and prints what runs where.
# Data lives in .data/ and survives scripts/dev-down.sh.
#   scripts/dev-up.sh            start (or resume) the stack
#   scripts/dev-up.sh --watch    ... then rebuild (spin build) and restart a component when its source changes
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"

watch=false
for a in "$@"; do
  case "$a" in
    --watch) watch=true ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) die "unknown option $a" ;;
  esac
done

# Only what the running platform needs; the validators and the test browser come with scripts/test.sh.
bash "$ROOT/scripts/setup.sh" apt python wasmtime wasm spin kafka dapr mail sync
# Every component through the manifest's build commands, as a Spin developer would.
log "spin build (every component of spin.toml)"
(cd "$ROOT" && "$TOOLS/bin/spin" build -f "$ROOT/spin.toml" >/dev/null) || die "spin build failed"
stack_env "${TODO_STACK:-dev}"
stack_up
echo
stack_table
echo
echo "Task API: http://localhost:$(app_port task-api)   (try: curl localhost:$(app_port task-api)/healthz)"
echo "Dashboard: http://localhost:$(app_port dashboard)/dashboard/   (sign in with a token from scripts/dev-token.sh)"
echo "Live sync: ws://localhost:$CENTRIFUGO_PORT/connection/websocket   (Centrifugo; the dashboard page connects to it)"
echo "Stop with scripts/dev-down.sh (data in .data/ is kept)."

if $watch; then
  source "$ROOT/scripts/lib/watch.sh"
  watch_components
fi
