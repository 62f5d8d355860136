"""The chart's SpinApps on the local cluster through SpinKube: spin-operator turns them into
Deployments with the RuntimeClass of the Spin shim (containerd runtime `spin-v2`, setup part
spinkube, scripts/cluster-spinkube.sh), the Dapr injector adds daprd, and the component runs from
the OCI artifact `spin registry push` put in the cluster's registry (127.0.0.1:14500).

This suite applies only the SpinApps (in a namespace of its own, without the Dapr components and
the CSI volume, readiness on `/healthz`) to look at the shim itself; the whole release with its
components, deployed as scripts/dev-up.sh --cluster does, is test_platform_on_cluster.py's."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
import tomllib
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import CTR, ROOT, STATE, apply, create_namespace, kget, kubectl, probe_pod, wait_running

REGISTRY = "127.0.0.1:14500"
SPIN = str(ROOT / ".tools/bin/spin")
HELM = str(ROOT / ".tools/bin/helm")
SHIM_HANDLER = "spin-v2"  # containerd's runtime for containerd-shim-spin-v2 (scripts/cluster.sh)


def spinkube_ready() -> str | None:
    """Why SpinKube cannot run here, or None."""
    config = STATE / "containerd/config.toml"
    if not config.is_file() or f"runtimes.{SHIM_HANDLER}]" not in config.read_text():
        return "containerd has no Spin shim runtime (scripts/setup.sh spinkube, then scripts/cluster.sh down/up)"
    if kubectl("get", "deploy", "spin-operator-controller-manager", "-n", "spin-operator", check=False).returncode != 0:
        return "no spin-operator: scripts/cluster-spinkube.sh"
    if kubectl("get", "deploy", "dapr-sidecar-injector", "-n", "dapr-system", check=False).returncode != 0:
        return "no Dapr control plane: scripts/cluster-dapr.sh"
    return None


@pytest.fixture(scope="module")
def app_image() -> str:
    """The application pushed to the cluster's registry (tag: hash of the components)."""
    why = spinkube_ready()
    if why:
        pytest.skip(why)
    manifest = tomllib.loads((ROOT / "spin.toml").read_text())
    sources = [ROOT / c["source"] for c in manifest["component"].values()]
    missing = [str(s.relative_to(ROOT)) for s in sources if not s.is_file()]
    if missing:
        pytest.skip(f"components not built: {missing} (spin build)")
    digest = hashlib.sha256()
    for s in sorted(sources):
        digest.update(s.read_bytes())
    ref = f"{REGISTRY}/todo-platform:{digest.hexdigest()[:12]}"
    p = subprocess.run([SPIN, "registry", "push", "--insecure", "--from", str(ROOT / "spin.toml"), ref],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"spin registry push {ref}: {p.stderr[-2000:]}"
    return ref


def test_a_linux_container_under_the_spin_shim_gets_its_spec_environment(namespace):
    """A native container in a pod of the Spin shim's RuntimeClass (as daprd is in every SpinApp
    pod) runs with its spec's environment, not the shim's: containerd-shim-wasm 1.0.0 skips it for
    every container; the shim here carries the fix (scripts/setup/patches/)."""
    why = spinkube_ready()
    if why:
        pytest.skip(why)
    runtime_class = yaml.safe_load((ROOT / "k8s/cluster/spinapp-executor.yaml").read_text())["spec"]["deploymentConfig"]["runtimeClassName"]
    assert kget("runtimeclass", runtime_class)["handler"] == SHIM_HANDLER
    pod = probe_pod(namespace, "env", {"role": "env"}, ["/bin/busybox", "sh", "-c", "env; sleep 3600"])
    pod["spec"]["runtimeClassName"] = runtime_class
    pod["spec"]["containers"][0]["env"] = [{"name": "ONE", "value": "plain"}, {"name": "DAPR_TRUST_ANCHORS", "value": "line 1\nline 2"}]
    apply([pod])
    wait_running(namespace, ["env"])
    deadline = time.monotonic() + 30
    while "ONE=" not in (out := kubectl("logs", "-n", namespace, "env", check=False).stdout) and time.monotonic() < deadline:
        time.sleep(1)
    env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line and not line.startswith("line"))
    assert env.get("ONE") == "plain", out
    assert "line 1\nline 2" in out, out
    # Nothing of the shim's own environment leaks in (containerd's variables, e.g. GRPC_ADDRESS).
    assert not {"GRPC_ADDRESS", "TTRPC_ADDRESS", "NAMESPACE", "MAX_SHIM_VERSION"} & env.keys(), sorted(env)


