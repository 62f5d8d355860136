#!/usr/bin/env bash
# Cost of the Wasm components on a running stack, per component (`wasmtime serve` process):
#   size         the .wasm file served (release profile)
#   per request  `wasmtime serve` instantiates the component for every request: the p50 of
#                sequential GET /healthz (a handler that does no I/O) minus the p50 of the same
#                client against a plain native HTTP server on this host (the component's own
#                daprd's /v1.0/healthz, Go net/http) is the cost of instantiation plus the
#                trivial handler
#   memory       RSS of the process idle, and its peak (sampled every 50 ms) while CONCURRENCY
#                clients keep GET /readyz in flight (each request's instance stays alive while
#                it calls its sidecar), with the increase per concurrent instance
#   scripts/bench-components.sh                  against the test stack
#   STACK=dev REQUESTS=500 CONCURRENCY=32 LOAD_SECONDS=5 scripts/bench-components.sh
#   RESULTS_DIR=<dir>                            also writes components.csv and components-summary.json
# Last line: request_overhead_p50_ms=<median over components> native_p50_ms=.. task_api_wasm_kb=..
# largest_wasm_kb=.. rss_idle_mb_max=.. rss_load_mb_max=.. rss_per_instance_kb=<median>
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
STACK="${STACK:-test}"
REQUESTS="${REQUESTS:-500}"
CONCURRENCY="${CONCURRENCY:-32}"
LOAD_SECONDS="${LOAD_SECONDS:-5}"
RESULTS_DIR="${RESULTS_DIR:-}"
stack_env "$STACK"
specs=()
for app in "${APPS[@]}"; do
  comp="${APP_COMPONENT[$app]}"
  pid="$(proc_pid "$comp")"
  if [ -z "$pid" ] || ! pid_running "$pid"; then die "$comp is not running: start the stack first (scripts/stack.sh $STACK up)"; fi
  curl -fsS "$(app_url "$app")/healthz" >/dev/null || die "$comp on :$(app_port "$app") is not healthy"
  specs+=("$comp,$pid,$(app_port "$app"),$(dapr_http_port "$app"),$(component_wasm "$comp")")
done
log "component cost: $REQUESTS sequential requests each, then $CONCURRENCY concurrent for ${LOAD_SECONDS}s (stack $STACK, load average $(cut -d' ' -f1-3 /proc/loadavg))"

"$TOOLS/venv/bin/python" - "$REQUESTS" "$CONCURRENCY" "$LOAD_SECONDS" "$RESULTS_DIR" "${specs[@]}" <<'PYEOF'
import csv, json, os, statistics, sys, threading, time
import requests

reqs, conc, secs, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
specs = [s.split(",") for s in sys.argv[5:]]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))] if xs else float("nan")


def timed(urls, n):
    """Sequential GETs of each url in turn (interleaved, so both see the same machine load)."""
    sessions = [requests.Session() for _ in urls]
    for s, url in zip(sessions, urls):
        s.get(url, timeout=10)  # connection up, outside the figures
    xs = [[] for _ in urls]
    for _ in range(n):
        for s, url, x in zip(sessions, urls, xs):
            t = time.perf_counter()
            r = s.get(url, timeout=10)
            x.append((time.perf_counter() - t) * 1000)
            if r.status_code >= 300:
                raise SystemExit(f"{url}: {r.status_code} {r.text[:200]}")
    return xs


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def load(url, pid):
    """Peak RSS and request rate while `conc` clients keep `url` in flight for `secs`."""
    stop, done, peak = time.monotonic() + secs, [0] * conc, [rss_kb(pid)]

    def worker(i):
        s = requests.Session()
        while time.monotonic() < stop:
            s.get(url, timeout=30)
            done[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(conc)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        peak.append(rss_kb(pid))
        time.sleep(0.05)
    return max(peak), sum(done) / secs


rows = []
print(f"{'component':<20} {'wasm KB':>8} {'healthz p50':>12} {'p99':>8} {'native p50':>11} {'overhead':>9} "
      f"{'RSS idle MB':>12} {'RSS load MB':>12} {'req/s':>6} {'KB/instance':>12}")
for comp, pid, port, dapr_port, wasm in specs:
    size = os.path.getsize(wasm)
    wasm_ms, native_ms = timed([f"http://127.0.0.1:{port}/healthz", f"http://127.0.0.1:{dapr_port}/v1.0/healthz"], reqs)
    time.sleep(1)
    idle = rss_kb(pid)
    peak, rps = load(f"http://127.0.0.1:{port}/readyz", pid)
    row = {"component": comp, "wasm_kb": round(size / 1024), "healthz_p50_ms": round(pct(wasm_ms, 50), 2),
           "healthz_p99_ms": round(pct(wasm_ms, 99), 2), "native_p50_ms": round(pct(native_ms, 50), 2),
           "overhead_p50_ms": round(pct(wasm_ms, 50) - pct(native_ms, 50), 2), "rss_idle_mb": round(idle / 1024, 1),
           "rss_load_mb": round(peak / 1024, 1), "load_rps": round(rps), "concurrency": conc,
           "rss_per_instance_kb": round(max(peak - idle, 0) / conc)}
    rows.append(row)
    print(f"{comp:<20} {row['wasm_kb']:>8} {row['healthz_p50_ms']:>9.2f} ms {row['healthz_p99_ms']:>5.2f} ms "
          f"{row['native_p50_ms']:>8.2f} ms {row['overhead_p50_ms']:>6.2f} ms {row['rss_idle_mb']:>12} "
          f"{row['rss_load_mb']:>12} {row['load_rps']:>6} {row['rss_per_instance_kb']:>12}", flush=True)
summary = {
    "request_overhead_p50_ms": round(statistics.median(r["overhead_p50_ms"] for r in rows), 2),
    "native_p50_ms": round(statistics.median(r["native_p50_ms"] for r in rows), 2),
    "task_api_wasm_kb": next(r["wasm_kb"] for r in rows if r["component"] == "task-api"),
    "largest_wasm_kb": max(r["wasm_kb"] for r in rows),
    "rss_idle_mb_max": max(r["rss_idle_mb"] for r in rows),
    "rss_load_mb_max": max(r["rss_load_mb"] for r in rows),
    "rss_per_instance_kb": round(statistics.median(r["rss_per_instance_kb"] for r in rows)),
}
if out:
    with open(os.path.join(out, "components.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    json.dump({"components": rows, **summary}, open(os.path.join(out, "components-summary.json"), "w"), indent=1)
print(" ".join(f"{k}={v}" for k, v in summary.items()))
PYEOF
