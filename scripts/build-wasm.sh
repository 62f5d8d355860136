#!/usr/bin/env bash
# Builds workspace packages for wasm32-wasip2 with Debian's rustc + build-std (see docs/local-dev.md)
# and prints the path of each resulting .wasm file.
#   scripts/build-wasm.sh task-api [recurrence-engine ...]
# WASM_PROFILE=dev-loop builds with the developer loop's profile (Cargo.toml) into
# target/wasm/wasm32-wasip2/dev-loop/ instead of release/.
# Without the Spin CLI; spin.toml's [component.*.build] commands call this script too.
source "$(dirname "$0")/lib/common.sh"

(($#)) || die "usage: scripts/build-wasm.sh <package> [package ...]"
[ -x "$TOOLS/bin/wasm-component-ld" ] || bash "$ROOT/scripts/setup.sh" apt wasm >&2

WASM_TARGET_DIR="$ROOT/target/wasm"
profile="${WASM_PROFILE:-release}"
case "$profile" in release|dev-loop) ;; *) die "unknown WASM_PROFILE '$profile' (release|dev-loop)" ;; esac
args=()
for p in "$@"; do args+=(-p "$p"); done

log "building ${*} for wasm32-wasip2 ($profile)"
(
  cd "$ROOT" || exit 1
  RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$WASM_TARGET_DIR" /usr/bin/cargo build --profile "$profile" \
    --target wasm32-wasip2 \
    --config 'build.rustc="/usr/bin/rustc"' \
    --config 'build.rustdoc="/usr/bin/rustdoc"' \
    --config 'unstable.build-std=["std","panic_abort"]' \
    --config "target.wasm32-wasip2.linker=\"$TOOLS/bin/wasm-component-ld\"" \
    --config 'target.wasm32-wasip2.rustflags=["-L","native=/usr/lib/wasm32-wasi","-C","link-arg=--wasm-ld-path=/usr/bin/wasm-ld-22"]' \
    "${args[@]}" >&2
)
for p in "$@"; do
  f="$WASM_TARGET_DIR/wasm32-wasip2/$profile/${p//-/_}.wasm"
  [ -f "$f" ] || f="$WASM_TARGET_DIR/wasm32-wasip2/$profile/$p.wasm"
  [ -f "$f" ] || die "no .wasm produced for $p"
  echo "$f"
done
