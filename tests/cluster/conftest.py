"""Fixtures for the tests against the local single-node cluster (scripts/cluster.sh up), run by
`scripts/test.sh --cluster`. Everything goes through the cluster's own kubectl and admin
kubeconfig; each test namespace is deleted afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("CACHE", Path.home() / ".cache/todo-platform"))
STATE = Path(os.environ.get("TODO_CLUSTER_STATE", CACHE / "local-cluster"))
KUBECTL = str(ROOT / ".tools/cluster/bin/kubectl")
KUBECONFIG = str(STATE / "pki/admin.kubeconfig")
PROBE_IMAGE = "localhost/todo/busybox:debian"
# The node's containerd (its CRI namespace), for what kubectl cannot do: kill a task, read a spec.
CTR = [str(ROOT / ".tools/cluster/bin/ctr"), "--address", str(STATE / "containerd/containerd.sock"), "-n", "k8s.io"]


def kubectl(*args: str, stdin: str | None = None, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    p = subprocess.run([KUBECTL, "--kubeconfig", KUBECONFIG, *args], input=stdin, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {p.stderr.strip()}")
    return p


def kget(*args: str) -> dict:
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def apply(docs: list[dict]) -> None:
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(docs))


def probe_pod(namespace: str, name: str, labels: dict[str, str], command: list[str]) -> dict:
    """A pod of Debian's busybox (scripts/cluster-images.sh) running `command`."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "probe", "image": PROBE_IMAGE, "imagePullPolicy": "Never", "command": command}],
        },
    }


def wait_running(namespace: str, names: list[str], timeout: float = 90) -> dict[str, str]:
    """Waits until each pod runs; returns name → pod IP."""
    deadline = time.monotonic() + timeout
    while True:
        pods = {p["metadata"]["name"]: p for p in kget("pods", "-n", namespace)["items"]}
        ips = {n: pods[n]["status"].get("podIP") for n in names if n in pods and pods[n]["status"].get("phase") == "Running"}
        if len(ips) == len(names) and all(ips.values()):
            return ips
        if time.monotonic() > deadline:
            events = kubectl("get", "events", "-n", namespace, "--sort-by=.lastTimestamp", check=False).stdout
            raise AssertionError(f"pods {names} not running after {timeout} s:\n{events[-3000:]}")
        time.sleep(1)


def http_server(port: int) -> list[str]:
    """The command of a probe pod that answers `ok` over HTTP on port (busybox httpd)."""
    return ["/bin/busybox", "httpd", "-f", "-p", str(port), "-h", "/www"]


def reaches(namespace: str, pod: str, ip: str, port: int, seconds: int = 3) -> bool:
    """Whether `pod` gets the `ok` page of the probe server at ip:port (an HTTP/1.0 GET through
    busybox nc with a connect timeout; busybox wget crashes in this image)."""
    get = f'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w {seconds} {ip} {port}'
    p = kubectl("exec", "-n", namespace, pod, "--", "sh", "-c", get, check=False, timeout=30)
    return p.returncode == 0 and p.stdout.rstrip().endswith("\nok") and p.stdout.startswith("HTTP/1.1 200")


def create_namespace(name: str, timeout: float = 30) -> None:
    """Creates a namespace and waits for its `default` ServiceAccount (the controller-manager's)."""
    kubectl("create", "namespace", name)
    deadline = time.monotonic() + timeout
    while kubectl("get", "serviceaccount", "default", "-n", name, check=False).returncode != 0:
        assert time.monotonic() < deadline, f"no default ServiceAccount in {name} after {timeout} s"
        time.sleep(0.5)


@pytest.fixture(scope="session", autouse=True)
def cluster_up():
    if not Path(KUBECONFIG).is_file():
        pytest.fail("no local cluster: scripts/cluster.sh up")
    kubectl("get", "--raw", "/readyz")


@pytest.fixture()
def namespace():
    name = f"cluster-test-{uuid.uuid4().hex[:8]}"
    create_namespace(name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)
