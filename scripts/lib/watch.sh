#!/usr/bin/env bash
# `dev-up.sh --watch`: polls the sources once a second; when a component's own sources change it
# rebuilds and restarts only that component; a change in shared code (crates/, component-kit)
# restarts every component. Prints the time from save to serving again.
# Source after stack.sh with the stack's environment set.

# Newest modification time (epoch seconds, fractional) under the given paths.
newest_mtime() {
  find "$@" -type f \( -name '*.rs' -o -name 'Cargo.toml' \) -printf '%T@\n' 2>/dev/null | sort -n | tail -1
}

restart_component() {
  local app="$1" comp="${APP_COMPONENT[$1]}" saved="$2"
  if ! bash "$ROOT/scripts/build-wasm.sh" "$comp" >/dev/null; then
    warn "$comp failed to build; still serving the previous version"
    return
  fi
  stop_proc "$comp" 10
  start_component "$app"
  wait_for "$comp health" 30 curl -fsS "$(app_url "$app")/healthz"
  local now; now="$(date +%s.%N)"
  ok "$comp serving again: save -> serving $(awk -v a="$saved" -v b="$now" 'BEGIN {printf "%.1f", b - a}') s"
}

watch_components() {
  local shared=("$ROOT/crates" "$ROOT/components/component-kit")
  declare -A seen
  local app m
  seen[shared]="$(newest_mtime "${shared[@]}")"
  for app in "${APPS[@]}"; do seen[$app]="$(newest_mtime "$ROOT/components/${APP_COMPONENT[$app]}")"; done
  log "watching sources (Ctrl-C to stop watching; the stack keeps running)"
  while sleep 1; do
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
