"""Spin's `allowed_outbound_hosts` is each component's only way out: the manifest allows exactly
the component's own sidecar (`{{ dapr_url }}`), so a component pointed anywhere else — PostgreSQL,
Kafka, another app's sidecar — is refused by Spin before a byte leaves, and answers 503.

Each case runs the real component under Spin with a copy of the root spin.toml in which only the
address the component *calls* is rebound to a second variable (`target_url`); the allow-list is the
manifest's own, still bound to `dapr_url` (the component's own daprd)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import requests

from support.runtime import serve
from support.stack import ENV, ROOT

OWN_SIDECAR = f"http://127.0.0.1:{ENV['DAPR_HTTP_BASE']}"  # the task-api's daprd
CHAT_SIDECAR = f"http://127.0.0.1:{int(ENV['DAPR_HTTP_BASE']) + 3}"
TARGETS = {
    "postgres": f"http://127.0.0.1:{ENV['PG_PORT']}",
    "kafka": f"http://127.0.0.1:{ENV['KAFKA_PORT']}",
    "chat-sidecar": CHAT_SIDECAR,
}


def redirected_manifest(component: str, directory: Path) -> Path:
    """The root manifest with `component`'s `dapr_url` variable bound to `{{ target_url }}` and
    every `source` made absolute (the copy lives elsewhere); the allow-list is left as it is."""
    text = (ROOT / "spin.toml").read_text()
    section = f"[component.{component}.variables]\ndapr_url = \"{{{{ dapr_url }}}}\""
    assert section in text, "spin.toml no longer binds the component variable to the app variable"
    text = text.replace(section, f"[component.{component}.variables]\ndapr_url = \"{{{{ target_url }}}}\"")
    text = text.replace("[variables]\n", "[variables]\ntarget_url = { default = \"\" }\n", 1)
    text = re.sub(r'^source = "([^"/][^"]*)"', lambda m: f'source = "{ROOT / m.group(1)}"', text, flags=re.M)
    path = directory / "spin.toml"
    path.write_text(text)
    return path


def test_the_manifest_allows_each_component_only_its_own_sidecar():
    import tomllib
    manifest = tomllib.loads((ROOT / "spin.toml").read_text())
    for name, component in manifest["component"].items():
        assert component["allowed_outbound_hosts"] == ["{{ dapr_url }}"], name
        assert component["variables"]["dapr_url"] == "{{ dapr_url }}", name


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_spin_refuses_a_call_to_anything_but_the_own_sidecar(target):
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as err:
        manifest = redirected_manifest("task-api", Path(tmp))
        with serve("task-api", OWN_SIDECAR, manifest=manifest, variables={"target_url": TARGETS[target]},
                   stderr=err) as (_, url):
            r = requests.get(f"{url}/readyz", timeout=30)
            assert r.status_code == 503, r.text
            assert r.headers["content-type"] == "application/problem+json"
        err.seek(0)
        log = err.read().decode(errors="replace")
    # Spin refused it (its own log line), and the component saw the refusal, not a network error.
    assert f"Outbound network destination not allowed: {TARGETS[target]}" in log, log[-2000:]
    assert "HttpRequestDenied" in log, log[-2000:]


def test_spin_lets_the_component_reach_its_own_sidecar():
    """The positive case, through the same redirected manifest: target = the own sidecar."""
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as err:
        manifest = redirected_manifest("task-api", Path(tmp))
        with serve("task-api", OWN_SIDECAR, manifest=manifest, variables={"target_url": OWN_SIDECAR},
                   stderr=err) as (_, url):
            r = requests.get(f"{url}/readyz", timeout=30)
            assert r.status_code == 200, r.text
        err.seek(0)
        assert "not allowed" not in err.read().decode(errors="replace")
