"""Per-user push credentials in production: the chart's push broker, as rendered, issues them.

Runs what `helm template` renders for production (values-prod.yaml): the push broker's
`mosquitto.conf` and its init container's `provision.sh` (k8s/chart/templates/pushbroker.yaml),
with Debian's Mosquitto (the same 2.x broker and dynamic-security plugin; only file paths, ports
and the run-as user are adapted to this machine), and the real Task API component behind a real
daprd whose `push-issuer` is the chart's component (templates/dapr/bindings.yaml; its URL from a
stand-in for the Key Vault store). A user asks `POST /api/users/me/push-credentials`; with those
credentials the user subscribes to their own topic and receives what the chart's
reminder-publisher account publishes there, and the broker refuses their subscription to another
user's topic and to wildcards.

Guards: the chart rendered no broker and no push-issuer binding, so in production the credentials
endpoint answered 503 and a user's devices had no credentials of their own (issue 15, item 2)."""

from __future__ import annotations

import getpass
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
import yaml

from support.dapr import Sidecar
from support.notify import mqtt_subscribe, push_topic
from support.runtime import command as runtime_command, stop
from support.stack import ROOT, TOOLS, free_port, port_open, wait_until
from support.taskapi import token

NS = "todo-platform"
CHART = ROOT / "k8s/chart"
WASM = ROOT / "target/wasm/wasm32-wasip2/release/task_api.wasm"
DYNSEC = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"  # Debian's path of the plugin


