"""The Wasm components as built: WASI-only imports, health and readiness through the real sidecar,
configuration from the WASI environment."""

from __future__ import annotations

import re
import subprocess
import tomllib

import pytest
import requests
import yaml

from support.stack import ENV, ROOT, TOOLS, free_port, wait_until

MANIFEST = tomllib.loads((ROOT / "spin.toml").read_text())
COMPONENTS = sorted(MANIFEST["component"])
APP_PORTS = {"task-api": 0, "recurrence-engine": 1, "reminder-dispatcher": 2, "chat": 3}
# Apps on their own port (scripts/lib/stack.sh APP_PORT_OVERRIDE), plus the stack's offset.
OWN_PORTS = {"dashboard": 3000}


def wasm_path(component: str):
    return ROOT / MANIFEST["component"][component]["source"]


def app_url(component: str) -> str:
    if component in OWN_PORTS:
        return f"http://127.0.0.1:{OWN_PORTS[component] + int(ENV['PORT_OFFSET'])}"
    base = int(ENV["APP_PORT_BASE"])
    return f"http://127.0.0.1:{base + APP_PORTS[component]}"


@pytest.mark.parametrize("component", COMPONENTS)
def test_component_imports_only_wasi_interfaces(component):
    wit = subprocess.run([str(TOOLS / "bin/wasm-tools"), "component", "wit", str(wasm_path(component))],
                         check=True, capture_output=True, text=True).stdout
    imports = re.findall(r"^\s*import ([\w:/.\-@]+);", wit, re.M)
    exports = re.findall(r"^\s*export ([\w:/.\-@]+);", wit, re.M)
    assert imports, wit
    assert [i for i in imports if not i.startswith("wasi:")] == []
    assert exports == ["wasi:http/incoming-handler@0.2.0"]


@pytest.mark.parametrize("component", COMPONENTS)
def test_component_is_healthy_and_ready_through_its_sidecar(component):
    health = requests.get(f"{app_url(component)}/healthz", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    ready = requests.get(f"{app_url(component)}/readyz", timeout=5)
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"


def route_prefix(component: str) -> str:
    return MANIFEST["component"][component].get("environment", {}).get("ROUTE_PREFIX", "")


PREFIXED = [c for c in COMPONENTS if route_prefix(c)]
SUBSCRIPTIONS = [d for d in yaml.safe_load_all((ROOT / "runtime-config/local/subscriptions.yaml").read_text()) if d]
APP_OF = {"reminder-dispatcher": "notification"}


@pytest.mark.parametrize("component", PREFIXED)
def test_a_component_under_its_spin_route_base_answers_like_at_the_root(component):
    # Under SpinKube, probes, subscriptions and the ingress reach the component with its route base
    # (the chart prefixes them); Dapr's fixed paths (/job/..., /dapr/subscribe) come without it.
    prefix, url = route_prefix(component), app_url(component)
    for path in ("/healthz", "/readyz"):
        plain, based = requests.get(f"{url}{path}", timeout=5), requests.get(f"{url}{prefix}{path}", timeout=5)
        assert based.status_code == plain.status_code == 200, based.text
        assert based.json()["status"] == plain.json()["status"]
    # Each subscription route of the app, with the base: a malformed event is refused the same
    # way (never Spin's or the router's 404, which Dapr would count as delivered).
    app_id = APP_OF.get(component, component)
    routes = [s["spec"]["routes"]["default"] for s in SUBSCRIPTIONS if app_id in s.get("scopes", [])]
    for route in routes:
        headers = {"content-type": "application/cloudevents+json"}
        plain = requests.post(f"{url}{route}", data=b"{}", headers=headers, timeout=10)
        based = requests.post(f"{url}{prefix}{route}", data=b"{}", headers=headers, timeout=10)
        assert based.status_code != 404 and (based.status_code, based.text) == (plain.status_code, plain.text), route
    # Unknown paths under the base are still the problem+json 404, naming the path it routed on.
    missing = requests.get(f"{url}{prefix}/no/such/route", timeout=5)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_unknown_route_is_a_problem_json_404():
    r = requests.get(f"{app_url('task-api')}/no/such/route", timeout=5)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 404 and "/no/such/route" in r.json()["detail"]


def serve_task_api(dapr_url: str):
    port = free_port()
    proc = subprocess.Popen(
        [str(TOOLS / "bin/wasmtime"), "serve", "-S", "cli", "--env", f"DAPR_URL={dapr_url}",
         "--env", "APP_ID=task-api", "--addr", f"127.0.0.1:{port}", str(wasm_path("task-api"))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until("wasmtime serve", lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok, 30)
    return proc, f"http://127.0.0.1:{port}"


def test_dapr_url_comes_from_the_environment():
    live = f"http://127.0.0.1:{ENV['DAPR_HTTP_BASE']}"  # the test stack's task-api sidecar
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    for dapr_url, want in ((live, 200), (dead, 503)):
        proc, url = serve_task_api(dapr_url)
        try:
            r = requests.get(f"{url}/readyz", timeout=10)
            assert r.status_code == want, f"DAPR_URL={dapr_url}: {r.status_code} {r.text}"
            if want == 503:
                assert r.headers["content-type"] == "application/problem+json"
        finally:
            proc.terminate()
            proc.wait(10)
