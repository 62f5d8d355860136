#!/usr/bin/env bash
# Spin and `wasmtime serve` side by side: the same release .wasm of every component (wasmtime
# serves the copy of scripts/lib/stack.sh wasmtime_wasm, which renames the wasi:config import to
# the version wasmtime links; same code), each runtime in its own extra process per component
# (started here on free ports, stopped at the end; the stack's own processes are not touched),
# both talking to the component's real daprd of a running stack. Per component and runtime:
#   overhead     sequential GET of the trivial /healthz route (no I/O), interleaved request by
#                request between Spin, wasmtime and a native Go HTTP server on the same loopback
#                (the component's daprd, GET /v1.0/healthz) with the same Python client: the
#                runtime's p50 minus the native p50 (and p99 minus the native p99) is what hosting
#                the handler in the runtime costs per request (routing, instantiation, the handler)
#   req/s        `vegeta attack -rate=0` with CONCURRENCY workers for LOAD_SECONDS (closed loop,
#                keep-alive) on /healthz, with the CPU the runtime's processes used per request
#   memory       RSS summed over the runtime's process group (Spin: `spin up` and the
#                `spin trigger http` it serves from; wasmtime: one process) idle (after the
#                sequential requests), and its peak (sampled every 50 ms) while CONCURRENCY
#                workers keep GET /readyz in flight (each request's instance lives while it
#                calls its sidecar), with the increase per concurrent instance
#   daprd reuse  during each /readyz (and, for the Task API, create) burst: the TCP connections
#                to the component's daprd HTTP port opened during the burst, from /proc/net/tcp
#                sampled every 50 ms: each connection closed in the burst once, by its TIME_WAIT
#                entry (which stays 60 s, so one that lived between two samples is still seen;
#                its timer dates the close, and a port Linux reuses after 1 s in TIME_WAIT
#                counts again), plus those still open at the end that were not open before (by
#                socket inode); divided by the calls daprd served in the burst (the delta of its
#                dapr_http_server_request_count metric). Both counts are of everything talking to
#                that daprd, so they include the stack's own component's few background calls.
#                1.0 = a new connection per outbound call, near 0 = pooled. Also the most
#                connections the runtime's own sockets (by inode) held open at once.
# and for the Task API: POST /api/tasks (a real HS256 token per worker, minted with the local
# dev secret like scripts/dev-token.sh) at CONCURRENCY for LOAD_SECONDS: req/s, latency, CPU per
# request, RSS, daprd calls per create and connections per call.
# The order of the runtimes alternates from component to component, and every burst waits until
# the machine's CPUs are no more than half busy (at most LOAD_SECONDS), so neither runtime always
# runs after the other's backlog.
#   scripts/bench-components.sh                  against the test stack
#   STACK=dev REQUESTS=500 CONCURRENCY=32 LOAD_SECONDS=5 scripts/bench-components.sh
#   RESULTS_DIR=<dir>                            also writes components.csv and components-summary.json
# Last line: spin_overhead_p50_ms=.. wasmtime_overhead_p50_ms=.. (medians over components) ...
# spin_create_rps=.. wasmtime_create_rps=.. ... ratio_<figure>=<spin / wasmtime> ...
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"
STACK="${STACK:-test}"
REQUESTS="${REQUESTS:-500}"
CONCURRENCY="${CONCURRENCY:-32}"
LOAD_SECONDS="${LOAD_SECONDS:-5}"
RESULTS_DIR="${RESULTS_DIR:-}"
stack_env "$STACK"
ensure_vegeta
[ -x "$TOOLS/bin/spin" ] || die "spin is not installed: scripts/setup.sh spin"
[ -x "$TOOLS/bin/wasmtime" ] || die "wasmtime is not installed: scripts/setup.sh wasmtime"

