#!/usr/bin/env bash
# Builds the two SpinKube parts the local cluster needs and no registry here serves: the
# spin-operator manager and containerd-shim-spin-v2. Output: the directory `scripts/setup.sh
# spinkube` checks and links (bin/, crds/, chart/, SOURCES).
#
#   scripts/setup/spinkube-build.sh SRC_DIR [WORK_DIR]
#   scripts/setup/spinkube-build.sh --fetch [WORK_DIR]   (clones the pinned commits first, from
#       SPINKUBE_GIT_URL, a printf pattern taking the repository name; default
#       https://github.com/spinframework/%s.git)
#
# SRC_DIR holds the unmodified upstream trees (e.g. `git archive <tag>` of each repository):
#   containerd-shim-spin/   spinframework/containerd-shim-spin  v0.24.0 (de7f584f)
#   spin-trigger-mqtt/      spinframework/spin-trigger-mqtt     v0.7.2  (4ecebd4e)
#   spin-trigger-command/   spinframework/spin-trigger-command  v0.5.3  (551fd552)
#   spin-trigger-sqs/       spinframework/spin-trigger-sqs      v0.12.1 (3314a88f; v0.12.2, which the
#                           shim pins, was not available: its Spin pin is moved v3.6.2 -> v3.6.3 and
#                           wasmtime 41.0.4 -> 42.0.2, as v0.12.2 has them)
#   spin-operator/          spinframework/spin-operator         v0.6.1  (96c9d1d1)
# The Spin crates come from ../shared/spin/spin-v3.6.3-src.tgz (tag v3.6.3 with its git-only
# dependencies), patched as for the Spin CLI (patches/spin-v3.6.3-local-deps.patch).
# Everything else comes from crates.io and the Go module proxy as the upstream lock files pin it.
#
# One fix is applied: patches/containerd-shim-wasm-1.0.0-linux-env.patch (containerd-shim-wasm
# 1.0.0 never gives a Linux container of a Wasm pod its spec's environment, so a daprd sidecar
# starts without DAPR_TRUST_ANCHORS and exits; see the patch's header).
#
# About 25 minutes on 2 cores (wasmtime and the Spin crates); needs cargo, go, protoc, patch (and
# git with --fetch).
set -euo pipefail
# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

# The upstream commits this build takes (repository, tag, commit).
PINNED=(
  "containerd-shim-spin v0.24.0 de7f584fd60ef0a83461bf332f92093b103dff35"
  "spin-trigger-mqtt v0.7.2 4ecebd4e00d5b048828fc2681db398312cbe74e4"
  "spin-trigger-command v0.5.3 551fd55221f9b15be64a4a6003dfb15234a7025f"
  "spin-trigger-sqs v0.12.1 3314a88f9a8210423f61f9f389758731f444ae5c"
  "spin-operator v0.6.1 96c9d1d1d69c2c04e005375c44f323fb10e31002"
)

usage="usage: spinkube-build.sh SRC_DIR|--fetch [WORK_DIR]"
WORK="${2:-${TMPDIR:-/tmp}/spinkube-build}"
OUT="$CACHE/spinkube-operator-$SPIN_OPERATOR_VERSION-shim-$SPIN_SHIM_VERSION"
SPIN_TGZ="$ROOT/../shared/spin/spin-v3.6.3-src.tgz"
SHIM_WASM=containerd-shim-wasm-1.0.0

for tool in cargo go protoc patch curl tar python3; do
  command -v "$tool" >/dev/null || die "spinkube-build: '$tool' not found (protoc: apt install protobuf-compiler)"
