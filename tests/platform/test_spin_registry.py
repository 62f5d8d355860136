"""The application as an OCI artifact: `spin registry push` to a real local registry
(distribution, built from its Go module by `scripts/setup.sh registry`), then `spin up --from
<reference>`, the path the deploy workflow takes towards ACR and the one SpinKube pulls from.

The artifact must carry the locally built components byte for byte and the manifest's routes,
allow-lists and variables, and a component started from it must answer exactly like the one
started from spin.toml. (The whole platform suite runs against the artifact with
`SPIN_APP_FROM=registry`, see docs/local-dev.md.)"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tomllib
import uuid

import pytest
import requests

from support.runtime import MANIFEST, serve, stop, wasm
from support.stack import ENV, ROOT, TOOLS, free_port, wait_until
from support.taskapi import User

SPIN = str(TOOLS / "bin/spin")
OWN_SIDECAR = f"http://127.0.0.1:{ENV['DAPR_HTTP_BASE']}"  # the task-api's daprd
WASM_LAYER = "application/vnd.wasm.content.layer.v1+wasm"
SPIN_CONFIG_LAYER = "application/vnd.fermyon.spin.application.v1+config"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

pytestmark = pytest.mark.skipif(os.environ.get("RUNTIME", "spin") != "spin", reason="the artifact path is Spin's")


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A real OCI registry on a free loopback port, with its data in a temporary directory."""
    binary = TOOLS / "bin/registry"
    assert binary.exists(), "run scripts/setup.sh registry"
    directory = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = directory / "config.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {directory / 'data'}\n"
                      f"http:\n  addr: 127.0.0.1:{port}\n")
    proc = subprocess.Popen([str(binary), "serve", str(config)], env={**os.environ, "OTEL_TRACES_EXPORTER": "none"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until("registry", lambda: requests.get(f"http://127.0.0.1:{port}/v2/", timeout=2).status_code == 200)
        yield f"127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def pushed(registry):
    """The reference the application was pushed to (`spin registry push`, as the deploy workflow runs it)."""
    ref = f"{registry}/todo-platform:t-{uuid.uuid4().hex[:8]}"
    r = subprocess.run([SPIN, "registry", "push", "--insecure", "--from", str(ROOT / "spin.toml"), ref],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Pushed with digest sha256:" in r.stdout + r.stderr
    return ref


def oci_manifest(ref: str) -> dict:
    host, _, rest = ref.partition("/")
    repo, _, tag = rest.partition(":")
    r = requests.get(f"http://{host}/v2/{repo}/manifests/{tag}", headers={"accept": OCI_MANIFEST}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def blob(ref: str, digest: str) -> bytes:
    host, _, rest = ref.partition("/")
    repo = rest.partition(":")[0]
    r = requests.get(f"http://{host}/v2/{repo}/blobs/{digest}", timeout=30)
    assert r.status_code == 200, r.text
    assert "sha256:" + hashlib.sha256(r.content).hexdigest() == digest, "the registry served other bytes than its digest"
    return r.content


def test_the_artifact_layers_are_the_built_components_byte_for_byte(pushed):
    layers = oci_manifest(pushed)["layers"]
    wasm_layers = [layer["digest"] for layer in layers if layer["mediaType"] == WASM_LAYER]
    built = {f"sha256:{hashlib.sha256(wasm(c).read_bytes()).hexdigest()}": c for c in MANIFEST["component"]}
    assert sorted(wasm_layers) == sorted(built), "one Wasm layer per component, each the built .wasm"
    for digest in wasm_layers:
        assert blob(pushed, digest) == wasm(built[digest]).read_bytes(), built[digest]


def test_the_artifact_keeps_the_manifest_routes_allow_lists_and_variables(pushed):
    [config] = [layer for layer in oci_manifest(pushed)["layers"] if layer["mediaType"] == SPIN_CONFIG_LAYER]
    locked = json.loads(blob(pushed, config["digest"]))
    manifest = tomllib.loads((ROOT / "spin.toml").read_text())
    routes = sorted((t["component"], t["route"]) for t in manifest["trigger"]["http"])
    assert sorted((t["trigger_config"]["component"], t["trigger_config"]["route"]) for t in locked["triggers"]) == routes
    assert set(locked["variables"]) == set(manifest["variables"])
    components = {c["id"]: c for c in locked["components"]}
    assert set(components) == set(manifest["component"])
    for name, component in manifest["component"].items():
        assert components[name]["metadata"]["allowed_outbound_hosts"] == component["allowed_outbound_hosts"], name
        assert components[name]["config"] == component["variables"], name
        assert components[name]["env"] == component.get("environment", {}), name
        digest = components[name]["source"]["digest"]
        assert digest == f"sha256:{hashlib.sha256(wasm(name).read_bytes()).hexdigest()}", name


@pytest.mark.parametrize("component", sorted(MANIFEST["component"]))
def test_each_component_starts_from_the_artifact_alone(pushed, component):
    """Selective deployment from the artifact (`--component-id`), as each SpinApp runs one
    component: it serves its own routes and nothing of the others."""
    with serve(component, OWN_SIDECAR, manifest=pushed) as (_, remote), serve(component, OWN_SIDECAR) as (_, local):
        a, b = requests.get(f"{remote}/healthz", timeout=10), requests.get(f"{local}/healthz", timeout=10)
        assert (a.status_code, a.json()) == (b.status_code, b.json()) == (200, {"app_id": a.json()["app_id"], "status": "ok"})
        if component != "task-api":
            base = remote.removesuffix(MANIFEST["component"][component]["environment"]["ROUTE_PREFIX"])
            assert requests.get(f"{base}/api/tasks", timeout=10).status_code == 404, "another component's route answered"


def test_a_task_api_from_the_artifact_answers_like_the_local_build(pushed):
    user, stranger = User(), User()
    with serve("task-api", OWN_SIDECAR, manifest=pushed) as (_, remote), serve("task-api", OWN_SIDECAR) as (_, local):
        def both(method: str, path: str, who=user, **kw) -> tuple[requests.Response, requests.Response]:
            headers = {**(who.headers() if who else {}), **kw.pop("headers", {})}
            return tuple(requests.request(method, f"{base}{path}", headers=headers, timeout=30, **kw) for base in (remote, local))

        created = requests.post(f"{remote}/api/tasks", headers=user.headers(), timeout=30,
                                json={"title": "from the artifact", "priority": "high"})
        assert created.status_code == 201, created.text
        task = created.json()
        for r in both("GET", f"/api/tasks/{task['task_id']}"):
            assert r.status_code == 200 and r.json() == task
        # Errors are the same documents, byte for byte.
        for case in (("GET", f"/api/tasks/{task['task_id']}", stranger, {}),
                     ("POST", "/api/tasks", user, {"json": {"title": ""}}),
                     ("POST", "/api/tasks", user, {"data": "{not json", "headers": {"content-type": "application/json"}}),
                     ("GET", "/api/tasks", None, {}),
                     ("DELETE", "/api/tasks", user, {})):
            method, path, who, kw = case
            a, b = both(method, path, who, **kw)
            assert (a.status_code, a.headers.get("content-type"), a.content) == \
                   (b.status_code, b.headers.get("content-type"), b.content), case
            assert a.status_code >= 400 and a.headers["content-type"] == "application/problem+json", case
        listed = [r.json() for r in both("GET", "/api/tasks")]
        assert listed[0] == listed[1] and [t["task_id"] for t in listed[0]["items"]] == [task["task_id"]]
