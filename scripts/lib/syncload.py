"""Load client of scripts/bench-sync.sh: N dashboard connections to the live-sync server
(Centrifugo's JSON protocol over WebSocket, as the page speaks it), spread over users (several
open pages per user), each subscribed to its user's channel. Measures, in one run: the database's
transaction rate (the whole stack's) and the reads of the tables a waiting page used to poll
(change log, cursors, slots) while the stack idles without clients and with all of them connected, the
server's memory per connection, then change -> visible on every open page of a sample of users
(a task created through the Task API at a steady rate; latency from sending the request to each
page receiving the change). Prints progress, then one JSON object of figures on the last line.
Imported with PYTHONPATH=scripts/lib; arguments from the environment (see bench-sync.sh)."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from websockets.asyncio.client import connect

from benchclient import psql
from deliveries import token

CHANNEL_PREFIX = "changes:\x1f"


def rss_kb(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def transactions(dsn: str) -> int:
    return int(psql(dsn, "select xact_commit + xact_rollback from pg_stat_database "
                         "where datname = current_database()")[0][0])


# The tables a waiting page read before live sync (the long poll's cursor, log and slots).
PAGE_TABLES = ("dashboard_cursors", "dashboard_changes", "live_poll_slots")


def page_table_reads(dsn: str) -> int:
    """Scans (sequential and index) of the tables waiting pages would read."""
    names = ", ".join(f"'{t}'" for t in PAGE_TABLES)
    return int(psql(dsn, "select coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0) "
                         f"from pg_stat_user_tables where relname in ({names})")[0][0])


def say(msg: str) -> None:
    print(f"[syncload] {msg}", flush=True)


class Page:
    """One open dashboard page: a connection subscribed to its user's channel."""

    def __init__(self, user: str, tok: str):
        self.user, self.token = user, tok
        self.ready = asyncio.Event()
        self.failed: str | None = None
        self.ws = None

    async def run(self, url: str, seen: dict[str, list[float]], gate: asyncio.Semaphore) -> None:
        try:
            async with gate:
                self.ws = await connect(url, open_timeout=60, ping_interval=None, close_timeout=2,
                                        max_size=2**16, compression=None)
                # Connect and subscribe in one frame, as newline-separated commands.
                await self.ws.send(json.dumps({"id": 1, "connect": {"token": self.token, "name": "bench"}}) + "\n"
                                   + json.dumps({"id": 2, "subscribe": {"channel": CHANNEL_PREFIX + self.user}}))
            async for frame in self.ws:
                now = time.perf_counter()
                for line in str(frame).splitlines():
                    if not line.strip():
                        continue
                    msg = json.loads(line)
                    if not msg:
                        await self.ws.send("{}")  # ping -> pong
                    elif "error" in msg:
                        self.failed = json.dumps(msg["error"])
                        self.ready.set()
                        return
                    elif msg.get("id") == 2:
                        self.ready.set()
                    elif "push" in msg and "pub" in msg["push"]:
                        task = msg["push"]["pub"].get("data", {}).get("task_id")
                        if task:
                            seen.setdefault(task, []).append(now)
        except Exception as e:  # counted as a failed page
            self.failed = f"{type(e).__name__}: {e}"
            self.ready.set()


