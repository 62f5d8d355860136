#!/usr/bin/env bash
# Rehearses the README's first command on a brand-new Debian 12 machine: bootstraps a clean
# bookworm root with debootstrap (from the Debian mirror this machine's apt uses), copies the
# checkout into it (git archive of HEAD plus uncommitted changes to tracked files), runs
# scripts/dev-up.sh inside a chroot until `curl localhost:8000/healthz` answers, then
# scripts/dev-down.sh, and unmounts and removes the root. Needs root. Ends with one line
# `fresh_check=pass|fail mode=... seconds=N`.
#   scripts/fresh-check.sh               full rehearsal; the heavy builds (daprd + scheduler, mailpit,
#                                        Kafka jars, wasm-component-ld) are seeded from this machine's cache
#   scripts/fresh-check.sh --cold        full rehearsal with an empty cache (builds daprd: long)
#   scripts/fresh-check.sh --setup-only  only `scripts/setup.sh apt` and its program check (minutes)
# Environment:
#   FRESH_CHECK_MIRROR, FRESH_CHECK_SECURITY_MIRROR   Debian and security mirror (default: from the
#                                        host's /etc/apt/sources.list{,.d})
#   FRESH_CHECK_DROP_PACKAGE=cargo-web   remove that package from APT_PACKAGES in the root's copy of
#                                        scripts/setup.sh: the rehearsal must then fail, naming it
#   FRESH_CHECK_TMP                      where the temporary root goes (default /var/tmp)
#   FRESH_CHECK_KEEP=1                   keep the (unmounted) root for inspection
# What the machine brings (README, Requirements) is lent from this host read-only: Go's GOROOT,
# the rustup toolchain (~/.rustup, ~/.cargo/bin) and Node.js, and ../shared/spin beside the
# checkout (as CI places it). Nothing setup.sh installs is lent.
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"

mode=full cold=false
for a in "$@"; do
  case "$a" in
    --setup-only) mode=setup-only ;;
    --cold) cold=true ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) die "unknown option $a (--setup-only, --cold)" ;;
  esac
done
if $cold && [ "$mode" = full ]; then mode=full-cold; fi

SUITE=bookworm
CHECKOUT_IN_ROOT=/srv/todo-platform
START=$SECONDS
# One log per run (a second rehearsal may run beside, e.g. --setup-only during a full one).
LOGFILE="$CACHE/logs/fresh-check-$(date +%Y%m%d-%H%M%S)-$$.log"
WORK="" ROOTFS="" MOUNTS=() RESULT=fail

elapsed() { echo "$((SECONDS - START))s"; }
step() { log "[$(elapsed)] $*"; }

[ "$(id -u)" -eq 0 ] || die "run as root: debootstrap, chroot and mount need it (sudo scripts/fresh-check.sh)"
git -C "$ROOT" rev-parse HEAD >/dev/null 2>&1 || die "needs a git checkout and git (the checkout is copied with git archive)"
mkdir -p "$CACHE/logs" "$CACHE/fresh-check"

# ---- the host's Debian mirror ----------------------------------------------------------------

# First URI apt on this machine uses for a suite (one-line .list and deb822 .sources files).
host_mirror() {
  local suite="$1" f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v s="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++;
      if ($(i + 1) == s) { print $i; exit } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v s="$suite" 'function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " s " ")) { split(uris, u, " "); print u[1]; found = 1 }
        types = ""; suites = ""; uris = ""; enabled = "" }
      /^[ \t]*$/ { flush(); if (found) exit; next }
      /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
      /^Enabled:/ { sub(/^Enabled:[ \t]*/, ""); enabled = tolower($0) }
      END { if (!found) flush() }' "$f"
  done
}

MIRROR="${FRESH_CHECK_MIRROR:-$(host_mirror "$SUITE" | head -1)}"
SECURITY_MIRROR="${FRESH_CHECK_SECURITY_MIRROR:-$(host_mirror "$SUITE-security" | head -1)}"
[ -n "$MIRROR" ] || die "no Debian mirror for $SUITE in /etc/apt/sources.list{,.d}; set FRESH_CHECK_MIRROR=http://<mirror>/debian"
[ -n "$SECURITY_MIRROR" ] || warn "no $SUITE-security source in the host's apt config (set FRESH_CHECK_SECURITY_MIRROR); the root gets none"

