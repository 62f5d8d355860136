"""The Wasm components as built: WASI-only imports, health and readiness through the real sidecar,
configuration from the WASI environment."""

from __future__ import annotations

import re
import subprocess
import tomllib

import pytest
import requests
import yaml

from support.runtime import RUNTIME, route_prefix, serve
from support.stack import ENV, ROOT, TOOLS, free_port
from support.stack import app_url as stack_app_url

MANIFEST = tomllib.loads((ROOT / "spin.toml").read_text())
COMPONENTS = sorted(MANIFEST["component"])
# The app id each component serves as (scripts/lib/stack.sh APP_COMPONENT).
APP_OF = {"reminder-dispatcher": "notification"}


def wasm_path(component: str):
    return ROOT / MANIFEST["component"][component]["source"]


def app_url(component: str) -> str:
    return stack_app_url(APP_OF.get(component, component))


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


PREFIXED = [c for c in COMPONENTS if route_prefix(c)]
SUBSCRIPTIONS = [d for d in yaml.safe_load_all((ROOT / "runtime-config/local/subscriptions.yaml").read_text()) if d]
CHART = yaml.safe_load((ROOT / "k8s/chart/values.yaml").read_text())


def test_local_subscriptions_deliver_where_the_charts_do():
    """Spin routes only the manifest's routes: a subscription route without the app's base would
    reach no component (Spin's 404, which Dapr counts as delivered). The local routes are the
    chart's: the app's route base plus the route."""
    chart = {(s["app"], s["topic"]): CHART["apps"][s["app"]]["routePrefix"] + s["route"] for s in CHART["subscriptions"]}
    local = {(s["scopes"][0], s["spec"]["topic"]): s["spec"]["routes"]["default"] for s in SUBSCRIPTIONS}
    assert local == chart


@pytest.mark.parametrize("component", PREFIXED)
def test_a_component_answers_under_its_spin_route_base(component):
    # Under Spin (locally and in SpinKube) probes, subscriptions and the ingress reach the component
    # with its route base; Dapr's fixed paths (/job/..., /dapr/subscribe) come without it.
    prefix, url = route_prefix(component), app_url(component)
    root = url.removesuffix(prefix)
    for path in ("/healthz", "/readyz"):
        based = requests.get(f"{url}{path}", timeout=5)
        assert based.status_code == 200 and based.json()["status"] in ("ok", "ready"), based.text
        if RUNTIME == "spin":
            # Without the base no route of the manifest matches: Spin answers, not the component.
            plain = requests.get(f"{root}{path}", timeout=5)
            assert plain.status_code == 404 and "problem+json" not in plain.headers.get("content-type", ""), plain.text
    # Each subscription route of the app: a malformed event is refused by the component (never
    # Spin's or the router's 404, which Dapr would count as delivered).
    app_id = APP_OF.get(component, component)
    for route in [s["spec"]["routes"]["default"] for s in SUBSCRIPTIONS if app_id in s.get("scopes", [])]:
        assert route.startswith(prefix + "/"), route
        r = requests.post(f"{root}{route}", data=b"{}", headers={"content-type": "application/cloudevents+json"},
                          timeout=10)
        assert r.status_code != 404 and r.headers["content-type"].startswith("application/"), (route, r.text)
    # Unknown paths under the base are the component's problem+json 404.
    missing = requests.get(f"{url}/no/such/route", timeout=5)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_unknown_route_is_a_problem_json_404():
    r = requests.get(f"{app_url('task-api')}/no/such/route", timeout=5)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 404 and "/no/such/route" in r.json()["detail"]


def test_dapr_url_comes_from_the_dapr_url_variable():
    """The sidecar's address reaches the component as the `dapr_url` variable (wasi:config/store;
    under Spin the application variable, set with --variable), not from a baked-in default."""
    live = f"http://127.0.0.1:{ENV['DAPR_HTTP_BASE']}"  # the test stack's task-api sidecar
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    for dapr_url, want in ((live, 200), (dead, 503)):
        with serve("task-api", dapr_url) as (_, url):
            r = requests.get(f"{url}/readyz", timeout=10)
            assert r.status_code == want, f"dapr_url={dapr_url}: {r.status_code} {r.text}"
            if want == 503:
                assert r.headers["content-type"] == "application/problem+json"
