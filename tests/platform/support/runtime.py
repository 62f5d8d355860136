"""Starts one real component outside the stack, on the runtime the stack uses (`RUNTIME`: Spin by
default, `wasmtime serve` as the fallback), for tests that need it beside a dead, silent or
foreign sidecar."""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import tomllib
from contextlib import contextmanager
from typing import Iterator

import requests

from .stack import ROOT, TOOLS, free_port, wait_until

MANIFEST = tomllib.loads((ROOT / "spin.toml").read_text())
RUNTIME = os.environ.get("RUNTIME", "spin")


def route_prefix(component: str) -> str:
    """The component's route base (its ROUTE_PREFIX in spin.toml; empty for the Task API)."""
    return MANIFEST["component"][component].get("environment", {}).get("ROUTE_PREFIX", "")


def wasm(component: str):
    return ROOT / MANIFEST["component"][component]["source"]


def command(component: str, port: int, dapr_url: str, env: dict[str, str], manifest=None,
            variables: dict[str, str] | None = None) -> list[str]:
    """The command line that serves `component` on `port` with its sidecar at `dapr_url` (Spin:
    `manifest` instead of the root spin.toml, a path or a registry reference, and more
    application `variables`)."""
    if RUNTIME == "spin" or manifest is not None:
        state = tempfile.mkdtemp(prefix=f"spin-{component}-")
        args = [str(TOOLS / "bin/spin"), "up", "--from", str(manifest or ROOT / "spin.toml"), "--component-id", component,
                "--listen", f"127.0.0.1:{port}", "--variable", f"dapr_url={dapr_url}", "--state-dir", state,
                "--log-dir", ""]
        if isinstance(manifest, str) and not manifest.startswith(("/", ".")):
            args.append("--insecure")  # a registry reference: the local registry speaks plain HTTP
        for key, value in (variables or {}).items():
            args += ["--variable", f"{key}={value}"]
        for key, value in env.items():
            args += ["--env", f"{key}={value}"]
        return args
    # The copy whose wasi:config import wasmtime links (scripts/lib/stack.sh wasmtime_wasm).
    served = subprocess.run(["bash", "-c", 'source scripts/lib/common.sh && source scripts/lib/stack.sh && wasmtime_wasm "$0"',
                             component], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    merged = {**MANIFEST["component"][component].get("environment", {}), **env}
    args = [str(TOOLS / "bin/wasmtime"), "serve", "-S", "cli", "-S", "config", "-S", f"config-var=dapr_url={dapr_url}"]
    for key, value in merged.items():
        args += ["--env", f"{key}={value}"]
    return args + ["--addr", f"127.0.0.1:{port}", served]


@contextmanager
def serve(component: str, dapr_url: str, env: dict[str, str] | None = None, manifest=None,
          variables: dict[str, str] | None = None, stderr=subprocess.DEVNULL) -> Iterator[tuple[subprocess.Popen, str]]:
    """The real `component` serving on a free port, talking to the sidecar at `dapr_url`; yields the
    process and the component's base URL (port and route base). Stopped on exit."""
    assert wasm(component).exists(), "build the components first (scripts/build-components.sh)"
    port = free_port()
    proc = subprocess.Popen(command(component, port, dapr_url, env or {}, manifest, variables), stdout=subprocess.DEVNULL,
                            stderr=stderr, start_new_session=True)
    url = f"http://127.0.0.1:{port}{route_prefix(component)}"
    try:
        wait_until(f"{component} on {'spin' if manifest else RUNTIME}", lambda: requests.get(f"{url}/healthz", timeout=2).status_code == 200,
                   timeout=60)
        yield proc, url
    finally:
        stop(proc)


def stop(proc: subprocess.Popen, grace: float = 10) -> None:
    """Stops a process and, when it leads its own process group (started with
    start_new_session), the whole group: `spin up` serves from a child process (`spin trigger
    http`) that outlives a signal to the parent alone."""
    def signal_all(sig: int) -> None:
        try:
            if os.getpgid(proc.pid) == proc.pid:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except ProcessLookupError:
            pass
    signal_all(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        signal_all(signal.SIGKILL)
        proc.wait(grace)
