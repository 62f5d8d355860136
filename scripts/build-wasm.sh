#!/usr/bin/env bash
# Builds workspace packages for wasm32-wasip2 with Debian's rustc + build-std (see docs/local-dev.md)
# and prints the path of each resulting .wasm file.
#   scripts/build-wasm.sh task-api [recurrence-engine ...]
# Without the Spin CLI; spin.toml's [component.*.build] commands call this script too.
source "$(dirname "$0")/lib/common.sh"

(($#)) || die "usage: scripts/build-wasm.sh <package> [package ...]"
[ -x "$TOOLS/bin/wasm-component-ld" ] || bash "$ROOT/scripts/setup.sh" apt wasm >&2

WASM_TARGET_DIR="$ROOT/target/wasm"
args=()
for p in "$@"; do args+=(-p "$p"); done

log "building ${*} for wasm32-wasip2" 
(
  cd "$ROOT" || exit 1
  RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$WASM_TARGET_DIR" /usr/bin/cargo build --release \
    --target wasm32-wasip2 \
    --config 'build.rustc="/usr/bin/rustc"' \
    --config 'build.rustdoc="/usr/bin/rustdoc"' \
    --config 'unstable.build-std=["std","panic_abort"]' \
    --config "target.wasm32-wasip2.linker=\"$TOOLS/bin/wasm-component-ld\"" \
    --config 'target.wasm32-wasip2.rustflags=["-L","native=/usr/lib/wasm32-wasi","-C","link-arg=--wasm-ld-path=/usr/bin/wasm-ld-22"]' \
    "${args[@]}" >&2
)
for p in "$@"; do
  f="$WASM_TARGET_DIR/wasm32-wasip2/release/${p//-/_}.wasm"
  [ -f "$f" ] || f="$WASM_TARGET_DIR/wasm32-wasip2/release/$p.wasm"
  [ -f "$f" ] || die "no .wasm produced for $p"
  echo "$f"
done