async def main() -> dict:
    env = os.environ
    n, users_n = int(env["CLIENTS"]), int(env["USERS"])
    sample, rate, idle_s = int(env["SAMPLE"]), float(env["RATE"]), float(env["IDLE_S"])
    url, api, dsn = env["LIVE_URL"], env["TASK_API"], env["PG_DSN"]
    server = int(env["CENTRIFUGO_PID"])
    users = [f"{env['RUN_ID']}-u{i}" for i in range(users_n)]
    tokens = {u: token(env["SECRETS_FILE"], u) for u in users}

    say(f"idle {idle_s:.0f} s without clients (database transactions)")
    t0, x0, r0 = time.perf_counter(), transactions(dsn), page_table_reads(dsn)
    await asyncio.sleep(idle_s)
    idle_qps_0 = (transactions(dsn) - x0) / (time.perf_counter() - t0)
    page_reads_0 = (page_table_reads(dsn) - r0) / (time.perf_counter() - t0)
    rss0 = rss_kb(server)

    seen: dict[str, list[float]] = {}
    pages = [Page(users[i % users_n], tokens[users[i % users_n]]) for i in range(n)]
    gate = asyncio.Semaphore(200)
    say(f"connecting {n} pages of {users_n} users")
    c0 = time.perf_counter()
    tasks = [asyncio.create_task(p.run(url, seen, gate)) for p in pages]
    last = 0
    while True:
        done = sum(p.ready.is_set() for p in pages)
        if done >= n or time.perf_counter() - c0 > 300:
            break
        if done - last >= max(1, n // 10):
            say(f"  {done}/{n} subscribed ({time.perf_counter() - c0:.1f} s)")
            last = done
        await asyncio.sleep(0.2)
    connect_s = time.perf_counter() - c0
    failed = [p.failed for p in pages if p.failed or not p.ready.is_set()]
    connected = n - len(failed)
    say(f"{connected}/{n} subscribed in {connect_s:.1f} s" + (f"; first failure: {failed[0]}" if failed else ""))
    await asyncio.sleep(2)
    rss_n = rss_kb(server)

    say(f"idle {idle_s:.0f} s with {connected} pages connected (database transactions)")
    t0, x0, r0 = time.perf_counter(), transactions(dsn), page_table_reads(dsn)
    await asyncio.sleep(idle_s)
    idle_qps_n = (transactions(dsn) - x0) / (time.perf_counter() - t0)
    page_reads_n = (page_table_reads(dsn) - r0) / (time.perf_counter() - t0)

    per_user = {u: 0 for u in users}
    for p in pages:
        if not p.failed and p.ready.is_set():
            per_user[p.user] += 1
    sampled = users[:sample]
    say(f"changes: one task for each of {sample} users at {rate:.0f}/s; each reaches the user's "
        f"{n // users_n} pages")
    sent: dict[str, float] = {}
    pool = ThreadPoolExecutor(max_workers=16)
    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=16))
    loop = asyncio.get_running_loop()

    def create(u: str) -> tuple[str, float]:
        start = time.perf_counter()
        r = http.post(f"{api}/api/tasks", json={"title": f"sync fan-out {u}"},
                      headers={"authorization": f"Bearer {tokens[u]}"}, timeout=30)
        r.raise_for_status()
        return r.json()["task_id"], start

    futures = []
    start = time.perf_counter()
    for i, u in enumerate(sampled):
        # A steady rate: the i-th change starts i / rate seconds after the first.
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        futures.append((u, loop.run_in_executor(pool, create, u)))
    owner: dict[str, str] = {}
    for u, f in futures:
        task, start = await f
        sent[task], owner[task] = start, u
    expected = sum(per_user[owner[t]] for t in sent)
    deadline = time.perf_counter() + 20
    while time.perf_counter() < deadline and sum(len(seen.get(t, [])) for t in sent) < expected:
        await asyncio.sleep(0.1)
    lat = sorted((at - sent[t]) * 1000 for t in sent for at in seen.get(t, []))
    if env.get("RESULTS_DIR"):
        with open(os.path.join(env["RESULTS_DIR"], "sync-latency.csv"), "w") as f:
            f.write("ms\n" + "".join(f"{ms:.1f}\n" for ms in lat))
    received = len(lat)
    rss_end = rss_kb(server)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")

    return {
        "clients": n, "connected": connected, "users": users_n, "connect_s": round(connect_s, 1),
        "sample_users": sample, "deliveries_expected": expected, "deliveries": received,
        "missed": expected - received,
        "p50_ms": round(pct(0.50), 1), "p95_ms": round(pct(0.95), 1), "p99_ms": round(pct(0.99), 1),
        "max_ms": round(lat[-1], 1) if lat else float("nan"),
        "mean_ms": round(statistics.fmean(lat), 1) if lat else float("nan"),
        "server_rss_mb_idle": round(rss0 / 1024, 1), "server_rss_mb_connected": round(rss_n / 1024, 1),
        "server_rss_mb_end": round(rss_end / 1024, 1),
        "kb_per_connection": round((rss_n - rss0) / max(1, connected), 1),
        "client_rss_mb": round(rss_kb(os.getpid()) / 1024, 1),
        "idle_db_tps_0": round(idle_qps_0, 1), "idle_db_tps_n": round(idle_qps_n, 1),
        "page_reads_per_s_0": round(page_reads_0, 1), "page_reads_per_s_n": round(page_reads_n, 1),
    }


if __name__ == "__main__":
    figures = asyncio.run(main())
    print(json.dumps(figures), flush=True)
    sys.exit(0)