def chart_objects(namespace: str, image: str) -> list[dict]:
    """The chart (local values) rendered for this cluster: its SpinApps, ServiceAccounts and Dapr
    Configuration, without the CSI volume; the executor in the namespace (as
    k8s/cluster/spinapp-executor.yaml) and the app-token Secret the deploy workflow creates."""
    repo, tag = image.rsplit(":", 1)
    out = subprocess.run([HELM, "template", "todo", str(ROOT / "k8s/chart"), "-f", str(ROOT / "k8s/chart/values-local.yaml"),
                          "--namespace", namespace, "--kube-version", "1.34.4", "--set", f"image.repository={repo}", "--set-string", f"image.tag={tag}"],
                         check=True, capture_output=True, text=True).stdout
    docs = []
    for doc in yaml.safe_load_all(out):
        if not doc or doc["kind"] not in ("SpinApp", "ServiceAccount", "Configuration"):
            continue
        doc["metadata"]["namespace"] = namespace
        if doc["kind"] == "SpinApp":
            spec = doc["spec"]
            spec.pop("volumes", None)
            spec.pop("volumeMounts", None)
            spec["checks"]["readiness"]["httpGet"]["path"] = spec["checks"]["liveness"]["httpGet"]["path"]
            spec.pop("enableAutoscaling", None)
            spec["replicas"] = 1
        docs.append(doc)
    executor = yaml.safe_load((ROOT / "k8s/cluster/spinapp-executor.yaml").read_text())
    executor["metadata"]["namespace"] = namespace
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "app-api-token", "namespace": namespace},
              "stringData": {"token": "cluster-test-token"}}  # pragma: allowlist secret
    return [executor, secret, *docs]


def pods_ready(namespace: str, app: str) -> dict | None:
    """The app's pod when every container of it is ready, else None."""
    for pod in kget("pods", "-n", namespace, "-l", f"core.spinkube.dev/app-name={app}")["items"]:
        statuses = pod["status"].get("containerStatuses", [])
        if statuses and all(s.get("ready") for s in statuses) and not pod["metadata"].get("deletionTimestamp"):
            return pod
    return None


def healthz(namespace: str) -> bool:
    """Whether the Task API answers /healthz through its Service (the operator's)."""
    return kubectl("get", "--raw", f"/api/v1/namespaces/{namespace}/services/task-api:80/proxy/healthz",
                   check=False, timeout=10).returncode == 0


