"""Plots of one scripts/bench.sh run: reads the raw results it wrote and draws PNGs.

    python scripts/bench-plots.py <results dir> <output dir>

Reads api-steps.csv, api-summary.json, events-latency.csv, sync-latency.csv, sync.json and run.json
(the machine, versions and load average of the run); writes api-latency.png (latency over offered
load), api-throughput.png (achieved throughput against the pgbench single-row insert ceiling and
the seed's 1000 ops/s), event-latency.png (distribution of commit -> consumer processed) and
sync-latency.png (change -> visible on every connected dashboard page). A missing input is an
error.
"""

import csv
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

KINDS = {"create": "POST /api/tasks", "complete": "POST /api/tasks/{id}/complete", "list": "GET /api/tasks (50/page)"}
CONSUMERS = {
    "published": "published to Kafka (task-api)",
    "dashboard": "dashboard recorded",
    "engine": "recurrence engine processed (completions)",
    "notification": "notification cancelled reminder (completions)",
}


def caption(run: dict) -> str:
    """One line naming the machine, load and date of the run, for every plot."""
    m = run["machine"]
    loads = [b[k] for b in run["benches"] for k in ("load_before", "load_after")]
    load = f"load avg {min(loads):.0f}-{max(loads):.0f}" if loads else "load avg unknown"
    return f"{m['nproc']} cores, {m['mem_gib']} GiB, {m['os']}; {load}; {run['date'][:10]} ({run['mode']} run)"


def api_rows(results: Path) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    with open(results / "api-steps.csv", newline="") as f:
        for r in csv.DictReader(f):
            rows.setdefault(r["kind"], []).append({k: float(v) for k, v in r.items() if k != "kind"})
    return rows


def save(fig, run: dict, path: Path, top: float = 1) -> None:
    """Captions a figure with the run's machine and date, writes it as PNG and closes it."""
    fig.text(0.5, 0.01, caption(run), ha="center", fontsize=7)
    fig.tight_layout(rect=(0, 0.04, 1, top))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_latency(rows: dict, run: dict, out: Path) -> None:
    fig, axes = plt.subplots(1, len(rows), figsize=(5 * len(rows), 4), squeeze=False)
    for ax, (kind, steps) in zip(axes[0], rows.items()):
        x = [s["target_per_s"] for s in steps]
        for p, style in (("p50", "o-"), ("p95", "s-"), ("p99", "^-")):
            ax.plot(x, [s[f"{p}_ms"] for s in steps], style, label=p)
        for s in steps:
            if s["error_pct"] > 0:
                ax.annotate(f"{s['error_pct']:.0f}% err", (s["target_per_s"], s["p99_ms"]), fontsize=7,
                            textcoords="offset points", xytext=(0, 6), ha="center", color="red")
        ax.axhline(500, color="grey", ls="--", lw=0.8, label="SC-003 p95 bound (500 ms)")
        ax.set_yscale("log")
        ax.set_xlabel("offered load (requests/s)")
        ax.set_ylabel("latency (ms)")
        ax.set_title(KINDS.get(kind, kind), fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle("Task API latency over offered load (vegeta, open loop)")
    save(fig, run, out / "api-latency.png", top=0.95)


def plot_throughput(rows: dict, summary: dict, run: dict, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for kind, steps in rows.items():
        ax.plot([s["target_per_s"] for s in steps], [s["achieved_per_s"] for s in steps], "o-", label=KINDS.get(kind, kind))
    top = max(s["target_per_s"] for steps in rows.values() for s in steps)
    ax.plot([0, top], [0, top], color="lightgrey", lw=0.8, label="achieved = offered")
    ax.axhline(summary["pgbench_tps"], color="tab:red", ls="--", label=f"pgbench single-row inserts: {summary['pgbench_tps']:.0f} tps")
    ax.axhline(1000, color="grey", ls=":", label="SC-003: 1000 ops/s")
    ax.set_yscale("log")
    ax.set_xlabel("offered load (requests/s)")
    ax.set_ylabel("achieved successful requests/s")
    ax.set_title("Task API throughput against the pgbench ceiling (same run)")
    ax.legend(fontsize=7, loc="center right")
    save(fig, run, out / "api-throughput.png")


def plot_events(results: Path, run: dict, out: Path) -> None:
    lat: dict[str, list[float]] = {}
    with open(results / "events-latency.csv", newline="") as f:
        for r in csv.DictReader(f):
            lat.setdefault(r["consumer"], []).append(float(r["ms"]))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for c, xs in lat.items():
        xs.sort()
        ax.plot(xs, [(i + 1) / len(xs) for i in range(len(xs))], label=f"{CONSUMERS.get(c, c)} (n={len(xs)})")
    ax.axvline(1000, color="grey", ls="--", label="SC-002: 1 s")
    ax.set_xscale("log")
    ax.set_xlabel("commit -> processed (ms)")
    ax.set_ylabel("fraction of events")
    ax.set_title("Event latency: commit -> each consumer (cumulative)")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    save(fig, run, out / "event-latency.png")


def plot_sync(results: Path, run: dict, out: Path) -> None:
    with open(results / "sync-latency.csv", newline="") as f:
        xs = sorted(float(r["ms"]) for r in csv.DictReader(f))
    figures = json.loads((results / "sync.json").read_text())
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(xs, [(i + 1) / len(xs) for i in range(len(xs))],
            label=f"{len(xs)} deliveries to {figures['connected']} connected pages")
    ax.axvline(1000, color="grey", ls="--", label="goal p95: 1 s")
    ax.axvline(2000, color="grey", ls=":", label="goal p99: 2 s")
    ax.set_xscale("log")
    ax.set_xlabel("change sent to the Task API -> visible on the page (ms)")
    ax.set_ylabel("fraction of deliveries")
    ax.set_title(f"Live sync with {figures['clients']} pages: {figures['kb_per_connection']} KB per connection, "
                 f"DB {figures['idle_db_tps_n']} tx/s idle", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    save(fig, run, out / "sync-latency.png")


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    results, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    run = json.loads((results / "run.json").read_text())
    rows = api_rows(results)
    plot_latency(rows, run, out)
    plot_throughput(rows, json.loads((results / "api-summary.json").read_text()), run, out)
    plot_events(results, run, out)
    plot_sync(results, run, out)
    for name in ("api-latency.png", "api-throughput.png", "event-latency.png", "sync-latency.png"):
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