specs=()
for app in "${APPS[@]}"; do
  comp="${APP_COMPONENT[$app]}"
  wasm="$(component_wasm "$comp")"
  [ -f "$wasm" ] || die "component $comp not built ($wasm); run scripts/build-components.sh"
  curl -fsS "http://127.0.0.1:$(dapr_http_port "$app")/v1.0/healthz" >/dev/null \
    || die "daprd-$app on :$(dapr_http_port "$app") is not healthy: start the stack first (scripts/stack.sh $STACK up)"
  specs+=("$app,$comp,$(dapr_http_port "$app"),$((DAPR_METRICS_BASE + APP_INDEX[$app])),$wasm,$(wasmtime_wasm "$comp")")
done
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-components.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
log "Spin $("$TOOLS/bin/spin" --version | awk '{print $2}') vs $("$TOOLS/bin/wasmtime" --version | awk '{print $1, $2}') serve: $REQUESTS sequential requests per component, then $CONCURRENCY workers for ${LOAD_SECONDS}s per burst (stack $STACK, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"

# The stack's component tunables (KEY=VALUE lines) reach both runtimes as --env, like start_component
# (ROOT and TOOLS are exported by common.sh).
COMPONENT_TUNABLES="$(component_tunables)" WORK="$WORK" VEGETA="$VEGETA" \
  SPIN_CACHE_DIR="$STACK_DIR/spin/cache" PORT_FROM=$((APP_PORT_BASE + 200)) \
  "$TOOLS/venv/bin/python" - "$REQUESTS" "$CONCURRENCY" "$LOAD_SECONDS" "$RESULTS_DIR" "${specs[@]}" <<'PYEOF'
import base64, csv, hashlib, hmac, json, os, signal, socket, statistics, subprocess, sys, time, tomllib
import requests

reqs, conc, secs, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
specs = [s.split(",") for s in sys.argv[5:]]
ROOT, TOOLS, WORK, VEGETA = (os.environ[k] for k in ("ROOT", "TOOLS", "WORK", "VEGETA"))
MANIFEST = tomllib.load(open(f"{ROOT}/spin.toml", "rb"))
TUNABLES = [kv for kv in os.environ.get("COMPONENT_TUNABLES", "").splitlines() if kv]
RUNTIMES = ("spin", "wasmtime")
HZ = os.sysconf("SC_CLK_TCK")
procs = []


def stop_all(*_):
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)
    procs.clear()


signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
signal.signal(signal.SIGINT, lambda *_: sys.exit(130))

# ---- processes ---------------------------------------------------------------------------------

next_port = [int(os.environ["PORT_FROM"])]


def free_port():
    """The next port from PORT_FROM that nothing listens on (below the ephemeral range, like the stack's)."""
    while True:
        port = next_port[0]
        next_port[0] += 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue


def start(runtime, app, comp, dapr_port, wasm):
    """The component on `runtime` on a free port, in its own session; returns (process, base url)."""
    port, dapr = free_port(), f"http://127.0.0.1:{dapr_port}"
    if runtime == "spin":
        state = f"{WORK}/spin-{comp}"
        os.makedirs(state, exist_ok=True)
        args = [f"{TOOLS}/bin/spin", "up", "--from", f"{ROOT}/spin.toml", "--component-id", comp,
                "--listen", f"127.0.0.1:{port}", "--variable", f"dapr_url={dapr}", "--state-dir", state,
                "--log-dir", "", "--cache-dir", os.environ["SPIN_CACHE_DIR"]]
        for kv in TUNABLES:
            args += ["--env", kv]
    else:
        env = {k: v for k, v in MANIFEST["component"][comp].get("environment", {}).items() if k != "APP_ID"}
        args = [f"{TOOLS}/bin/wasmtime", "serve", "-S", "cli", "-S", "config", "-S", f"config-var=dapr_url={dapr}",
                "--env", f"APP_ID={app}"]
        for kv in [f"{k}={v}" for k, v in env.items()] + TUNABLES:
            args += ["--env", kv]
        args += ["--addr", f"127.0.0.1:{port}", wasm]
    log = open(f"{WORK}/{runtime}-{comp}.log", "wb")
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    procs.append(p)
    p.started = time.monotonic()
    prefix = MANIFEST["component"][comp].get("environment", {}).get("ROUTE_PREFIX", "")
    return p, f"http://127.0.0.1:{port}{prefix}"