# ---- mounts and cleanup ----------------------------------------------------------------------

# Mounts and records the mount point (unmounted in reverse order on exit), private so that nothing
# mounted below it shows up on the host.
do_mount() {
  local target="${*: -1}"
  mount "$@" || die "mount $* failed"
  MOUNTS+=("$target")
  mount --make-private "$target"
}
# A read-only bind mount of a host directory (or file) at the same path inside the root.
bind_ro() {
  local src="$1" dst="$ROOTFS$1"
  if [ -d "$src" ]; then mkdir -p "$dst"; else mkdir -p "$(dirname "$dst")"; touch "$dst"; fi
  do_mount --bind "$src" "$dst"
  mount -o remount,bind,ro "$dst" || die "could not make $dst read-only"
}

mounts_under() { findmnt -rn -o TARGET | awk -v w="$1" 'index($0, w "/") == 1 || $0 == w'; }

# Processes whose root is the chroot (the stack's daemons if dev-down did not stop them).
root_pids() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOTFS" ] && echo "${p#/proc/}"
  done
  return 0
}

cleanup() {
  local rc=$? pids i m
  trap - EXIT INT TERM
  if [ -n "$ROOTFS" ] && [ -d "$ROOTFS" ]; then
    pids="$(root_pids | tr '\n' ' ')"
    if [ -n "${pids// }" ]; then
      warn "stopping processes still running in the root: $pids"
      # shellcheck disable=SC2086
      kill -TERM $pids 2>/dev/null || true
      for i in $(seq 1 50); do [ -z "$(root_pids)" ] && break; sleep 0.2; done
      pids="$(root_pids | tr '\n' ' ')"
      # shellcheck disable=SC2086
      [ -z "${pids// }" ] || kill -KILL $pids 2>/dev/null || true
      sleep 0.5
    fi
  fi
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    m="${MOUNTS[i]}"
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || warn "could not unmount $m"
  done
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    m="$(mounts_under "$WORK")"
    if [ -n "$m" ]; then
      warn "still mounted, NOT deleting $WORK (unmount these, then rm -rf it): $(tr '\n' ' ' <<<"$m")"
      rc=1
    elif [ "${FRESH_CHECK_KEEP:-0}" = 1 ]; then
      log "kept the root (unmounted) in $ROOTFS"
    else
      rm -rf --one-file-system "$WORK"
    fi
  fi
  if [ "$rc" -eq 0 ] && [ "$RESULT" = pass ]; then
    ok "fresh-machine rehearsal ($mode) passed in $(elapsed)"
  else
    RESULT=fail
    printf '\033[1;31m[%s] fresh-machine rehearsal (%s) FAILED after %s; log: %s\033[0m\n' "$(_ts)" "$mode" "$(elapsed)" "$LOGFILE" >&2
    [ "$rc" -ne 0 ] || rc=1
  fi
  echo "fresh_check=$RESULT mode=$mode seconds=$((SECONDS - START))${FRESH_CHECK_DROP_PACKAGE:+ dropped_package=$FRESH_CHECK_DROP_PACKAGE}"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- preflight -------------------------------------------------------------------------------

# The root shares this machine's network: the dev stack inside binds the dev ports on 127.0.0.1.
if [ "$mode" != setup-only ]; then
  stack_env dev
  busy=()
  for port in "$PG_PORT" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$SCHEDULER_PORT" "$SCHEDULER_HEALTH_PORT" \
    "$SCHEDULER_METRICS_PORT" "$SCHEDULER_ETCD_PORT" "$((SCHEDULER_ETCD_PORT + 1))" "$SMTP_PORT" "$MAILPIT_HTTP_PORT" "$MQTT_PORT"; do
    if port_open "$port"; then busy+=("$port"); fi
  done
  for app in "${APPS[@]}"; do
    for port in "$(app_port "$app")" "$(dapr_http_port "$app")" "$(dapr_grpc_port "$app")"; do
      if port_open "$port"; then busy+=("$port"); fi
    done
  done
  ((${#busy[@]} == 0)) || die "dev-stack ports in use on this machine: ${busy[*]}. The rehearsal runs a dev stack on the same ports; stop the running one first (scripts/dev-down.sh in its checkout)"
fi

if ! command -v debootstrap >/dev/null; then
  step "installing debootstrap"
  run_logged "$CACHE/logs/fresh-check-apt.log" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap
fi

touch "$LOGFILE"
step "mode $mode; Debian mirror $MIRROR${SECURITY_MIRROR:+, security $SECURITY_MIRROR}; log $LOGFILE"

# ---- the clean root (debootstrap, cached as a tarball) ----------------------------------------

WORK="$(mktemp -d "${FRESH_CHECK_TMP:-/var/tmp}/fresh-check.XXXXXX")"
ROOTFS="$WORK/root"
mkdir -p "$ROOTFS"
tarball="$CACHE/fresh-check/debian-$SUITE-$(printf '%s' "$MIRROR" | sha256sum | cut -c1-12).tar.gz"
if [ -f "$tarball" ]; then
  step "unpacking the cached clean $SUITE root ($(du -h "$tarball" | cut -f1), from $tarball)"
  tar -C "$ROOTFS" --numeric-owner -xzpf "$tarball"
else
  step "debootstrap $SUITE from $MIRROR (once; a few minutes; log $CACHE/logs/fresh-check-debootstrap.log)"
  run_logged "$CACHE/logs/fresh-check-debootstrap.log" nice -n 10 debootstrap --arch="$(dpkg --print-architecture)" "$SUITE" "$ROOTFS" "$MIRROR"
  tar -C "$ROOTFS" --numeric-owner -czf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  ok "clean root cached as $tarball ($(du -h "$tarball" | cut -f1))"
fi

# The apt sources of a fresh install: the release, its updates and the security archive.
{
  echo "deb $MIRROR $SUITE main"
  echo "deb $MIRROR $SUITE-updates main"
  [ -z "$SECURITY_MIRROR" ] || echo "deb $SECURITY_MIRROR $SUITE-security main"
} >"$ROOTFS/etc/apt/sources.list"
# How this machine reaches the mirror (proxy, a frozen mirror's Release validity), nothing else.
apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy) ' >"$ROOTFS/etc/apt/apt.conf.d/90host-network" || true
cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
# The certificate authorities this machine adds for its network (e.g. a TLS-inspecting egress
# proxy's): the ca-certificates package setup.sh installs puts them into the system bundle
# (and Java's). pip's own config (which bundle to trust) comes along; nothing else does.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$ROOTFS/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
fi
if [ -f /etc/pip.conf ]; then cp /etc/pip.conf "$ROOTFS/etc/pip.conf"; fi
grep -q localhost "$ROOTFS/etc/hosts" 2>/dev/null || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >>"$ROOTFS/etc/hosts"
# Package installs must not start daemons (PostgreSQL's and Mosquitto's default services) on the
# shared network: only dev-up.sh starts processes, and dev-down.sh stops them.
printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"

step "mounting /proc, /sys, /dev (own nodes, devpts, shm) in the root"
do_mount -t proc proc "$ROOTFS/proc"
do_mount -t sysfs -o ro sysfs "$ROOTFS/sys"
do_mount -t tmpfs -o mode=755,nosuid dev "$ROOTFS/dev"
for node in "null c 1 3" "zero c 1 5" "full c 1 7" "random c 1 8" "urandom c 1 9" "tty c 5 0"; do
  read -r name type major minor <<<"$node"
  mknod -m 666 "$ROOTFS/dev/$name" "$type" "$major" "$minor"
done
mkdir -p "$ROOTFS/dev/pts" "$ROOTFS/dev/shm"
do_mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$ROOTFS/dev/pts"
ln -s pts/ptmx "$ROOTFS/dev/ptmx"
ln -s /proc/self/fd "$ROOTFS/dev/fd"
ln -s /proc/self/fd/0 "$ROOTFS/dev/stdin"; ln -s /proc/self/fd/1 "$ROOTFS/dev/stdout"; ln -s /proc/self/fd/2 "$ROOTFS/dev/stderr"
do_mount -t tmpfs -o mode=1777,nosuid,nodev shm "$ROOTFS/dev/shm"

# ---- what the machine brings (README, Requirements), lent read-only --------------------------

ROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if command -v go >/dev/null; then
  goroot="$(go env GOROOT)"
  bind_ro "$goroot"
  ROOT_PATH="$goroot/bin:$ROOT_PATH"
else
  warn "no Go on this machine to lend to the root"
fi
rustup_home="${RUSTUP_HOME:-$HOME/.rustup}" cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
if [ -d "$rustup_home" ] && [ -x "$cargo_bin/rustup" ]; then
  # Only the toolchains and the proxies: the registry under ~/.cargo starts empty and writable.
  bind_ro "$rustup_home"
  bind_ro "$cargo_bin"
  ROOT_PATH="$cargo_bin:$ROOT_PATH"
  RUSTUP_ENV=(RUSTUP_HOME="$rustup_home" CARGO_HOME="$(dirname "$cargo_bin")")
else
  warn "no rustup toolchain on this machine to lend to the root"
  RUSTUP_ENV=()
fi
if command -v node >/dev/null && command -v npm >/dev/null; then
  node_bin="$(readlink -f "$(command -v node)")" npm_cli="$(readlink -f "$(command -v npm)")"
  bind_ro "$node_bin"
  case "$npm_cli" in
    */node_modules/npm/bin/npm-cli.js)
      bind_ro "${npm_cli%/npm/bin/npm-cli.js}"
      ln -sfn "$npm_cli" "$ROOTFS$(dirname "$node_bin")/npm" ;;
    *) warn "npm at $npm_cli is not a node_modules install; the root gets node only" ;;
  esac
  [ "$(dirname "$node_bin")" = /usr/bin ] || ROOT_PATH="$(dirname "$node_bin"):$ROOT_PATH"
else
  warn "no Node.js on this machine to lend to the root"
fi

# ---- the checkout ----------------------------------------------------------------------------

rev="$(git -C "$ROOT" stash create 2>/dev/null || true)"
step "copying the checkout (git archive of HEAD${rev:+ with the uncommitted changes of tracked files}) to $CHECKOUT_IN_ROOT"
mkdir -p "$ROOTFS$CHECKOUT_IN_ROOT"
git -C "$ROOT" archive "${rev:-HEAD}" | tar -x -C "$ROOTFS$CHECKOUT_IN_ROOT"
if [ -n "${FRESH_CHECK_DROP_PACKAGE:-}" ]; then
  setup_copy="$ROOTFS$CHECKOUT_IN_ROOT/scripts/setup.sh"
  before="$(grep '^APT_PACKAGES=' "$setup_copy")"
  [[ "$FRESH_CHECK_DROP_PACKAGE" =~ ^[a-z0-9][a-z0-9.+-]+$ ]] || die "not a Debian package name: $FRESH_CHECK_DROP_PACKAGE"
  pkg_re="${FRESH_CHECK_DROP_PACKAGE//./\\.}"; pkg_re="${pkg_re//+/\\+}"
  sed -i -E "/^APT_PACKAGES=/ { s/\\($pkg_re /(/; s/ $pkg_re\\)/)/; s/ $pkg_re / /; }" "$setup_copy"
  [ "$before" != "$(grep '^APT_PACKAGES=' "$setup_copy")" ] || die "$FRESH_CHECK_DROP_PACKAGE is not in APT_PACKAGES of scripts/setup.sh"
  warn "removed $FRESH_CHECK_DROP_PACKAGE from APT_PACKAGES in the root's copy of scripts/setup.sh: the rehearsal must fail"
fi

# The shared reference material CI puts beside the clone: the Spin CLI (binary and source
# snapshot, SPIN_SOURCE_DIR) is taken from there, lent read-only at the same place beside the copy.
if [ -d "$SPIN_SOURCE_DIR" ]; then
  spin_dst="$ROOTFS$(dirname "$CHECKOUT_IN_ROOT")/shared/spin"
  mkdir -p "$spin_dst"
  do_mount --bind "$SPIN_SOURCE_DIR" "$spin_dst"
  mount -o remount,bind,ro "$spin_dst" || die "could not make $spin_dst read-only"
else
  warn "no Spin source directory at $SPIN_SOURCE_DIR to lend to the root; setup there will stop at Spin"
fi

# The heavy builds a fresh machine would make once, from this machine's cache (not with --cold).
if [ "$mode" = full ]; then
  seed="$ROOTFS/root/.cache/todo-platform"
  mkdir -p "$seed"
  kafka_dir="kafka-$KAFKA_VERSION-$(sha256sum "$ROOT/scripts/setup/kafka-pom.xml" | cut -c1-12)"
  # daprd's directory carries a key of the patches applied to it (setup_dapr): every build of this version.
  dapr_builds=()
  for d in "$CACHE/dapr-$DAPR_VERSION"*; do [ -d "$d" ] && dapr_builds+=("$(basename "$d")"); done
  for d in ${dapr_builds[@]+"${dapr_builds[@]}"} "mailpit-$MAILPIT_VERSION" "$kafka_dir" "wasm-component-ld-$WASM_COMPONENT_LD_VERSION"; do
    if [ -d "$CACHE/$d" ]; then cp -a "$CACHE/$d" "$seed/"; else warn "not in this machine's cache, built inside: $d"; fi
  done
  step "seeded the root's cache from $CACHE: $(find "$seed" -mindepth 1 -maxdepth 1 -printf '%f ')"
fi

# ---- inside the root -------------------------------------------------------------------------

# Runs a command line in the checkout inside the root, as root, with a fresh login's environment.
in_root() {
  # How this machine reaches the network (proxies, which CA bundle to trust) carries over.
  local proxies=() v
  for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY \
    SSL_CERT_FILE SSL_CERT_DIR PIP_CERT REQUESTS_CA_BUNDLE CURL_CA_BUNDLE NODE_EXTRA_CA_CERTS GIT_SSL_CAINFO; do
    [ -z "${!v:-}" ] || proxies+=("$v=${!v}")
  done
  nice -n 10 chroot "$ROOTFS" /usr/bin/env -i HOME=/root USER=root LOGNAME=root TERM=dumb LANG=C.UTF-8 \
    PATH="$ROOT_PATH" ${RUSTUP_ENV[@]+"${RUSTUP_ENV[@]}"} ${proxies[@]+"${proxies[@]}"} \
    /bin/bash -c "cd $CHECKOUT_IN_ROOT && $1"
}
# Same, its output shown and appended to the log; fails the rehearsal with a message.
run_step() {
  local what="$1" cmd="$2" t=$SECONDS
  step "inside the root: $cmd"
  echo "### $cmd" >>"$LOGFILE"
  if ! in_root "$cmd" 2>&1 | tee -a "$LOGFILE"; then
    die "$what failed inside the fresh root after $((SECONDS - t))s (see the messages above; log $LOGFILE)"
  fi
  ok "$what ($((SECONDS - t))s)"
}

if [ "$mode" = setup-only ]; then
  run_step "setup.sh apt (Debian packages + program check)" "scripts/setup.sh apt"
else
  run_step "dev-up.sh" "scripts/dev-up.sh"
  step "inside the root: curl localhost:8000/healthz"
  body="$(in_root "curl -fsS --max-time 10 localhost:8000/healthz" 2>&1)" || die "healthz failed: $body"
  echo "$body" | tee -a "$LOGFILE"
  grep -q '"status":"ok"' <<<"$body" || die "unexpected healthz answer: $body"
  ok "Task API healthy inside the root"
  run_step "dev-down.sh" "scripts/dev-down.sh"
fi
RESULT=pass
