#!/usr/bin/env bash
# Starts the whole local platform: installs what is missing, builds the components, starts
# PostgreSQL, Kafka, the Dapr scheduler, one daprd per app and one `spin up` per component
# (RUNTIME=wasmtime: `wasmtime serve`), waits for every health check and prints what runs where.
# Data lives in .data/ and survives scripts/dev-down.sh.
#   scripts/dev-up.sh            start (or resume) the stack
#   scripts/dev-up.sh --watch    ... then rebuild (spin build) and restart a component when its source changes
#   scripts/dev-up.sh --cluster  the platform on the local single-node Kubernetes instead (as root):
#                                cluster parts built if missing (SpinKube from its pinned upstream
#                                sources: scripts/setup/spinkube-build.sh --fetch, about 25 min cold),
#                                the cluster, Dapr and SpinKube on it, then the production chart
#                                (scripts/cluster-deploy.sh); prints the NodePort endpoints
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"

watch=false cluster=false
for a in "$@"; do
  case "$a" in
    --watch) watch=true ;;
    --cluster) cluster=true ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option $a" ;;
  esac
done
! { $watch && $cluster; } || die "--watch is for the process stack; on the cluster, rerun scripts/cluster-deploy.sh after spin build"

if $cluster; then
  [ "$(id -u)" -eq 0 ] || die "the local cluster runs as root (network namespaces, cgroups, iptables)"
  # infra: helm (the Dapr and spin-operator charts, the platform's release).
  bash "$ROOT/scripts/setup.sh" apt python wasmtime wasm spin registry kafka dapr mail sync infra kube cluster daprcp
  if ! bash "$ROOT/scripts/setup.sh" spinkube 2>/dev/null; then
    log "SpinKube is not built yet: building spin-operator and the Spin shim from their pinned upstream sources"
    bash "$ROOT/scripts/setup/spinkube-build.sh" --fetch
    bash "$ROOT/scripts/setup.sh" spinkube
  fi
  log "spin build (every component of spin.toml)"
  (cd "$ROOT" && "$TOOLS/bin/spin" build -f "$ROOT/spin.toml" >/dev/null) || die "spin build failed"
  start=$SECONDS
  bash "$ROOT/scripts/cluster.sh" up
  bash "$ROOT/scripts/cluster-images.sh"
  bash "$ROOT/scripts/cluster-dapr.sh"
  bash "$ROOT/scripts/cluster-spinkube.sh"
  bash "$ROOT/scripts/cluster-deploy.sh"
  ok "platform on the local cluster in $((SECONDS - start)) s"
  stack_env cluster
  echo
  "$TOOLS/cluster/bin/kubectl" --kubeconfig "$CACHE/local-cluster/pki/admin.kubeconfig" -n todo-platform get spinapps
  echo
  echo "Task API:  http://$POD_LISTEN:14380   (try: curl $POD_LISTEN:14380/healthz)"
  echo "Chat:      http://$POD_LISTEN:14381/chat/api/chat"
  echo "Dashboard: http://$POD_LISTEN:14382/dashboard/   (sign in with a token from scripts/dev-token.sh)"
  echo "Live sync: ws://localhost:$CENTRIFUGO_PORT/connection/websocket   Mailpit: http://127.0.0.1:$MAILPIT_HTTP_PORT/"
  echo "kubectl:   $(bash "$ROOT/scripts/cluster.sh" env)"
  echo "Stop with scripts/dev-down.sh --cluster (the cluster's and the host services' data are kept)."
  exit 0
fi

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
