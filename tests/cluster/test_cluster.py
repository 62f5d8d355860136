"""The local single-node cluster: a Ready node of the pinned versions, pods under runc, and
NetworkPolicies enforced by kube-router — the generic semantics and the chart's own policies."""

from __future__ import annotations

import subprocess

import yaml

from conftest import CTR, KUBECONFIG as KUBECONFIG_PATH, ROOT, STATE, apply, create_namespace, http_server, kget, kubectl, probe_pod, reaches, wait_running

SLEEP = ["/bin/busybox", "sleep", "3600"]


def test_node_ready_with_pinned_versions():
    node = kget("node", "todo-node")
    ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}
    assert ready["Ready"] == "True", node["status"]["conditions"]
    info = node["status"]["nodeInfo"]
    assert info["kubeletVersion"] == "v1.34.4"
    assert info["containerRuntimeVersion"] == "containerd://2.2.9"


def test_default_deny_and_label_allow_enforced(namespace):
    """A default-deny ingress policy and one that admits role=client: only that client gets through."""
    apply([
        probe_pod(namespace, "server", {"role": "server"}, http_server(8080)),
        probe_pod(namespace, "client", {"role": "client"}, SLEEP),
        probe_pod(namespace, "stranger", {"role": "other"}, SLEEP),
    ])
    ips = wait_running(namespace, ["server", "client", "stranger"])
    assert reaches(namespace, "stranger", ips["server"], 8080), "no policy yet: everything is open"
    apply([
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "default-deny", "namespace": namespace},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "allow-client", "namespace": namespace},
         "spec": {"podSelector": {"matchLabels": {"role": "server"}}, "policyTypes": ["Ingress"],
                  "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}],
                               "ports": [{"protocol": "TCP", "port": 8080}]}]}},
    ])
    # kube-router applies policies on its next sync (event driven; a few seconds at most).
    import time
    deadline = time.monotonic() + 30
    while reaches(namespace, "stranger", ips["server"], 8080, seconds=2):
        assert time.monotonic() < deadline, "the stranger still reaches the server 30 s after the policies"
        time.sleep(1)
    assert reaches(namespace, "client", ips["server"], 8080)


def chart_network_policies(namespace: str, ingress_namespace: str) -> list[dict]:
    """The chart's NetworkPolicies (prod values), rendered into the test namespace."""
    import yaml
    out = subprocess.run(
        [str(ROOT / ".tools/bin/helm"), "template", "todo", str(ROOT / "k8s/chart"), "-f", str(ROOT / "k8s/chart/values-prod.yaml"),
         "--namespace", namespace, "--kube-version", "1.34.4", "--set", f"networkPolicies.ingressNamespace={ingress_namespace}",
         "--show-only", "templates/networkpolicies.yaml"],
        check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def test_chart_policies_admit_dapr_invocation_and_acme_solver_only(namespace):
    """The chart's policies, enforced: chat and dashboard reach the Task API's sidecar port 50002;
    notification and a pod of another namespace do not; the ingress namespace reaches the
    cert-manager HTTP-01 solver on 8089. Probe pods carry the SpinApp pods' labels."""
    other = f"{namespace}-other"
    create_namespace(other)
    try:
        app = lambda name: {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "todo-platform"}  # noqa: E731
        apply([
            probe_pod(namespace, "task-api", app("task-api"), http_server(50002)),
            probe_pod(namespace, "chat", app("chat"), SLEEP),
            probe_pod(namespace, "dashboard", app("dashboard"), SLEEP),
            probe_pod(namespace, "notification", app("notification"), SLEEP),
            probe_pod(namespace, "acme-solver", {"acme.cert-manager.io/http01-solver": "true"}, http_server(8089)),
            probe_pod(other, "outsider", {"app.kubernetes.io/name": "chat"}, SLEEP),
        ])
        ips = wait_running(namespace, ["task-api", "chat", "dashboard", "notification", "acme-solver"])
        wait_running(other, ["outsider"])
        apply(chart_network_policies(namespace, other))
        import time
        deadline = time.monotonic() + 30
        while reaches(namespace, "notification", ips["task-api"], 50002, seconds=2):
            assert time.monotonic() < deadline, "policies not enforced 30 s after they were applied"
            time.sleep(1)
        got = {
            "chat → task-api:50002": reaches(namespace, "chat", ips["task-api"], 50002),
            "dashboard → task-api:50002": reaches(namespace, "dashboard", ips["task-api"], 50002),
            "notification → task-api:50002": reaches(namespace, "notification", ips["task-api"], 50002),
            "other namespace → task-api:50002": reaches(other, "outsider", ips["task-api"], 50002),
            "ingress namespace → acme-solver:8089": reaches(other, "outsider", ips["acme-solver"], 8089),
        }
        want = {
            "chat → task-api:50002": True,
            "dashboard → task-api:50002": True,
            "notification → task-api:50002": False,
            "other namespace → task-api:50002": False,
            "ingress namespace → acme-solver:8089": True,
        }
        assert got == want
    finally:
        kubectl("delete", "namespace", other, "--wait=false", check=False)


def dapr_probe(namespace: str, app_id: str, command: list[str], app_port: int | None = None) -> dict:
    """A Deployment like the ones spin-operator makes of a SpinApp: the SpinApp pods' labels and
    Dapr annotations on the pod template (the injector adds daprd, the Dapr operator creates the
    `<app-id>-dapr` Service invocation resolves)."""
    labels = {"app.kubernetes.io/name": app_id, "app.kubernetes.io/part-of": "todo-platform"}
    pod = probe_pod(namespace, app_id, labels, command)
    annotations = {"dapr.io/enabled": "true", "dapr.io/app-id": app_id, "dapr.io/log-level": "info"}
    if app_port:
        annotations["dapr.io/app-port"] = str(app_port)
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": app_id, "namespace": namespace, "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": app_id}},
                 "template": {"metadata": {"labels": labels, "annotations": annotations}, "spec": pod["spec"]}},
    }


