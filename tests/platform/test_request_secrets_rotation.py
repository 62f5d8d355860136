"""Production's per-request secrets: read from Kubernetes Secrets, never from Key Vault per request,
and rotated without a restart. Runs the real Task API component (on Spin) behind a real
daprd whose `local-secrets` store is the chart's own `secretstores.kubernetes` component
(k8s/chart/templates/dapr/secretstore.yaml, with a kubeconfig instead of the in-cluster one)
against a real kube-apiserver + etcd, authenticated as the `task-api` service account with only
the chart's Role and RoleBinding (k8s/chart/templates/secretproviderclass.yaml). The test plays the
Secrets Store CSI driver: it writes the Secrets the chart's SecretProviderClass syncs, and
rotates one the way the driver does after Key Vault changed (an update of the Secret).

Guards: in Azure every request read the JWT secrets from the Key Vault store (two, later one, Key
Vault call per request; Key Vault throttles and Dapr does not cache). Now a request reads the
Kubernetes API; Key Vault is read by the CSI driver once per rotation poll interval
(terraform/modules/aks: 2 minutes). What only AKS shows: the driver's poll of Key Vault and its
update of the Secret (that adds at most the poll interval to the propagation measured here)."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import time

import pytest
import requests
import yaml

from support.runtime import command as runtime_command, stop
from support.dapr import Sidecar
from support.kube import ControlPlane
from support.stack import ROOT, STACK_DIR, TOOLS, free_port, wait_until
from support.taskapi import PREVIOUS_SECRET, SECRET, token

NS = "todo-platform"
APP = "task-api"
CHART = ROOT / "k8s/chart"
WASM = ROOT / "target/wasm/wasm32-wasip2/release/task_api.wasm"


def kube_version() -> str:
    text = (ROOT / "scripts/lib/common.sh").read_text()
    return re.search(r'^KUBERNETES_SCHEMA_VERSION="v([^"]+)"', text, re.M).group(1)


def rendered(*templates: str) -> list[dict]:
    """Objects of the production chart (values-prod.yaml), as `helm template` renders them."""
    args = [a for t in templates for a in ("--show-only", t)]
    out = subprocess.run([str(TOOLS / "bin/helm"), "template", "todo", str(CHART), "-f", str(CHART / "values-prod.yaml"),
                          "--namespace", NS, "--kube-version", kube_version(), *args],
                         check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def one(objects: list[dict], kind: str, pred=lambda o: True) -> dict:
    found = [o for o in objects if o["kind"] == kind and pred(o)]
    assert len(found) == 1, (kind, found)
    return found[0]


@pytest.fixture(scope="module")
def k8s_task_api():
    assert WASM.exists(), "build the components first (scripts/build-components.sh)"
    chart = rendered("templates/dapr/secretstore.yaml", "templates/secretproviderclass.yaml")
    store = one(chart, "Component", lambda c: c["spec"]["type"] == "secretstores.kubernetes")
    key_vault = one(chart, "Component", lambda c: c["spec"]["type"] == "secretstores.azure.keyvault")
    spc = one(chart, "SecretProviderClass")
    cp = ControlPlane([(NS, APP)]).start()
    procs = []
    sidecar = None
    try:
        cp.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        cp.create(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NS}/roles", one(chart, "Role"))
        cp.create(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NS}/rolebindings", one(chart, "RoleBinding"))
        # What the CSI driver syncs: each secretObject of the SecretProviderClass, from the Key
        # Vault objects of the same name (here the values the local stack uses).
        vault = json.loads((STACK_DIR / "secrets" / "secrets.json").read_text())
        for so in spc["spec"]["secretObjects"]:
            cp.apply_secret(NS, so["secretName"], {d["key"]: vault[d["objectName"]] for d in so["data"]})
        # A Secret of the namespace the chart does not grant: the sidecar must not read it.
        cp.apply_secret(NS, "tasks-db-connection", {"tasks-db-connection": vault["tasks-db-connection"]})

        app_port = free_port()
        sidecar = Sidecar("k8s-secrets-task-api", app_port, subscriptions=False)
        res = sidecar.resources
        # Key Vault's place (init-time secretKeyRefs only) is taken by the local file store.
        kv_name = key_vault["metadata"]["name"]
        (res / "secrets.yaml").write_text((res / "secrets.yaml").read_text().replace("name: local-secrets", f"name: {kv_name}"))
        for f in ("tasks-db.yaml", "state.yaml"):
            (res / f).write_text((res / f).read_text().replace("secretStore: local-secrets", f"secretStore: {kv_name}"))
        # The chart's per-request store, pointed at this apiserver as the task-api service account.
        store = json.loads(json.dumps(store))
        store["metadata"].pop("namespace", None)
        store.pop("scopes", None)
        store["spec"]["metadata"].append({"name": "kubeconfigPath", "value": str(cp.kubeconfig(NS, APP))})
        (res / "request-secrets.yaml").write_text(yaml.safe_dump(store))

        app = subprocess.Popen(runtime_command("task-api", app_port, sidecar.url, {"APP_ID": APP}),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        procs.append(app)
        url = f"http://127.0.0.1:{app_port}"
        wait_until("task-api on its runtime", lambda: requests.get(f"{url}/healthz", timeout=2).ok, timeout=60)
        sidecar.start()
        yield {"cp": cp, "sidecar": sidecar, "app": app, "url": url, "store": store["metadata"]["name"]}
    finally:
        for p in procs:
            stop(p, 20)
        if sidecar:
            sidecar.cleanup()
        cp.stop()


def tasks(url: str, tok: str) -> int:
    return requests.get(f"{url}/api/tasks", headers={"authorization": f"Bearer {tok}"}, timeout=30).status_code


def test_a_rotated_jwt_secret_is_used_without_a_restart(k8s_task_api):
    cp, sidecar, app, url = (k8s_task_api[k] for k in ("cp", "sidecar", "app", "url"))
    user = f"user-{secrets.token_hex(5)}"
    current, previous = SECRET.decode(), PREVIOUS_SECRET.decode()
    new = secrets.token_hex(32)
    pids = (sidecar.proc.pid, app.pid)

    assert tasks(url, token(user)) == 200
    assert tasks(url, token(user, secret=previous.encode())) == 200
    assert tasks(url, token(user, secret=new.encode())) == 401

    # The rotation of docs/deploy-aks.md as the CSI driver delivers it: the current secret moves to
    # the previous slot, a new current secret arrives (two Secret updates).
    start = time.monotonic()
    cp.apply_secret(NS, "jwt-secret-previous", {"jwt-secret-previous": current})
    cp.apply_secret(NS, "jwt-secret", {"jwt-secret": new})
    wait_until("a token of the new secret accepted", lambda: tasks(url, token(user, secret=new.encode())) == 200,
               timeout=30, interval=0.01)
    accepted_ms = (time.monotonic() - start) * 1000
    assert tasks(url, token(user)) == 200, "a token of the secret rotated into the previous slot is refused"
    assert tasks(url, token(user, secret=previous.encode())) == 401, "a token of the retired secret is accepted"

    # The next rotation retires the previous slot: its tokens are refused from then on.
    start = time.monotonic()
    cp.apply_secret(NS, "jwt-secret-previous", {"jwt-secret-previous": secrets.token_hex(32)})
    wait_until("a token of the retired secret refused", lambda: tasks(url, token(user)) == 401,
               timeout=30, interval=0.01)
    refused_ms = (time.monotonic() - start) * 1000
    assert tasks(url, token(user, secret=new.encode())) == 200

    assert sidecar.proc.poll() is None and app.poll() is None and (sidecar.proc.pid, app.pid) == pids, \
        "daprd or the component restarted"
    print(f"\nrotation without restart: new secret accepted {accepted_ms:.0f} ms after the Secret update, "
          f"retired secret refused {refused_ms:.0f} ms after it (plus the CSI driver's Key Vault poll "
          f"interval in AKS)")
    # Put the stack's secrets back for the other tests of this module.
    cp.apply_secret(NS, "jwt-secret", {"jwt-secret": current})
    cp.apply_secret(NS, "jwt-secret-previous", {"jwt-secret-previous": previous})


def test_the_sidecar_reads_only_the_secrets_the_chart_grants(k8s_task_api):
    sidecar, store = k8s_task_api["sidecar"], k8s_task_api["store"]
    r = requests.get(f"{sidecar.url}/v1.0/secrets/{store}/jwt-secret", timeout=10)
    assert r.status_code == 200 and r.json()["jwt-secret"] == SECRET.decode(), r.text
    r = requests.get(f"{sidecar.url}/v1.0/secrets/{store}/tasks-db-connection", timeout=10)
    assert r.status_code != 200 and "forbidden" in r.text, r.text