def rendered(*templates: str) -> list[dict]:
    kube = re.search(r'^KUBERNETES_SCHEMA_VERSION="v([^"]+)"', (ROOT / "scripts/lib/common.sh").read_text(), re.M)
    args = [a for t in templates for a in ("--show-only", t)]
    out = subprocess.run([str(TOOLS / "bin/helm"), "template", "todo", str(CHART), "-f", str(CHART / "values-prod.yaml"),
                          "--namespace", NS, "--kube-version", kube.group(1), *args],
                         check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


@pytest.fixture(scope="module")
def chart_broker():
    assert Path(DYNSEC).exists() and shutil.which("mosquitto_ctrl"), "Debian mosquitto 2.x missing (scripts/setup.sh apt)"
    assert WASM.exists(), "build the components first (scripts/build-components.sh)"
    objects = rendered("templates/pushbroker.yaml", "templates/dapr/bindings.yaml")
    config = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "push-broker")["data"]
    values = yaml.safe_load((CHART / "values.yaml").read_text())["pushBroker"]
    issuer = next(o for o in objects if o["kind"] == "Component" and o["metadata"]["name"] == "push-issuer")

    work = Path(tempfile.mkdtemp(prefix="push-broker-"))
    data, secret_dir = work / "data", work / "secrets"
    data.mkdir()
    secret_dir.mkdir()
    mqtt_port, ws_port = free_port(), free_port()
    passwords = {name: secrets.token_hex(24) for name in ("admin", "reminder-publisher", "push-issuer")}
    urls = {name: f"tcp://{name}:{passwords[name]}@127.0.0.1:{mqtt_port}" for name in ("reminder-publisher", "push-issuer")}
    # The files the Secrets Store CSI volume holds (Key Vault secrets named in values.yaml).
    (secret_dir / values["adminPasswordSecret"]).write_text(passwords["admin"])
    (secret_dir / values["publisherUrlSecret"]).write_text(urls["reminder-publisher"])
    (secret_dir / values["issuerUrlSecret"]).write_text(urls["push-issuer"])
    (work / "provision.sh").write_text(config["provision.sh"])
    user = getpass.getuser()
    env = {**os.environ, "DATA_DIR": str(data), "SECRETS_DIR": str(secret_dir), "PLUGIN": DYNSEC,
           "PORT": str(free_port()), "RUN_AS": user}
    provisioned = subprocess.run(["sh", str(work / "provision.sh")], env=env, capture_output=True, text=True, timeout=120)
    assert provisioned.returncode == 0 and "push broker provisioned" in provisioned.stdout, \
        provisioned.stdout + provisioned.stderr
    conf = (config["mosquitto.conf"]
            .replace("listener 1883", f"listener {mqtt_port} 127.0.0.1")
            .replace("listener 8080", f"listener {ws_port} 127.0.0.1")
            .replace("/usr/lib/mosquitto_dynamic_security.so", DYNSEC)
            .replace("/mosquitto/data", str(data))) + f"user {user}\n"
    (work / "mosquitto.conf").write_text(conf)
    broker = subprocess.Popen(["mosquitto", "-c", str(work / "mosquitto.conf")], stdout=open(work / "mosquitto.log", "ab"),
                              stderr=subprocess.STDOUT, start_new_session=True)
    procs, sidecar = [broker], None
    old_pod_name = os.environ.get("POD_NAME")
    try:
        wait_until("chart broker listening", lambda: port_open(mqtt_port), timeout=30)

        # The chart's push-issuer component; its URL comes from the Key Vault store (a local file
        # store of that name here). daprd fills {podName} from POD_NAME, as the injector sets it.
        app_port = free_port()
        sidecar = Sidecar("push-chart-task-api", app_port, subscriptions=False)
        component = json.loads(json.dumps(issuer))
        component["metadata"].pop("namespace", None)
        component.pop("scopes", None)
        (sidecar.resources / "push-issuer.yaml").write_text(yaml.safe_dump(component))
        store = component["auth"]["secretStore"]
        (sidecar.resources / "key-vault.json").write_text(json.dumps({values["issuerUrlSecret"]: urls["push-issuer"]}))
        (sidecar.resources / "key-vault.yaml").write_text(yaml.safe_dump({
            "apiVersion": "dapr.io/v1alpha1", "kind": "Component", "metadata": {"name": store},
            "spec": {"type": "secretstores.local.file", "version": "v1",
                     "metadata": [{"name": "secretsFile", "value": str(sidecar.resources / "key-vault.json")}]}}))
        app = subprocess.Popen(runtime_command("task-api", app_port, sidecar.url, {"APP_ID": "task-api"}),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        procs.append(app)
        url = f"http://127.0.0.1:{app_port}"
        wait_until("task-api on its runtime", lambda: requests.get(f"{url}/healthz", timeout=2).ok, timeout=60)
        os.environ["POD_NAME"] = "task-api-0"
        sidecar.start()
        yield {"url": url, "mqtt_port": mqtt_port, "work": work, "passwords": passwords, "sidecar": sidecar}
    finally:
        if old_pod_name is None:
            os.environ.pop("POD_NAME", None)
        else:
            os.environ["POD_NAME"] = old_pod_name
        if sidecar:
            sidecar.cleanup()
        for p in procs:
            stop(p, 20)
        shutil.rmtree(work, ignore_errors=True)


def issue(url: str, user_id: str) -> dict:
    r = requests.post(f"{url}/api/users/me/push-credentials", headers={"authorization": f"Bearer {token(user_id)}"},
                      timeout=30)
    assert r.status_code == 201 and r.headers.get("cache-control") == "no-store", r.text
    return r.json()


def test_the_charts_broker_issues_per_user_push_credentials_through_the_task_api(chart_broker):
    url, port, work = chart_broker["url"], chart_broker["mqtt_port"], chart_broker["work"]
    a, b = f"user-a-{secrets.token_hex(4)}", f"user-b-{secrets.token_hex(4)}"
    ca, cb = issue(url, a), issue(url, b)
    assert ca["topic"] == push_topic(a) and cb["topic"] == push_topic(b)

    def answer(topic: str, creds: dict, name: str) -> tuple[subprocess.Popen, str]:
        return mqtt_subscribe(topic, creds["username"], creds["password"], work / f"{name}.log", port=port)

    # The broker applies the issued credentials moments after the API answered.
    deadline = time.monotonic() + 10
    while True:
        inbox, verdict = answer(ca["topic"], ca, "own")
        if verdict == "granted" or time.monotonic() > deadline:
            break
        inbox.terminate()
        inbox.wait(10)
        time.sleep(0.2)
    assert verdict == "granted", verdict
    try:
        for topic in (cb["topic"], "todo/reminders/#", "todo/reminders/+", "#"):
            proc, verdict = answer(topic, ca, "foreign")
            proc.terminate()
            proc.wait(10)
            assert verdict == "denied", (topic, verdict)
        proc, verdict = mqtt_subscribe(ca["topic"], None, None, work / "anon.log", port=port)
        proc.terminate()
        proc.wait(10)
        assert verdict == "refused", verdict

        # A reminder published by the chart's reminder-publisher account reaches the user.
        payload = json.dumps({"title": "chart push", "reminder_id": secrets.token_hex(4)})
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-u", "reminder-publisher",
                        "-P", chart_broker["passwords"]["reminder-publisher"], "-t", ca["topic"], "-m", payload],
                       check=True, timeout=30)
        wait_until("push received", lambda: payload in (work / "own.log").read_text(), timeout=15)
    finally:
        inbox.terminate()
        inbox.wait(10)