done
[ -f "$SPIN_TGZ" ] || die "spinkube-build: $SPIN_TGZ missing (the Spin v3.6.3 source snapshot)"
if [ "${1:?$usage}" = --fetch ]; then
  command -v git >/dev/null || die "spinkube-build: 'git' not found"
  SRC="$WORK/src"
  mkdir -p "$SRC"
  for pin in "${PINNED[@]}"; do
    read -r name tag commit <<<"$pin"
    if [ "$(git -C "$SRC/$name" rev-parse HEAD 2>/dev/null)" != "$commit" ]; then
      # shellcheck disable=SC2059  # the pattern is the caller's
      url="$(printf "${SPINKUBE_GIT_URL:-https://github.com/spinframework/%s.git}" "$name")"
      log "spinkube-build: fetching $name $tag ($commit) from $url"
      rm -rf "${SRC:?}/$name"
      git init -q "$SRC/$name"
      git -C "$SRC/$name" fetch -q --depth 1 "$url" "$commit" || die "spinkube-build: cannot fetch $commit from $url"
      git -C "$SRC/$name" -c advice.detachedHead=false checkout -q FETCH_HEAD
    fi
    [ "$(git -C "$SRC/$name" rev-parse HEAD)" = "$commit" ] || die "spinkube-build: $SRC/$name is not at $commit"
  done
else
  SRC="$(cd "$1" && pwd)"
fi
for pin in "${PINNED[@]}"; do
  read -r name _ <<<"$pin"
  [ -f "$SRC/$name/Cargo.toml" ] || [ -f "$SRC/$name/go.mod" ] || die "spinkube-build: $SRC/$name is not a source tree"
done
grep -q "version = \"${SPIN_SHIM_VERSION#v}\"" "$SRC/containerd-shim-spin/Cargo.toml" \
  || die "spinkube-build: $SRC/containerd-shim-spin is not $SPIN_SHIM_VERSION"

mkdir -p "$WORK"
log "spinkube-build: preparing sources in $WORK"
if [ ! -f "$WORK/spin/.patched" ]; then
  rm -rf "$WORK/spin" "$WORK/deps"
  tar -xzf "$SPIN_TGZ" -C "$WORK"
  (cd "$WORK/spin" && patch -s -p1 <"$ROOT/scripts/setup/patches/spin-v3.6.3-local-deps.patch" && touch .patched)
fi
if [ ! -f "$WORK/$SHIM_WASM/.patched" ]; then
  rm -rf "${WORK:?}/$SHIM_WASM"
  curl -sSfL "https://static.crates.io/crates/containerd-shim-wasm/$SHIM_WASM.crate" | tar -xz -C "$WORK"
  (cd "$WORK/$SHIM_WASM" && patch -s -p1 <"$ROOT/scripts/setup/patches/$SHIM_WASM-linux-env.patch" && touch .patched)
fi
for d in containerd-shim-spin spin-trigger-mqtt spin-trigger-command spin-trigger-sqs; do
  rm -rf "${WORK:?}/$d"; cp -a "$SRC/$d" "$WORK/$d"; rm -rf "${WORK:?}/$d/.git"
done
sed -i -e 's/tag = "v3\.6\.2"/tag = "v3.6.3"/' -e 's/^wasmtime = { version = "41\.0\.4" }/wasmtime = { version = "42.0.2" }/' \
  "$WORK/spin-trigger-sqs/Cargo.toml"
grep -q '"42.0.2"' "$WORK/spin-trigger-sqs/Cargo.toml" || die "spinkube-build: spin-trigger-sqs's wasmtime pin not moved"

# The shim's workspace: only the shim (the test crates pull git-only test fixtures), the upstream
# toolchain pin dropped (rustup cannot download here), every git dependency of the shim, the
# triggers, the Spin crates and Spin's own dependencies rewritten to a path dependency on the
# local tree of the same package (cargo would otherwise reach the git hosts even for a
# `[patch]`), and the fixed containerd-shim-wasm.
shim="$WORK/containerd-shim-spin"
rm -f "$shim/rust-toolchain.toml"
python3 - "$WORK" <<'EOF'
import pathlib, re, sys, tomllib
work = pathlib.Path(sys.argv[1])
trees = [work / "spin" / "crates", work / "deps", work / "spin-trigger-mqtt",
         work / "spin-trigger-command", work / "spin-trigger-sqs"]
# Every package manifest of those trees, test and example crates left out.
found = [m for t in trees for m in sorted(t.rglob("Cargo.toml"))
         if "/tests/" not in str(m) and "/examples/" not in str(m)]
local = {}
for manifest in found:
    package = tomllib.loads(manifest.read_text()).get("package", {})
    if "name" in package:
        local.setdefault(package["name"], manifest.parent)
git_dep = re.compile(r'^(?P<name>[A-Za-z0-9_-]+)(?P<eq>\s*=\s*\{\s*)git\s*=\s*"[^"]+"\s*,\s*(?:rev|tag|branch)\s*=\s*"[^"]+"', re.M)
def to_path(match):
    name = match["name"]
    if name not in local:
        sys.exit(f"spinkube-build: no local tree for git dependency {name}")
    return f'{name}{match["eq"]}path = "{local[name]}"'
for manifest in [work / "spin" / "Cargo.toml", work / "containerd-shim-spin" / "containerd-shim-spin" / "Cargo.toml", *found]:
    text = manifest.read_text()
    rewritten = git_dep.sub(to_path, text)
    if rewritten != text:
        manifest.write_text(rewritten)
root = work / "containerd-shim-spin" / "Cargo.toml"
text = re.sub(r'members = \[[^\]]*\]', 'members = ["containerd-shim-spin"]', root.read_text())
root.write_text(text + f'\n[patch.crates-io]\ncontainerd-shim-wasm = {{ path = "{work}/containerd-shim-wasm-1.0.0" }}\n')
# Cargo.lock: the git packages are path packages now (no `source`); the crates.io packages keep
# their locked versions.
lock = root.parent / "Cargo.lock"
text = re.sub(r'\nsource = "git\+[^"]*"', "", lock.read_text())
lock.write_text(re.sub(r' \(git\+[^)]*\)"', '"', text))
EOF

log "spinkube-build: building containerd-shim-spin-v2 $SPIN_SHIM_VERSION (long: about 25 minutes on 2 cores; log $WORK/shim-build.log)"
(cd "$shim" && CARGO_TARGET_DIR="$WORK/target" nice -n 10 cargo build --release -p containerd-shim-spin-v2 \
  >"$WORK/shim-build.log" 2>&1) || { tail -n 30 "$WORK/shim-build.log" >&2; die "spinkube-build: shim build failed"; }

log "spinkube-build: building the spin-operator $SPIN_OPERATOR_VERSION manager (a few minutes)"
(cd "$SRC/spin-operator" && CGO_ENABLED=0 nice -n 10 go build -trimpath -o "$WORK/spin-operator-manager" ./cmd \
  >"$WORK/operator-build.log" 2>&1) || { tail -n 30 "$WORK/operator-build.log" >&2; die "spinkube-build: operator build failed"; }

rm -rf "$OUT.tmp"; mkdir -p "$OUT.tmp/bin"
install -m755 "$WORK/target/release/containerd-shim-spin-v2" "$OUT.tmp/bin/"
install -m755 "$WORK/spin-operator-manager" "$OUT.tmp/bin/"
cp -a "$SRC/spin-operator/config/crd/bases" "$OUT.tmp/crds"
cp -a "$SRC/spin-operator/charts/spin-operator" "$OUT.tmp/chart"
{ printf '%s\n' "${PINNED[@]}"
  echo "Spin v3.6.3 ($(basename "$SPIN_TGZ")); trigger-sqs moved to Spin v3.6.3, wasmtime 42.0.2"
  echo "$SHIM_WASM with $SHIM_WASM-linux-env.patch"; } >"$OUT.tmp/SOURCES"
rm -rf "$OUT"; mv "$OUT.tmp" "$OUT"
ok "spinkube-build: $OUT (containerd-shim-spin-v2 $("$OUT/bin/containerd-shim-spin-v2" -v 2>&1 | awk '/Version:/ {print $2}'))"