def wait_healthy(comp, running, timeout=180):
    """{runtime: seconds from the start of its process until its /healthz answered 200}, polling
    every runtime in turn every 50 ms."""
    ready = {}
    while len(ready) < len(running):
        for rt, (p, url) in running.items():
            if rt in ready:
                continue
            if p.poll() is not None:
                raise SystemExit(f"{comp} on {rt} exited ({p.returncode}): "
                                 + open(f"{WORK}/{rt}-{comp}.log", errors="replace").read()[-2000:])
            if time.monotonic() - p.started > timeout:
                raise SystemExit(f"{comp} on {rt} not healthy after {timeout}s")
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    ready[rt] = time.monotonic() - p.started
            except requests.RequestException:
                pass
        time.sleep(0.05)
    return ready


def group(pgid):
    """Pids of the process group (Spin: `spin up` and its `spin trigger http` child)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            raw = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        if int(raw[raw.rindex(")") + 2:].split()[2]) == pgid:
            pids.append(int(pid))
    return pids


def rss_kb(pids):
    total = 0
    for pid in pids:
        try:
            total += next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def cpu_s(pids):
    total = 0
    for pid in pids:
        try:
            raw = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        f = raw[raw.rindex(")") + 2:].split()
        total += int(f[11]) + int(f[12])
    return total / HZ


def settle():
    """Waits (at most LOAD_SECONDS, at least 2 s) until the machine's CPUs are at most half busy
    over 0.5 s."""
    limit = max(secs, 2.0)
    def snap():
        v = list(map(int, open("/proc/stat").readline().split()[1:]))
        return sum(v), v[3] + v[4]
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        a = snap()
        time.sleep(0.5)
        b = snap()
        if b[0] > a[0] and 1 - (b[1] - a[1]) / (b[0] - a[0]) <= 0.5:
            return

# ---- measurements ------------------------------------------------------------------------------


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))] if xs else float("nan")


def timed(urls, n):
    """Sequential GETs of each url in turn (interleaved, so all see the same machine load)."""
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


def tcp_to(port):
    """The TCP connections to 127.0.0.1:`port` (either end's entry in /proc/net/tcp, LISTEN left
    out): (ephemeral port, state, client-end socket inode or 0, time it entered TIME_WAIT or None)."""
    now, conns = time.monotonic(), []
    for line in open("/proc/net/tcp").readlines()[1:]:
        f = line.split()
        lport, rport, st = int(f[1].split(":")[1], 16), int(f[2].split(":")[1], 16), f[3]
        if st == "0A" or port not in (lport, rport):
            continue
        # TIME_WAIT lasts 60 s; its timer (clock ticks left) dates the close.
        tw = now - (60 - int(f[5].split(":")[1], 16) / HZ) if st == "06" else None
        conns.append((lport if rport == port else rport, st, int(f[9]) if rport == port else 0, tw))
    return conns


class Connections:
    """Counts the connections to a port opened while it samples. Ports are no identity: on
    loopback Linux reuses a port in TIME_WAIT for a new connection after a second
    (tcp_tw_reuse=2), so a connection that closed is counted by its close, each (port, start of its
    TIME_WAIT) once, and one still open at the end by its socket inode."""

    def __init__(self, port):
        self.port, self.t0 = port, time.monotonic()
        self.before = {inode for _, st, inode, _ in tcp_to(port) if inode and st != "06"}
        self.closed, self.alive = {}, set()

    def sample(self, own_inodes=None):
        """Samples; returns how many of the open connections belong to `own_inodes`."""
        entries = tcp_to(self.port)
        for eph, st, inode, tw in entries:
            if tw is not None and tw >= self.t0 - 0.1:
                # Two TIME_WAITs of one port start at least 1 s apart (reuse delay); one
                # connection's two entries (simultaneous close) or two samples agree within ticks.
                if all(abs(tw - t) > 0.5 for t in self.closed.get(eph, [])):
                    self.closed.setdefault(eph, []).append(tw)
        return sum(1 for _, st, inode, _ in entries if inode and st != "06" and own_inodes and inode in own_inodes)

    def opened(self):
        still = {inode for _, st, inode, _ in tcp_to(self.port) if inode and st != "06"}
        return sum(len(v) for v in self.closed.values()) + len(still - self.before)


def socket_inodes(pids):
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if link.startswith("socket:["):
                    inodes.add(int(link[8:-1]))
        except OSError:
            pass
    return inodes


def daprd_calls(metrics_port):
    """Requests daprd's HTTP API has served so far (its dapr_http_server_request_count)."""
    try:
        text = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    except requests.RequestException:
        return None
    return sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l.startswith("dapr_http_server_request_count{"))


