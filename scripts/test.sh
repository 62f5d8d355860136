#!/usr/bin/env bash
# Runs every test: formatting and clippy gates, native crates (cargo test), the recurrence vectors, the
# infrastructure checks (scripts/check-infra.sh), then builds the components,
# starts an isolated stack (ports +10000, data in .test-data/, never the dev stack), runs the
# integration and contract tests and `scripts/bench.sh --quick` against it and stops it. Ends with one line `N passed, M failed`.
#   scripts/test.sh               everything
#   scripts/test.sh --no-stack    native tests and vectors only
#   scripts/test.sh --cluster     only the local-cluster suite (tests/cluster): builds the cluster
#                                 parts (setup parts kube, cluster, daprcp; those of the host services)
#                                 and the components (spin build; the suite deploys them as
#                                 scripts/dev-up.sh --cluster does), starts the single-node
#                                 cluster (scripts/cluster.sh up, ports 14000+), builds its images,
#                                 installs Dapr (scripts/cluster-dapr.sh) and, when the SpinKube
#                                 binaries are prepared (setup part spinkube), spin-operator
#                                 (scripts/cluster-spinkube.sh), runs the tests and leaves the
#                                 cluster running (scripts/cluster.sh down).
#                                 Needs root; not part of the default run nor of .ci/run.
source "$(dirname "$0")/lib/common.sh"

with_stack=true cluster_only=false
for a in "$@"; do
  case "$a" in
    --no-stack) with_stack=false ;;
    --cluster) cluster_only=true ;;
    *) die "unknown option $a" ;;
  esac
done

PASSED=0 FAILED=0
SUITES=()
RESULTS="$(mktemp -d)"
trap 'rm -rf "$RESULTS"' EXIT

# Adds the counts a suite printed to the totals; a suite that failed without counts counts 1 failure.
record() {
  local name="$1" rc="$2" out="$3" p=0 f=0
  case "$name" in
    cargo*)
      p=$({ grep -E '^test result:' "$out" || true; } | sed -E 's/.* ([0-9]+) passed.*/\1/' | awk '{s+=$1} END {print s+0}')
      f=$({ grep -E '^test result:' "$out" || true; } | sed -E 's/.* ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}') ;;
    *)
      local line; line="$({ grep -E '[0-9]+ passed' "$out" || true; } | tail -1)"
      p=$({ grep -oE '[0-9]+ passed' <<<"$line" || true; } | awk '{s+=$1} END {print s+0}')
      f=$({ grep -oE '[0-9]+ (failed|errors?)' <<<"$line" || true; } | awk '{s+=$1} END {print s+0}') ;;
  esac
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
  SUITES+=("$(printf '%-22s %5s passed %4s failed  (exit %s)' "$name" "$p" "$f" "$rc")")
}

suite() {
  local name="$1"; shift
  log "suite: $name"
  local out="$RESULTS/$name.log" rc=0
  "$@" 2>&1 | tee "$out" || rc=${PIPESTATUS[0]}
  record "$name" "$rc" "$out"
}

if $cluster_only; then
  # The parts of the cluster, and of the host services and components the platform's deploy uses.
  bash "$ROOT/scripts/setup.sh" apt python infra kube cluster daprcp wasm spin registry kafka mail sync
  # SpinKube only where its binaries are prepared (setup part spinkube; its tests skip otherwise),
  # before `up` so containerd registers the Spin shim.
  spinkube=true
  bash "$ROOT/scripts/setup.sh" spinkube || { spinkube=false; warn "SpinKube not prepared: its tests skip"; }
  log "spin build (the application tests/cluster deploys)"
  (cd "$ROOT" && "$TOOLS/bin/spin" build -f "$ROOT/spin.toml" >/dev/null) || die "spin build failed"
  start=$SECONDS
  if bash "$ROOT/scripts/cluster.sh" up && bash "$ROOT/scripts/cluster-images.sh" && bash "$ROOT/scripts/cluster-dapr.sh" \
    && { ! $spinkube || bash "$ROOT/scripts/cluster-spinkube.sh"; }; then
    log "cluster up, images imported, Dapr (and SpinKube: $spinkube) installed in $((SECONDS - start)) s"
    suite cluster "$TOOLS/venv/bin/python" -m pytest -p no:cacheprovider -q -rfE "$ROOT/tests/cluster"
  else
    record cluster-up 1 /dev/null
  fi
  echo
  echo "Summary"
  printf '  %s\n' "${SUITES[@]}"
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
  exit
fi

bash "$ROOT/scripts/setup.sh"

suite cargo-fmt cargo fmt --all -- --check
suite cargo-clippy cargo clippy --workspace --all-targets --locked -- -D warnings
suite cargo-test cargo test --workspace --locked
# Each crate's top-level modules depend one way (no cycles).
suite module-cycles "$TOOLS/venv/bin/python" "$ROOT/scripts/infra/module_cycles.py" "$ROOT"
# Source files over 600 lines say why at their top (functions over 80 lines: clippy too_many_lines).
suite long-files "$TOOLS/venv/bin/python" "$ROOT/scripts/infra/long_files.py" "$ROOT"
# The vectors come from the shared reference material beside the checkout (RECURRENCE_VECTORS overrides).
suite recurrence-vectors bash "$ROOT/scripts/recurrence-vectors.sh" "${RECURRENCE_VECTORS:-$ROOT/../shared/recurrence/vectors.json}"
suite infra bash "$ROOT/scripts/check-infra.sh"

if $with_stack; then
  log "building components"
  if ! bash "$ROOT/scripts/build-components.sh" >/dev/null; then
    record components-build 1 /dev/null
  else
    source "$ROOT/scripts/lib/stack.sh"
    stack_env test
    # A fresh, isolated stack each run.
    stack_down >/dev/null 2>&1 || true
    rm -rf "$STACK_DIR"
    stop_test_stack() { stack_down >/dev/null 2>&1 || true; }
    trap 'stop_test_stack; rm -rf "$RESULTS"' EXIT
    # A separate process, so that errexit applies inside (it is off in an `if` condition).
    if bash "$ROOT/scripts/stack.sh" test up; then
      # Every query's rows decode into the row type its builder names, on the stack's PostgreSQL.
      suite cargo-row-shapes bash "$ROOT/scripts/row-shapes.sh" test
      suite platform "$TOOLS/venv/bin/python" -m pytest -p no:cacheprovider -q -rfE "$ROOT/tests/platform"
      # Every phrase of the table through the Task API, occurrence by occurrence against dateutil.
      suite phrases bash "$ROOT/scripts/phrases.sh" "$ROOT/tests/phrases/phrases.json"
      # Local Prometheus on the same stack: every alert/dashboard expression with local metrics returns data.
      suite observe bash "$ROOT/scripts/observe-local.sh" test 30
      # Every benchmark at small sizes on the same stack: passes when each bench ran and printed
      # its figures (timing goals are the benches' own figures, not a test verdict).
      suite bench-quick bash "$ROOT/scripts/bench.sh" --quick
      # Faults under load on the same stack (kill -9 of every process, dead-letter replay, secret
      # rotation), accounted by event id; the stack is healthy again afterwards.
      suite chaos bash "$ROOT/scripts/chaos.sh" --quick
    else
      record stack-up 1 /dev/null
    fi
    stop_test_stack
  fi
fi

echo
echo "Summary"
printf '  %s\n' "${SUITES[@]}"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
