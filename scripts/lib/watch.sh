#!/usr/bin/env bash
# `dev-up.sh --watch`: the developer loop on Spin. Each component is served from a manifest of the
# developer loop (the root spin.toml with the `dev-loop` build profile: incremental, quick to
# rebuild); when a component's sources change (the `watch` globs of its [component.*.build] in
# spin.toml) `spin build` rebuilds that component through the manifest and its `spin up` restarts.
# A change in shared code (crates/, component-kit) rebuilds every component. Prints the time from
# save to serving again. Source after stack.sh with the stack's environment set.

# The developer loop's manifest: the root spin.toml with every `source` in the dev-loop profile's
# output (absolute, the copy lives in the stack dir) and build commands that build that profile.
dev_loop_manifest() {
  local out="$STACK_DIR/spin-dev-loop/spin.toml"
  mkdir -p "$(dirname "$out")"
  python3 - "$ROOT" "$out" <<'PY'
import re, sys
root, out = sys.argv[1], sys.argv[2]
text = open(f"{root}/spin.toml").read()
text = re.sub(r'^source = "target/wasm/wasm32-wasip2/release/([^"]+)"',
              lambda m: f'source = "{root}/target/wasm/wasm32-wasip2/dev-loop/{m.group(1)}"', text, flags=re.M)
text = re.sub(r'^command = "bash scripts/build-wasm.sh ([^"]+)"',
              lambda m: f'command = "WASM_PROFILE=dev-loop bash {root}/scripts/build-wasm.sh {m.group(1)}"', text, flags=re.M)
open(out, "w").write(text)
PY
  echo "$out"
}

# Newest modification time (epoch seconds, fractional) of a component's watched sources.
newest_mtime() {
  find "$@" -type f \( -name '*.rs' -o -name 'Cargo.toml' -o -path '*/static/*' \) -printf '%T@\n' 2>/dev/null | sort -n | tail -1
}

# Rebuilds one component with `spin build` and restarts its `spin up`; $2 is the save time.
restart_component() {
  local app="$1" comp="${APP_COMPONENT[$1]}" saved="$2"
  if ! (cd "$(dirname "$DEV_LOOP_MANIFEST")" && "$TOOLS/bin/spin" build -f "$DEV_LOOP_MANIFEST" -c "$comp" >"$LOG_DIR/spin-build-$comp.log" 2>&1); then
    warn "$comp failed to build (log ${LOG_DIR#"$ROOT"/}/spin-build-$comp.log); still serving the previous version"
    tail -n 15 "$LOG_DIR/spin-build-$comp.log" >&2
    return
  fi
  stop_proc "$comp" 10
  SPIN_APP_FROM="$DEV_LOOP_MANIFEST" start_component "$app"
  wait_for "$comp health" 30 curl -fsS "$(app_url "$app")/healthz"
  local now; now="$(date +%s.%N)"
  ok "$comp serving again: save -> serving $(awk -v a="$saved" -v b="$now" 'BEGIN {printf "%.1f", b - a}') s"
}

# Builds every component in the dev-loop profile and moves each onto the developer loop's manifest.
enter_dev_loop() {
  DEV_LOOP_MANIFEST="$(dev_loop_manifest)"
  export DEV_LOOP_MANIFEST
  log "building every component for the developer loop (spin build, dev-loop profile; the first time takes minutes)"
  (cd "$(dirname "$DEV_LOOP_MANIFEST")" && "$TOOLS/bin/spin" build -f "$DEV_LOOP_MANIFEST") >"$LOG_DIR/spin-build.log" 2>&1 \
    || { tail -n 20 "$LOG_DIR/spin-build.log" >&2; die "spin build failed (log ${LOG_DIR#"$ROOT"/}/spin-build.log)"; }
  local app
  for app in "${APPS[@]}"; do
    stop_proc "${APP_COMPONENT[$app]}" 10
    SPIN_APP_FROM="$DEV_LOOP_MANIFEST" start_component "$app"
  done
  for app in "${APPS[@]}"; do wait_for "${APP_COMPONENT[$app]} health" 30 curl -fsS "$(app_url "$app")/healthz"; done
}

watch_components() {
  enter_dev_loop
  local shared=("$ROOT/crates" "$ROOT/components/component-kit")
  declare -A seen
  local app m
  seen[shared]="$(newest_mtime "${shared[@]}")"
  for app in "${APPS[@]}"; do seen[$app]="$(newest_mtime "$ROOT/components/${APP_COMPONENT[$app]}")"; done
  log "watching sources (Ctrl-C to stop watching; the stack keeps running, on the dev-loop build until the next dev-up)"
  while sleep 0.2; do
    m="$(newest_mtime "${shared[@]}")"
    if [ "$m" != "${seen[shared]}" ]; then
      seen[shared]="$m"
      log "shared code changed: rebuilding every component"
      for app in "${APPS[@]}"; do restart_component "$app" "$m"; done
      continue
    fi
    for app in "${APPS[@]}"; do
      m="$(newest_mtime "$ROOT/components/${APP_COMPONENT[$app]}")"
      if [ "$m" != "${seen[$app]}" ]; then
        seen[$app]="$m"
        log "${APP_COMPONENT[$app]} changed: rebuilding it"
        restart_component "$app" "$m"
      fi
    done
  done
}
