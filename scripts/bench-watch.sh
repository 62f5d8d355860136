#!/usr/bin/env bash
# The developer loop's save -> serving time (`scripts/dev-up.sh --watch`, Spin): starts the watch
# loop on a stack, then ROUNDS times changes one line of the Task API's health answer (a field
# `"loop": <n>`), and measures from the write to the first /healthz answer that carries it: the
# watcher's detection, `spin build` of the component (dev-loop profile) and the restart of its
# `spin up`. The source file is restored at the end (also on failure or Ctrl-C).
#   scripts/bench-watch.sh                  against the test stack (started if it is not running)
#   STACK=dev ROUNDS=5 scripts/bench-watch.sh
# Last line: save_to_serving_p50_s=.. save_to_serving_max_s=.. goal_s=3 rounds=..
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
STACK="${STACK:-test}"
ROUNDS="${ROUNDS:-5}"
stack_env "$STACK"
[ -x "$TOOLS/bin/spin" ] || bash "$ROOT/scripts/setup.sh" spin
curl -fsS "$(app_url task-api)/healthz" >/dev/null 2>&1 || stack_up

SOURCE="$ROOT/components/task-api/src/handlers/service.rs"
MARK='"status": "ok", "app_id": component_kit::config::app_id()'
grep -qF "$MARK" "$SOURCE" || die "the Task API's health answer moved: update bench-watch.sh's MARK"
backup="$(mktemp)"; cp -p "$SOURCE" "$backup"
watcher=""
cleanup() {
  cp -p "$backup" "$SOURCE"; rm -f "$backup"
  if [ -n "$watcher" ]; then
    kill -TERM -- "-$watcher" 2>/dev/null || true
    # The components go back to the release build of the root manifest.
    local app
    for app in "${APPS[@]}"; do stop_proc "${APP_COMPONENT[$app]}" 10; start_component "$app"; done
  fi
}
trap cleanup EXIT INT TERM

watch_log="$LOG_DIR/bench-watch.log"
log "starting the watch loop on stack '$STACK' (log ${watch_log#"$ROOT"/}); the first dev-loop build takes minutes"
setsid bash -c "source '$ROOT/scripts/lib/common.sh'; source '$ROOT/scripts/lib/stack.sh'; stack_env '$STACK'; source '$ROOT/scripts/lib/watch.sh'; watch_components" \
  >"$watch_log" 2>&1 </dev/null &
watcher=$!
wait_for "the watch loop" 900 grep -q "watching sources" "$watch_log"

times=()
for n in $(seq 1 "$ROUNDS"); do
  sleep 1
  sed "s|$MARK|\"status\": \"ok\", \"loop\": $n, \"app_id\": component_kit::config::app_id()|" "$backup" >"$SOURCE"
  saved="$(date +%s.%N)"
  deadline=$((SECONDS + 120))
  until curl -fsS --max-time 1 "$(app_url task-api)/healthz" 2>/dev/null | grep -q "\"loop\":$n\b"; do
    ((SECONDS < deadline)) || { tail -n 20 "$watch_log" >&2; die "round $n: the change was not served within 120 s"; }
    sleep 0.05
  done
  t="$(awk -v a="$saved" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')"
  times+=("$t")
  log "round $n: save -> serving ${t} s"
done

# Back to the saved source, served again before the watcher stops.
cp -p "$backup" "$SOURCE"; touch "$SOURCE"
until curl -fsS --max-time 1 "$(app_url task-api)/healthz" 2>/dev/null | grep -qv '"loop"'; do sleep 0.1; done
printf '%s\n' "${times[@]}" | sort -n | awk -v rounds="$ROUNDS" '
  {v[NR]=$1} END {p50 = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2;
  printf "save_to_serving_p50_s=%.2f save_to_serving_max_s=%.2f goal_s=3 rounds=%d\n", p50, v[NR], rounds}'