def invoke(namespace: str, deployment: str, app_id: str, seconds: int = 5) -> str:
    """GET /v1.0/invoke/<app_id>/method/index.html through the pod's own sidecar (HTTP 3500)."""
    # stdin stays open while the answer comes: daprd (Go's HTTP server) cancels a request whose
    # client half-closes the connection, as nc does at the end of its input.
    get = f'(printf "GET /v1.0/invoke/{app_id}.{namespace}/method/index.html HTTP/1.0\\r\\n\\r\\n"; sleep {seconds}) | nc -w {seconds} 127.0.0.1 3500'
    return kubectl("exec", "-n", namespace, f"deploy/{deployment}", "-c", "probe", "--", "sh", "-c", get, check=False, timeout=30).stdout


def test_dapr_invocation_sidecar_to_sidecar_under_chart_policies(namespace):
    """Dapr (the chart of the module, Sentry mTLS) injects daprd; under the chart's NetworkPolicies
    chat's sidecar invokes task-api's (sidecar → sidecar on 50002), notification's cannot."""
    import time
    if kubectl("get", "deploy", "dapr-sidecar-injector", "-n", "dapr-system", check=False).returncode != 0:
        import pytest
        pytest.skip("no Dapr control plane: scripts/cluster-dapr.sh")
    apply([
        dapr_probe(namespace, "task-api", http_server(8080), app_port=8080),
        dapr_probe(namespace, "chat", SLEEP),
        dapr_probe(namespace, "notification", SLEEP),
    ])
    for d in ("task-api", "chat", "notification"):
        kubectl("rollout", "status", "-n", namespace, f"deploy/{d}", "--timeout", "180s", timeout=200)
    pod = kget("pods", "-n", namespace, "-l", "app.kubernetes.io/name=task-api")["items"][0]
    assert "daprd" in [c["name"] for c in pod["spec"]["containers"]], "the injector added no daprd"
    deadline = time.monotonic() + 90
    # Without policies, any sidecar invokes the Task API's.
    while not (out := invoke(namespace, "notification", "task-api")).rstrip().endswith("\nok"):
        assert time.monotonic() < deadline, f"notification → task-api (no policies yet) never answered: {out[-500:]}"
        time.sleep(2)
    apply(chart_network_policies(namespace, "traefik"))
    # A policy only governs new connections: the sidecars' pooled gRPC connection from before it
    # stays established (conntrack), so notification gets a new sidecar.
    kubectl("rollout", "restart", "-n", namespace, "deploy/notification")
    kubectl("rollout", "status", "-n", namespace, "deploy/notification", "--timeout", "180s", timeout=200)
    deadline = time.monotonic() + 60
    while (denied := invoke(namespace, "notification", "task-api")).rstrip().endswith("\nok"):
        assert time.monotonic() < deadline, "notification still invokes task-api 60 s after the chart's policies"
        time.sleep(2)
    out = invoke(namespace, "chat", "task-api")
    assert out.rstrip().endswith("\nok") and out.startswith("HTTP/1.0 200"), f"chat → task-api under the policies: {out[-500:]}"
    # The sidecars hold Sentry-issued workload certificates (mTLS between them).
    log = kubectl("logs", "-n", namespace, "deploy/task-api", "-c", "daprd").stdout
    assert "Security is initialized successfully" in log and "workload identity expiry watcher" in log, log[-2000:]


