#!/usr/bin/env bash
# Builds every Wasm component declared in spin.toml (or the named ones) without the Spin CLI.
#   scripts/build-components.sh [component ...]
source "$(dirname "$0")/lib/common.sh"
if (($#)); then comps=("$@"); else
  mapfile -t comps < <(sed -n 's/^\[component\.\([a-z0-9-]*\)\]$/\1/p' "$ROOT/spin.toml")
fi
bash "$ROOT/scripts/build-wasm.sh" "${comps[@]}"
