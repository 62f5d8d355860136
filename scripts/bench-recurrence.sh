#!/usr/bin/env bash
# Recurrence benchmark against python-dateutil, both measured in this run on the same cases:
#   (a) next occurrence of FREQ=DAILY (America/New_York) whose DTSTART is three years ago;
#   (b) the next 1000 occurrences of FREQ=WEEKLY;BYDAY=MO,WE,FR (as written: floating times;
#       the America/New_York variant is reported too);
#   (c) (a) inside a Wasm module (wasm32-wasip2 command) under wasmtime;
#   (d) parsing the grammar's example phrases (recurrence::phrase::EXAMPLES), native and in Wasm.
# Rust timings: best of 5 runs of N iterations with std::time::Instant (criterion-free; the
# criterion benches are `cargo bench -p recurrence`). dateutil: timeit, best of 5.
# Last line: speedup_next_daily=<x> speedup_list_weekly=<y> speedup_wasm=<z> phrases_per_s=<n> phrases_per_s_wasm=<m>
source "$(dirname "$0")/lib/common.sh"

NOW="${BENCH_NOW:-2026-11-26T12:00:00+00:00}"
PY="$ROOT/.tools/venv/bin/python"
[ -x "$PY" ] || PY="$(command -v python3)"
"$PY" -c 'import dateutil, zoneinfo; zoneinfo.ZoneInfo("America/New_York")' 2>/dev/null \
  || die "$PY needs python-dateutil and tzdata (run scripts/setup.sh)"

log "building the native bench command (bench profile)"
(cd "$ROOT" && cargo build -q --profile bench -p recurrence --bin recurrence-bench >&2)
log "building the Wasm bench command"
WASM="$(bash "$ROOT/scripts/build-wasm.sh" recurrence-bench-wasm | tail -n 1)"
WASMTIME="$TOOLS/bin/wasmtime"
[ -x "$WASMTIME" ] || WASMTIME="$(command -v wasmtime)" || die "wasmtime not found (run scripts/setup.sh)"

tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
# Three interleaved rounds; each figure is the best (lowest) of its rounds, so a burst of load
# on a shared machine hits dateutil and ours alike and does not decide the ratio.
ROUNDS="${BENCH_ROUNDS:-3}"
for r in $(seq "$ROUNDS"); do
  log "round $r/$ROUNDS: python-dateutil, native, Wasm"
  "$PY" "$ROOT/crates/recurrence/benches/dateutil_bench.py" "$NOW" >>"$tmp/py"
  "$ROOT/target/release/recurrence-bench" --now "$NOW" >>"$tmp/rs"
  "$WASMTIME" run "$WASM" 20000 "$NOW" >>"$tmp/wasm"
done

ns() {
  awk -v k="$2" '$1 == k { for (i = 2; i <= NF; i++) if ($i ~ /^ns_per_op=/) { sub("ns_per_op=", "", $i); v = $i + 0; if (best == "" || v < best) best = v } }
    END { if (best != "") print best }' "$1"
}
py_a=$(ns "$tmp/py" next_daily);  rs_a=$(ns "$tmp/rs" next_daily)
py_b=$(ns "$tmp/py" list_weekly); rs_b=$(ns "$tmp/rs" list_weekly)
py_bz=$(ns "$tmp/py" list_weekly_zoned); rs_bz=$(ns "$tmp/rs" list_weekly_zoned)
wasm_a=$(ns "$tmp/wasm" next_daily_wasm)
rs_p=$(ns "$tmp/rs" phrases); wasm_p=$(ns "$tmp/wasm" phrases_wasm)
for v in py_a rs_a py_b rs_b py_bz rs_bz wasm_a rs_p wasm_p; do [ -n "${!v}" ] || die "missing measurement $v"; done

echo "python: $(tail -n 1 "$tmp/py")  rustc: $(rustc --version)  wasmtime: $("$WASMTIME" --version)"
printf '%-44s %16s %14s %10s\n' "case" "dateutil µs/op" "ours µs/op" "speedup"
row() { awk -v n="$1" -v p="$2" -v r="$3" 'BEGIN { printf "%-44s %16.2f %14.3f %9.0fx\n", n, p/1000, r/1000, p/r }'; }
row "(a) next FREQ=DAILY, DTSTART 3y ago (native)" "$py_a" "$rs_a"
row "(b) next 1000 WEEKLY MO,WE,FR (native)" "$py_b" "$rs_b"
row "    same, America/New_York instants" "$py_bz" "$rs_bz"
row "(c) (a) inside Wasm (wasmtime)" "$py_a" "$wasm_a"
awk -v r="$rs_p" -v w="$wasm_p" 'BEGIN { printf "(d) phrase parsing, µs/phrase: native %.2f, Wasm %.2f\n", r/1000, w/1000 }'
awk -v a="$py_a" -v ra="$rs_a" -v b="$py_b" -v rb="$rs_b" -v w="$wasm_a" -v rp="$rs_p" -v wp="$wasm_p" \
  'BEGIN { printf "speedup_next_daily=%.1f speedup_list_weekly=%.1f speedup_wasm=%.1f phrases_per_s=%.0f phrases_per_s_wasm=%.0f\n", a/ra, b/rb, a/w, 1e9/rp, 1e9/wp }'