def test_chart_installs_beside_the_dapr_chart(namespace):
    """The chart (local values) installs with helm next to the Dapr release: it renders no
    `daprsystem` Configuration, which the Dapr chart owns (a chart that did failed with
    `Configuration "daprsystem" in namespace "dapr-system" exists and cannot be imported into the
    current release: invalid ownership metadata`)."""
    if kubectl("get", "configuration", "daprsystem", "-n", "dapr-system", check=False).returncode != 0:
        import pytest
        pytest.skip("no Dapr release: scripts/cluster-dapr.sh")
    dirs = subprocess.run(["bash", "-c", f'source "{ROOT}/scripts/lib/common.sh" && crd_source_dirs'],
                          check=True, capture_output=True, text=True).stdout.split()
    for d in dirs:
        if "/dapr@" not in d:  # the Dapr release installed its own CRDs
            kubectl("apply", "--server-side", "--force-conflicts", "-f", d, timeout=180)
    # With spin-operator installed its validating webhook wants the executor in the release's
    # namespace (as k8s/cluster/spinapp-executor.yaml puts it in todo-platform on AKS).
    if kubectl("get", "crd", "spinappexecutors.core.spinkube.dev", check=False).returncode == 0:
        executor = yaml.safe_load((ROOT / "k8s/cluster/spinapp-executor.yaml").read_text())
        executor["metadata"]["namespace"] = namespace
        apply([executor])
    helm = [str(ROOT / ".tools/bin/helm")]
    import os
    env = {**os.environ, "KUBECONFIG": KUBECONFIG_PATH}
    out = subprocess.run([*helm, "upgrade", "--install", "todo", str(ROOT / "k8s/chart"), "-f", str(ROOT / "k8s/chart/values-local.yaml"),
                          "--namespace", namespace], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    spinapps = kget("spinapps", "-n", namespace)["items"]
    assert {s["metadata"]["name"] for s in spinapps} >= {"task-api", "chat", "dashboard"}
    owner = kget("configuration", "daprsystem", "-n", "dapr-system")["metadata"]["annotations"]["meta.helm.sh/release-name"]
    assert owner == "dapr"
    subprocess.run([*helm, "uninstall", "todo", "--namespace", namespace], capture_output=True, env=env)


def test_sidecar_kill_9_recovers(namespace):
    """kill -9 of the Task API's daprd (SIGKILL to its task through containerd): the kubelet
    restarts the sidecar and Dapr invocation answers again; the recovery time is printed."""
    import time
    if kubectl("get", "deploy", "dapr-sidecar-injector", "-n", "dapr-system", check=False).returncode != 0:
        import pytest
        pytest.skip("no Dapr control plane: scripts/cluster-dapr.sh")
    apply([dapr_probe(namespace, "task-api", http_server(8080), app_port=8080), dapr_probe(namespace, "chat", SLEEP)])
    for d in ("task-api", "chat"):
        kubectl("rollout", "status", "-n", namespace, f"deploy/{d}", "--timeout", "180s", timeout=200)
    deadline = time.monotonic() + 90
    while not invoke(namespace, "chat", "task-api").rstrip().endswith("\nok"):
        assert time.monotonic() < deadline, "chat → task-api never answered"
        time.sleep(2)
    pod = kget("pods", "-n", namespace, "-l", "app.kubernetes.io/name=task-api")["items"][0]
    status = next(c for c in pod["status"]["containerStatuses"] if c["name"] == "daprd")
    container_id = status["containerID"].split("://", 1)[1]
    killed = time.monotonic()
    subprocess.run([*CTR, "tasks", "kill", "-s", "SIGKILL", container_id], check=True, capture_output=True)
    # Down first (the old sidecar is gone), then back.
    while invoke(namespace, "chat", "task-api", seconds=2).rstrip().endswith("\nok") and time.monotonic() - killed < 10:
        time.sleep(0.5)
    while not invoke(namespace, "chat", "task-api", seconds=2).rstrip().endswith("\nok"):
        assert time.monotonic() - killed < 120, "no answer 120 s after kill -9 of the sidecar"
        time.sleep(1)
    recovered = time.monotonic() - killed
    restarts = next(c for c in kget("pod", pod["metadata"]["name"], "-n", namespace)["status"]["containerStatuses"]
                    if c["name"] == "daprd")["restartCount"]
    print(f"» kill -9 of task-api's daprd → invocation answers again after {recovered:.1f} s (restarts {restarts})")
    assert restarts >= 1
