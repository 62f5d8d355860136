"""A real daprd sidecar for a test app id, with resources rendered from tests/platform/resources."""

from __future__ import annotations

import json
import os
import shutil
import signal
import string
import subprocess
import tempfile
from pathlib import Path

import requests

from .stack import ENV, KAFKA_BROKERS, SCHEDULER, STACK_DIR, TOOLS, free_port, wait_until

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


class Sidecar:
    def __init__(self, app_id: str, app_port: int, extra_resources: dict[str, str] | None = None,
                 subscriptions: bool = True):
        self.app_id = app_id
        self.app_port = app_port
        self.http_port = free_port()
        self.grpc_port = free_port()
        self.internal_port = free_port()
        self.metrics_port = free_port()
        # Outside the stack dir, so stopping the stack never mistakes it for one of its processes.
        self.dir = Path(tempfile.mkdtemp(prefix=f"daprd-{app_id}-"))
        self.resources = self.dir / "resources"
        self.resources.mkdir()
        values = {
            "APP_ID": app_id, "KAFKA_BROKERS": KAFKA_BROKERS, "PG_PORT": ENV["PG_PORT"],
            "STACK_DIR": str(STACK_DIR), "RESOURCES_DIR": str(self.resources),
        }
        for f in RESOURCES.iterdir():
            if f.name == "subscriptions.yaml" and not subscriptions:
                continue
            text = string.Template(f.read_text()).safe_substitute(values)
            (self.resources / f.name).write_text(text)
        # The database connection comes from the stack's own rendered secrets (runtime-config/local).
        secrets = json.loads((self.resources / "secrets.json").read_text())
        secrets.update(json.loads((STACK_DIR / "secrets" / "secrets.json").read_text()))
        (self.resources / "secrets.json").write_text(json.dumps(secrets))
        for name, text in (extra_resources or {}).items():
            (self.resources / name).write_text(string.Template(text).safe_substitute(values))
        self.log = self.dir / "daprd.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, wait: bool = True) -> "Sidecar":
        cmd = [
            str(TOOLS / "bin/daprd"), "--app-id", self.app_id, "--app-port", str(self.app_port),
            "--app-protocol", "http", "--app-channel-address", "127.0.0.1",
            "--dapr-listen-addresses", "127.0.0.1", "--dapr-http-port", str(self.http_port),
            "--dapr-grpc-port", str(self.grpc_port), "--dapr-internal-grpc-port", str(self.internal_port),
            "--metrics-port", str(self.metrics_port), "--resources-path", str(self.resources),
            "--scheduler-host-address", SCHEDULER, "--placement-host-address", "", "--log-level", "debug",
        ]
        self.proc = subprocess.Popen(cmd, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60):
        def ready():
            if self.proc and self.proc.poll() is not None:
                raise AssertionError(f"daprd exited: {self.tail()}")
            return requests.get(f"{self.url}/v1.0/healthz", timeout=1).status_code == 204
        wait_until(f"daprd {self.app_id} healthy", ready, timeout)

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()

    def tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
