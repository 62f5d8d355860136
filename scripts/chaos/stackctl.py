"""The stack under test: its ports, its database (as the PostgreSQL superuser, so a rotated
application password never locks the checks out), and kill -9 / restart of one process through
scripts/stack.sh."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import tomllib
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
STACK = os.environ.get("STACK", "test")
STACK_DIR = Path(os.environ["STACK_DIR"])
PG_PORT = int(os.environ["PG_PORT"])
APP_PORT_BASE = int(os.environ["APP_PORT_BASE"])
DAPR_HTTP_BASE = int(os.environ["DAPR_HTTP_BASE"])
MAILPIT = f"http://127.0.0.1:{os.environ['MAILPIT_HTTP_PORT']}"
MQTT_PORT = int(os.environ["MQTT_PORT"])
KAFKA_BROKERS = os.environ["KAFKA_BROKERS"]
SCHEDULER_HEALTH = f"http://127.0.0.1:{os.environ['SCHEDULER_HEALTH_PORT']}/healthz"
PG_BIN = "/usr/lib/postgresql/15/bin"

# App id -> (component process, index of its ports), as scripts/lib/stack.sh.
APPS = {
    "task-api": ("task-api", 0),
    "recurrence-engine": ("recurrence-engine", 1),
    "notification": ("reminder-dispatcher", 2),
    "chat": ("chat", 3),
    "dashboard": ("dashboard", 4),
}
# Each app's route base: its component's ROUTE_PREFIX in spin.toml.
_MANIFEST = tomllib.loads((ROOT / "spin.toml").read_text())["component"]
ROUTE_PREFIX = {app: _MANIFEST[comp].get("environment", {}).get("ROUTE_PREFIX", "") for app, (comp, _) in APPS.items()}
TASK_API = f"http://127.0.0.1:{APP_PORT_BASE}"


def say(msg: str) -> None:
    """One progress line with the wall-clock time."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def app_url(app: str) -> str:
    """The app's base URL: its port and its route base (as scripts/lib/stack.sh app_url)."""
    port = 3000 + APP_PORT_BASE - 8000 if app == "dashboard" else APP_PORT_BASE + APPS[app][1]
    return f"http://127.0.0.1:{port}{ROUTE_PREFIX[app]}"


def dapr_url(app: str) -> str:
    return f"http://127.0.0.1:{DAPR_HTTP_BASE + APPS[app][1]}"


def psql(sql: str, db: str = "todo") -> list[list[str]]:
    """Runs SQL as the superuser over loopback; rows of text columns."""
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1",
         "-AtF", "\t", "-c", sql],
        check=True, capture_output=True, text=True, timeout=60).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def stack(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "scripts/stack.sh"), STACK, *args], capture_output=True, text=True,
                          timeout=timeout)


def pid_of(proc: str) -> int | None:
    try:
        return int((STACK_DIR / "run" / f"{proc}.pid").read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def gone(pid: int) -> bool:
    """Exited (a zombie not yet reaped by its new parent counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def kill9(proc: str) -> int:
    """SIGKILLs one process of the stack (with its children: `spin up` serves from a child process)
    and waits until it is gone; answers its pid."""
    pid = pid_of(proc)
    if pid is None or gone(pid):
        raise RuntimeError(f"{proc} is not running")
    if proc == "postgres":
        os.kill(pid, signal.SIGKILL)
    else:
        os.killpg(pid, signal.SIGKILL)  # every other process leads its own session (setsid)
    deadline = time.monotonic() + 30
    while not gone(pid):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{proc} ({pid}) still alive 30 s after SIGKILL")
        time.sleep(0.05)
    if proc == "postgres":
        # The postmaster's backends exit on their own once it is gone; pg_ctl must see no server.
        while subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D",
                              str(STACK_DIR / "postgres"), "status"] if os.geteuid() == 0 else
                             [f"{PG_BIN}/pg_ctl", "-D", str(STACK_DIR / "postgres"), "status"],
                             capture_output=True).returncode == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("pg_ctl still reports a server after SIGKILL of the postmaster")
            time.sleep(0.1)
    (STACK_DIR / "run" / f"{proc}.pid").unlink(missing_ok=True)
    return pid


def alive(proc: str) -> bool:
    pid = pid_of(proc)
    return pid is not None and not gone(pid)


def start(proc: str) -> None:
    r = stack("start", proc)
    if r.returncode != 0:
        raise RuntimeError(f"scripts/stack.sh {STACK} start {proc} failed: {r.stderr[-800:]}")


def healthy(proc: str) -> bool:
    """The health check of scripts/lib/stack.sh for one process."""
    try:
        if proc == "postgres":
            return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(PG_PORT)]).returncode == 0
        if proc == "kafka":
            import socket
            with socket.socket() as s:
                s.settimeout(0.5)
                return s.connect_ex(("127.0.0.1", int(KAFKA_BROKERS.rsplit(":", 1)[1]))) == 0
        if proc == "scheduler":
            return requests.get(SCHEDULER_HEALTH, timeout=2).ok
        if proc.startswith("daprd-"):
            return requests.get(f"{dapr_url(proc[6:])}/v1.0/healthz", timeout=2).ok
        for app, (comp, _) in APPS.items():
            if comp == proc:
                return requests.get(f"{app_url(app)}/healthz", timeout=2).ok
    except (requests.RequestException, OSError):
        return False
    raise ValueError(proc)


def all_processes() -> list[str]:
    return ["postgres", "kafka", "scheduler"] + [f"daprd-{a}" for a in APPS] + [c for c, _ in APPS.values()]


def wait_all_healthy(timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    for p in all_processes():
        while not healthy(p):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{p} not healthy after {timeout}s")
            time.sleep(0.5)