def burst(name, targets, pids, dapr_port, metrics_port):
    """`conc` vegeta workers on `targets` (JSON lines) for `secs`, sampling the process group's RSS
    and the connections to its daprd every 50 ms."""
    settle()
    tfile, rfile = f"{WORK}/{name}.targets", f"{WORK}/{name}.bin"
    with open(tfile, "w") as f:
        f.writelines(json.dumps(t) + "\n" for t in targets)
    conns = Connections(dapr_port)
    calls0, cpu0, idle = daprd_calls(metrics_port), cpu_s(pids), rss_kb(pids)
    peak, most_open = idle, 0
    with open(rfile, "wb") as res:
        v = subprocess.Popen([VEGETA, "attack", f"-targets={tfile}", "-format=json", "-rate=0", f"-workers={conc}",
                              f"-max-workers={conc}", f"-duration={secs}s", "-timeout=30s"], stdout=res)
        while True:
            done = v.poll() is not None
            peak = max(peak, rss_kb(pids))
            most_open = max(most_open, conns.sample(socket_inodes(pids)))
            if done:
                break
            time.sleep(0.05)
    if v.returncode:
        raise SystemExit(f"vegeta failed on {name}")
    time.sleep(0.2)
    calls1, cpu1 = daprd_calls(metrics_port), cpu_s(pids)
    conns.sample()
    opened = conns.opened()
    rep = json.loads(subprocess.run([VEGETA, "report", "-type=json", rfile], check=True, capture_output=True).stdout)
    n = rep["requests"]
    calls = (calls1 - calls0) if calls0 is not None and calls1 is not None else float("nan")
    return {
        "requests": n, "rps": round(rep["throughput"]), "success": rep["success"],
        "p50_ms": round(rep["latencies"]["50th"] / 1e6, 2), "p99_ms": round(rep["latencies"]["99th"] / 1e6, 2),
        "cpu_us_per_req": round((cpu1 - cpu0) / max(n, 1) * 1e6),
        "rss_idle_mb": round(idle / 1024, 1), "rss_load_mb": round(peak / 1024, 1),
        "rss_per_instance_kb": round(max(peak - idle, 0) / conc),
        "daprd_calls": round(calls), "daprd_calls_per_req": round(calls / max(n, 1), 2),
        "daprd_conns": opened, "daprd_conns_per_call": round(opened / calls, 3) if calls and calls == calls else float("nan"),
        "daprd_conns_max_open": most_open, "errors": sorted(set(rep.get("errors") or []))[:3],
    }


SECRETS = json.load(open(f"{ROOT}/runtime-config/local/secrets.json"))


