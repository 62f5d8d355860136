#!/usr/bin/env bash
# CI (debian:bookworm container): a rustup toolchain with rustfmt and clippy, first in PATH for the
# following steps (README, Requirements: setup.sh does not install it).
set -euo pipefail
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
if ! command -v rustup >/dev/null && [ ! -x "$CARGO_HOME/bin/rustup" ]; then
  command -v curl >/dev/null || { apt-get update -q && apt-get install -y -q --no-install-recommends curl ca-certificates; }
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
    | sh -s -- -y --profile minimal --component rustfmt,clippy --no-modify-path
fi
"$CARGO_HOME/bin/rustup" component add rustfmt clippy
# The next steps of the job find cargo first in PATH (GitHub Actions' GITHUB_PATH).
if [ -n "${GITHUB_PATH:-}" ]; then echo "$CARGO_HOME/bin" >>"$GITHUB_PATH"; fi
"$CARGO_HOME/bin/cargo" --version