@pytest.fixture(scope="module")
def spin_namespace():
    name = f"cluster-spin-{uuid.uuid4().hex[:8]}"
    create_namespace(name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def spinapps(spin_namespace, app_image) -> dict[str, float]:
    """The chart's SpinApps applied and Ready: app → seconds from the apply to Ready."""
    namespace = spin_namespace
    objects = chart_objects(namespace, app_image)
    apps = [o["metadata"]["name"] for o in objects if o["kind"] == "SpinApp"]
    assert apps, "the chart renders no SpinApp"
    start = time.monotonic()
    apply(objects)
    deadline = start + 300
    ready: dict[str, float] = {}
    while len(ready) < len(apps):
        for app in apps:
            if app not in ready and pods_ready(namespace, app):
                ready[app] = time.monotonic() - start
        if time.monotonic() > deadline:
            events = kubectl("get", "events", "-n", namespace, "--sort-by=.lastTimestamp", check=False).stdout
            spinapps = kubectl("get", "spinapps", "-n", namespace, "-o", "wide", check=False).stdout
            raise AssertionError(f"not Ready after 300 s: {sorted(set(apps) - set(ready))}\n{spinapps}\n{events[-4000:]}")
        time.sleep(2)
    print("SpinApps Ready (s from apply):", {a: round(t, 1) for a, t in sorted(ready.items())})
    return ready


def test_chart_spinapps_ready_under_the_spin_shim_with_daprd(spin_namespace, spinapps, app_image):
    """Every enabled SpinApp of the chart becomes a Deployment whose pod runs with the RuntimeClass
    whose handler is the Spin shim's, has its daprd sidecar, and is Ready; the time to Ready is
    printed."""
    namespace = spin_namespace
    for app in spinapps:
        deploy = kget("deployment", app, "-n", namespace)
        runtime_class = deploy["spec"]["template"]["spec"].get("runtimeClassName")
        assert runtime_class, f"{app}: the Deployment names no RuntimeClass"
        assert kget("runtimeclass", runtime_class)["handler"] == SHIM_HANDLER, f"{app}: RuntimeClass {runtime_class} is not the Spin shim's"
        pod = kget("pods", "-n", namespace, "-l", f"core.spinkube.dev/app-name={app}")["items"][0]
        assert pod["spec"].get("runtimeClassName") == runtime_class
        names = [c["name"] for c in pod["spec"]["containers"]]
        assert "daprd" in names and app in names, f"{app}: containers {names}"
        assert pod["spec"]["containers"][names.index(app)]["image"] == app_image
    # The component answers through its Service (the operator's) from inside the cluster.
    assert healthz(namespace)


def shim_pid(sandbox_id: str) -> int:
    """The pid of the containerd-shim-spin-v2 process serving the pod sandbox `sandbox_id`."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"containerd-shim-spin-v2") and b"-id" in args \
                and args[args.index(b"-id") + 1].decode() == sandbox_id:
            return int(proc.name)
    raise AssertionError(f"no containerd-shim-spin-v2 process for sandbox {sandbox_id}")


def app_shim_pid(pod: dict, app: str) -> int:
    """The pid of the containerd-shim-spin-v2 process running `pod` (the SpinApp `app`'s)."""
    status = next(c for c in pod["status"]["containerStatuses"] if c["name"] == app)
    container_id = status["containerID"].split("://", 1)[1]
    info = json.loads(subprocess.run([*CTR, "containers", "info", container_id], check=True, capture_output=True, text=True).stdout)
    return shim_pid(info["Spec"]["annotations"]["io.kubernetes.cri.sandbox-id"])


def test_kill_9_of_the_spin_shim_recovers(spin_namespace, spinapps):
    """Node failure stand-in: kill -9 of the containerd-shim-spin-v2 process that runs the Task
    API's pod (its Wasm app and its daprd). The kubelet brings the pod back: every container Ready
    again and /healthz answering through the Service; the recovery time is printed."""
    namespace = spin_namespace
    pod = pods_ready(namespace, "task-api")
    assert pod, "task-api not Ready before the kill"
    pid = app_shim_pid(pod, "task-api")
    before = {c["name"]: c["restartCount"] for c in pod["status"]["containerStatuses"]}
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    # Down first (the pod's containers died with the shim), then back.
    while pods_ready(namespace, "task-api") and time.monotonic() - killed < 20:
        time.sleep(0.5)
    while not (pods_ready(namespace, "task-api") and healthz(namespace)):
        assert time.monotonic() - killed < 180, "task-api not Ready 180 s after kill -9 of its shim"
        time.sleep(1)
    recovered = time.monotonic() - killed
    after = pods_ready(namespace, "task-api")
    restarts = {c["name"]: c["restartCount"] for c in after["status"]["containerStatuses"]}
    print(f"» kill -9 of the task-api pod's Spin shim → Ready and /healthz again after {recovered:.1f} s "
          f"(restarts before {before}, after {restarts})")
    assert after["metadata"]["uid"] != pod["metadata"]["uid"] or restarts != before, "the pod never went down"