def token(user):
    """An HS256 token for `user` as scripts/dev-token.sh mints it."""
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64(json.dumps({"sub": user, "iat": now, "exp": now + 3600, "iss": os.environ.get("JWT_ISSUER") or "todo-platform",
                           "aud": os.environ.get("JWT_AUDIENCE") or "todo-api"}, separators=(",", ":")).encode())
    sig = b64(hmac.new(SECRETS["jwt-secret"].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"

# ---- the run -----------------------------------------------------------------------------------


rows, creates = [], {}
fmt = "{:<20} {:<8} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7} {:>8} {:>8} {:>7} {:>8} {:>6}"
print(fmt.format("component", "runtime", "wasm KB", "start s", "p50 ms", "p99 ms", "ovh p50", "ovh p99", "req/s",
                 "CPU us", "RSS idle", "RSS load", "KB/inst", "conn/call", "open"))
try:
    for idx, (app, comp, dapr_port, metrics_port, wasm, wasmtime_wasm) in enumerate(specs):
        dapr_port, metrics_port = int(dapr_port), int(metrics_port)
        order = RUNTIMES if idx % 2 == 0 else RUNTIMES[::-1]
        running = {rt: start(rt, app, comp, dapr_port, wasm if rt == "spin" else wasmtime_wasm) for rt in order}
        started = wait_healthy(comp, running)
        pids = {rt: group(running[rt][0].pid) for rt in order}
        native = f"http://127.0.0.1:{dapr_port}/v1.0/healthz"
        lat = dict(zip(list(order) + ["native"], timed([f"{running[rt][1]}/healthz" for rt in order] + [native], reqs)))
        time.sleep(1)
        for rt in order:
            url = running[rt][1]
            hz = burst(f"{rt}-{comp}-healthz", [{"method": "GET", "url": f"{url}/healthz"}], pids[rt], dapr_port, metrics_port)
            ready = burst(f"{rt}-{comp}-readyz", [{"method": "GET", "url": f"{url}/readyz"}], pids[rt], dapr_port, metrics_port)
            row = {"component": comp, "runtime": rt, "wasm_kb": round(os.path.getsize(wasm) / 1024),
                   "start_s": round(started[rt], 2), "processes": len(pids[rt]),
                   "healthz_p50_ms": round(pct(lat[rt], 50), 2), "healthz_p99_ms": round(pct(lat[rt], 99), 2),
                   "native_p50_ms": round(pct(lat["native"], 50), 2), "native_p99_ms": round(pct(lat["native"], 99), 2),
                   "overhead_p50_ms": round(pct(lat[rt], 50) - pct(lat["native"], 50), 2),
                   "overhead_p99_ms": round(pct(lat[rt], 99) - pct(lat["native"], 99), 2),
                   "healthz_rps": hz["rps"], "healthz_success": hz["success"], "healthz_cpu_us": hz["cpu_us_per_req"],
                   "rss_idle_mb": hz["rss_idle_mb"], "rss_load_mb": ready["rss_load_mb"],
                   "rss_per_instance_kb": ready["rss_per_instance_kb"], "readyz_rps": ready["rps"],
                   "readyz_success": ready["success"], "readyz_daprd_calls_per_req": ready["daprd_calls_per_req"],
                   "readyz_daprd_conns_per_call": ready["daprd_conns_per_call"],
                   "readyz_daprd_conns_max_open": ready["daprd_conns_max_open"], "concurrency": conc}
            for b in (hz, ready):
                if b["success"] < 0.99:
                    print(f"  warning: {comp} on {rt}: {100 * (1 - b['success']):.1f} % errors {b['errors']}", flush=True)
            rows.append(row)
            print(fmt.format(comp, rt, row["wasm_kb"], row["start_s"], row["healthz_p50_ms"], row["healthz_p99_ms"],
                             row["overhead_p50_ms"], row["overhead_p99_ms"], row["healthz_rps"], row["healthz_cpu_us"],
                             row["rss_idle_mb"], row["rss_load_mb"], row["rss_per_instance_kb"],
                             row["readyz_daprd_conns_per_call"], row["readyz_daprd_conns_max_open"]), flush=True)
        if comp == "task-api":
            body = base64.b64encode(json.dumps({"title": "component bench", "priority": "low",
                                                "due_date": "2030-01-01T09:00:00Z"}).encode()).decode()
            for rt in order:
                run = f"bench-{rt}-{int(time.time())}"
                targets = [{"method": "POST", "url": f"{running[rt][1]}/api/tasks", "body": body,
                            "header": {"Authorization": [f"Bearer {token(f'{run}-{i}')}"], "Content-Type": ["application/json"]}}
                           for i in range(conc)]
                creates[rt] = burst(f"{rt}-create", targets, pids[rt], dapr_port, metrics_port)
                if creates[rt]["success"] < 0.99:
                    print(f"  warning: creates on {rt}: {100 * (1 - creates[rt]['success']):.1f} % errors {creates[rt]['errors']}", flush=True)
        stop_all()
finally:
    stop_all()

print(f"\nPOST /api/tasks, {conc} workers for {secs:g} s (each create: {creates['spin']['daprd_calls_per_req']} daprd calls on Spin, "
      f"{creates['wasmtime']['daprd_calls_per_req']} on wasmtime)")
cfmt = "{:<9} {:>7} {:>6} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8} {:>8} {:>10} {:>6}"
print(cfmt.format("runtime", "creates", "req/s", "ok %", "p50 ms", "p99 ms", "CPU us", "RSS load", "KB/inst", "conns", "conns/call", "open"))
for rt in RUNTIMES:
    c = creates[rt]
    print(cfmt.format(rt, c["requests"], c["rps"], round(100 * c["success"], 1), c["p50_ms"], c["p99_ms"], c["cpu_us_per_req"],
                      c["rss_load_mb"], c["rss_per_instance_kb"], c["daprd_conns"], c["daprd_conns_per_call"], c["daprd_conns_max_open"]))


def med(rt, key):
    return round(statistics.median(r[key] for r in rows if r["runtime"] == rt), 2)


summary = {"concurrency": conc, "native_p50_ms": round(statistics.median(r["native_p50_ms"] for r in rows), 2)}
for rt in RUNTIMES:
    summary.update({
        f"{rt}_overhead_p50_ms": med(rt, "overhead_p50_ms"), f"{rt}_overhead_p99_ms": med(rt, "overhead_p99_ms"),
        f"{rt}_healthz_rps": round(med(rt, "healthz_rps")), f"{rt}_healthz_cpu_us": round(med(rt, "healthz_cpu_us")),
        f"{rt}_create_rps": creates[rt]["rps"], f"{rt}_create_p50_ms": creates[rt]["p50_ms"],
        f"{rt}_create_cpu_us": creates[rt]["cpu_us_per_req"],
        f"{rt}_rss_idle_mb": med(rt, "rss_idle_mb"), f"{rt}_rss_per_instance_kb": round(med(rt, "rss_per_instance_kb")),
        f"{rt}_daprd_conns_per_call": creates[rt]["daprd_conns_per_call"],
        f"{rt}_daprd_conns_max_open": creates[rt]["daprd_conns_max_open"],
    })


def ratio(key):
    s, w = summary[f"spin_{key}"], summary[f"wasmtime_{key}"]
    return round(s / w, 2) if isinstance(w, (int, float)) and w > 0 and s == s else "nan"


for key in ("overhead_p50_ms", "healthz_rps", "healthz_cpu_us", "create_rps", "create_cpu_us", "rss_idle_mb", "rss_per_instance_kb"):
    summary[f"ratio_{key.removesuffix('_ms').removesuffix('_mb').removesuffix('_kb').removesuffix('_us')}"] = ratio(key)
summary["task_api_wasm_kb"] = next(r["wasm_kb"] for r in rows if r["component"] == "task-api")
summary["largest_wasm_kb"] = max(r["wasm_kb"] for r in rows)

print("\nside by side (medians over the components; creates: the Task API)")
sfmt = "{:<34} {:>10} {:>10} {:>12}"
print(sfmt.format("figure", "spin", "wasmtime", "spin/wasmtime"))
for key in ("overhead_p50_ms", "overhead_p99_ms", "healthz_rps", "healthz_cpu_us", "create_rps", "create_p50_ms",
            "create_cpu_us", "rss_idle_mb", "rss_per_instance_kb", "daprd_conns_per_call", "daprd_conns_max_open"):
    print(sfmt.format(key, summary[f"spin_{key}"], summary[f"wasmtime_{key}"], ratio(key)))
if out:
    with open(os.path.join(out, "components.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    json.dump({"components": rows, "creates": creates, **summary}, open(os.path.join(out, "components-summary.json"), "w"), indent=1)
print(" ".join(f"{k}={v}" for k, v in summary.items()))
PYEOF
