"""Live sync in production: the chart's Centrifugo, as rendered, with the real server.

Runs what `helm template` renders for production (values-prod.yaml, templates/livesync.yaml): the
ConfigMap's `config.json` and `start.sh`, with the Centrifugo binary of this stack (the same
v6.9.1 as the chart's image) and the secrets as files, like the CSI volume mounts them; only the
secrets directory, the config path and the listen address are adapted to this machine. A page
from the production origin connects with a platform token and subscribes to its own channel;
another user's channel, a channel naming two users, another origin and a bad token are refused;
the HTTP API answers only with the binding's key; a publication reaches the page."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests
import yaml

from support.live import Live
from support.stack import ROOT, TOOLS, free_port, wait_until
from support.taskapi import PREVIOUS_SECRET, SECRET, token

NS = "todo-platform"
CHART = ROOT / "k8s/chart"
ORIGIN = "https://" + yaml.safe_load((CHART / "values-prod.yaml").read_text())["ingress"]["host"]


def rendered(template: str) -> list[dict]:
    kube = re.search(r'^KUBERNETES_SCHEMA_VERSION="v([^"]+)"', (ROOT / "scripts/lib/common.sh").read_text(), re.M)
    out = subprocess.run([str(TOOLS / "bin/helm"), "template", "todo", str(CHART), "-f", str(CHART / "values-prod.yaml"),
                          "--namespace", NS, "--kube-version", kube.group(1), "--show-only", template],
                         check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


@pytest.fixture(scope="module")
def chart_server():
    objects = rendered("templates/livesync.yaml")
    data = next(o for o in objects if o["kind"] == "ConfigMap")["data"]
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/bin/sh", "/centrifugo/start.sh"]
    assert container["image"].endswith(":" + os.environ.get("CENTRIFUGO_VERSION", "v6.9.1"))
    work = Path(tempfile.mkdtemp(prefix="live-sync-chart-"))
    (work / "config.json").write_text(data["config.json"])
    (work / "start.sh").write_text(data["start.sh"])
    secrets_dir = work / "secrets"
    secrets_dir.mkdir()
    api_key = secrets.token_hex(24)
    (secrets_dir / "jwt-secret").write_bytes(SECRET)
    (secrets_dir / "jwt-secret-previous").write_bytes(PREVIOUS_SECRET)
    (secrets_dir / "live-sync-api-key").write_text(api_key)
    port = free_port()
    env = {**os.environ, "PATH": f"{TOOLS / 'bin'}:{os.environ['PATH']}", "SECRETS_DIR": str(secrets_dir),
           "CONFIG": str(work / "config.json"), "CENTRIFUGO_HTTP_SERVER_PORT": str(port),
           "CENTRIFUGO_HTTP_SERVER_ADDRESS": "127.0.0.1"}
    log = open(work / "centrifugo.log", "w")
    proc = subprocess.Popen(["/bin/sh", str(work / "start.sh")], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until("the chart's centrifugo healthy", lambda: requests.get(f"{base}/health", timeout=2).ok, 30)
        yield base, api_key
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        print((work / "centrifugo.log").read_text()[-3000:])


def page(base: str, tok: str | None, origin: str = ORIGIN) -> Live:
    """A page of the production origin on the chart's server."""
    return Live(tok, url=f"ws{base[4:]}/connection/websocket", origin=origin)


def test_the_charts_server_admits_a_page_to_its_own_channel_only(chart_server):
    base, api_key = chart_server
    with page(base, token("alice")) as alice:
        assert "connect" in alice.connect()
        assert "subscribe" in alice.subscribe("changes:\x1falice")
        # (A channel listing several users needs the separator U+001E, which no user id holds, so
        # the dashboard never publishes to one.)
        for other in ("changes:\x1fbob", "changes:#alice", "changes:\x1falice,bob", "changes:\x1fbob,alice"):
            assert "error" in alice.subscribe(other), other
        assert "error" in alice.command(publish={"channel": "changes:\x1falice", "data": {}})
        # The binding's request: POST /api/publish with X-API-Key, as bindings.http sends it.
        publish = {"channel": "changes:\x1falice", "data": {"seq": 1, "task_id": "t1"}, "idempotency_key": "e1"}
        assert requests.post(f"{base}/api/publish", json=publish, timeout=5).status_code == 401
        r = requests.post(f"{base}/api/publish", json=publish, headers={"X-API-Key": api_key}, timeout=5)
        assert r.status_code == 200 and "error" not in r.json(), r.text
        assert [p["data"] for p in alice.publications(1, timeout=5)] == [{"seq": 1, "task_id": "t1"}]


def test_the_charts_server_takes_the_platforms_tokens_only_from_its_origin(chart_server):
    base, _ = chart_server
    with page(base, token("carol", secret=PREVIOUS_SECRET)) as carol:
        assert "connect" in carol.connect()
    for bad in (token("carol", secret=b"y" * 40), token("carol", aud="other"), token("carol", lifetime=-120)):  # pragma: allowlist secret
        with page(base, bad) as carol:
            try:
                reply = carol.connect()
            except Exception:  # closed instead of answered
                continue
            assert "error" in reply
    with pytest.raises(Exception):
        with page(base, token("carol"), origin="https://elsewhere.example") as carol:
            carol.connect()
