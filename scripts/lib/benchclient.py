"""What the benchmark scripts' embedded Python clients share: one HTTP session per thread and
psql queries answering rows of text columns. Imported with PYTHONPATH=scripts/lib."""

from __future__ import annotations

import subprocess
import threading

import requests

_local = threading.local()


def client() -> requests.Session:
    """This thread's HTTP session (connections are kept alive per thread)."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def psql(dsn: str, sql: str) -> list[list[str]]:
    """Runs `sql` against `dsn`; rows of tab-separated text columns."""
    out = subprocess.run(["psql", dsn, "-v", "ON_ERROR_STOP=1", "-AtF", "\t", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]
