"""The chart's SpinApps on the local cluster through SpinKube: spin-operator turns them into
Deployments with the RuntimeClass of the Spin shim (containerd runtime `spin-v2`, setup part
spinkube, scripts/cluster-spinkube.sh), the Dapr injector adds daprd, and the component runs from
the OCI artifact `spin registry push` put in the cluster's registry (127.0.0.1:14500).

What is left out here, and why: the Secrets Store CSI volume (no CSI driver on this cluster), the
chart's Dapr components (no Postgres or Kafka on the cluster yet: daprd would fail their init), so
readiness is checked on `/healthz`; `/readyz` needs the database."""

from __future__ import annotations

import hashlib
import subprocess
import time
import tomllib

import pytest
import yaml

from conftest import ROOT, STATE, apply, kget, kubectl, probe_pod, wait_running

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


def test_chart_spinapps_ready_under_the_spin_shim_with_daprd(namespace, app_image):
    """Every enabled SpinApp of the chart becomes a Deployment whose pod runs with the RuntimeClass
    whose handler is the Spin shim's, has its daprd sidecar, and is Ready; the time to Ready is
    printed."""
    objects = chart_objects(namespace, app_image)
    apps = [o["metadata"]["name"] for o in objects if o["kind"] == "SpinApp"]
    assert apps, "the chart renders no SpinApp"
    start = time.monotonic()
    apply(objects)
    deadline = start + 300
    ready: dict[str, float] = {}
    while len(ready) < len(apps):
        for app in apps:
            if app in ready:
                continue
            pods = kget("pods", "-n", namespace, "-l", f"core.spinkube.dev/app-name={app}")["items"]
            for pod in pods:
                statuses = pod["status"].get("containerStatuses", [])
                if statuses and all(s.get("ready") for s in statuses):
                    ready[app] = time.monotonic() - start
        if time.monotonic() > deadline:
            events = kubectl("get", "events", "-n", namespace, "--sort-by=.lastTimestamp", check=False).stdout
            spinapps = kubectl("get", "spinapps", "-n", namespace, "-o", "wide", check=False).stdout
            raise AssertionError(f"not Ready after 300 s: {sorted(set(apps) - set(ready))}\n{spinapps}\n{events[-4000:]}")
        time.sleep(2)
    print("SpinApps Ready (s from apply):", {a: round(t, 1) for a, t in sorted(ready.items())})
    for app in apps:
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
    health = kubectl("get", "--raw", f"/api/v1/namespaces/{namespace}/services/task-api:80/proxy/healthz", check=False)
    assert health.returncode == 0, health.stderr
