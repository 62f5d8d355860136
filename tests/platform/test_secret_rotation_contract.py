"""Contract: how the real daprd picks up a rotated secret (what scripts/chaos.sh's rotation relies
on). The local file secret store reads its file once at init; HotReload (on by default in Dapr
1.18) re-initialises a component whose resource file changed, and a read that meets the store's
reload is refused with a secret-store error the components retry (usually none does); the
PostgreSQL binding resolves its secretKeyRef at init, so it takes a new connection
string only when it is itself reloaded, and calls that meet it mid-reload are refused with
messages the components retry (the statement never ran); a store reload that drops a key a
reloaded component references makes daprd exit at the next reconcile that re-resolves it."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from support.dapr import Sidecar
from support.stack import wait_until

# What daprd answers for a binding mid-reload (components/component-kit/src/dapr.rs, RELOADING).
RELOADING = ("couldn't find output binding", "component is closed", "closed pool")
DIAL_CANCELLED = ("context canceled", "operation was canceled")


# What daprd answers for a secret read mid-reload (component-kit's is_secret_store_reloading).
STORE_RELOADING = ("ERR_SECRET_STORES_NOT_CONFIGURED", "ERR_SECRET_STORE_NOT_FOUND")


def reloading(body: str) -> bool:
    return "ERR_INVOKE_OUTPUT_BINDING" in body and (
        any(m in body for m in RELOADING)
        or ("failed to connect" in body and any(m in body for m in DIAL_CANCELLED)))


@pytest.fixture
def rotating(app):
    s = Sidecar("contract-rotation", app.port, subscriptions=False).start()
    yield s
    s.cleanup()


def point_store(sidecar: Sidecar, file: str, secrets: dict) -> None:
    (sidecar.resources / file).write_text(json.dumps(secrets))
    yaml = sidecar.resources / "secrets.yaml"
    text = yaml.read_text()
    old = text.split("secretsFile", 1)[1].split('value: "', 1)[1].split('"', 1)[0]
    tmp = sidecar.dir / "secrets.yaml.tmp"
    tmp.write_text(text.replace(old, str(sidecar.resources / file)))
    tmp.replace(yaml)


def point_binding(sidecar: Sidecar, key: str) -> None:
    yaml = sidecar.resources / "tasks-db.yaml"
    text = yaml.read_text()
    old = text.split("key: ", 1)[1].split("\n", 1)[0]
    tmp = sidecar.dir / "tasks-db.yaml.tmp"
    tmp.write_text(text.replace(f"name: {old}\n", f"name: {key}\n").replace(f"key: {old}\n", f"key: {key}\n"))
    tmp.replace(yaml)


def secret(sidecar: Sidecar, key: str) -> str | None:
    r = requests.get(f"{sidecar.url}/v1.0/secrets/local-secrets/{key}", timeout=5)
    return r.json().get(key) if r.ok else None


def application_name(sidecar: Sidecar) -> requests.Response:
    return requests.post(f"{sidecar.url}/v1.0/bindings/tasks-db", timeout=10, json={
        "operation": "query", "metadata": {"sql": "select current_setting('application_name')"}})


class Hammer:
    """Calls `fn` in a loop on a few threads; keeps every non-2xx answer."""

    def __init__(self, fn, threads: int = 3):
        self.fn, self.ok, self.failed, self._stop = fn, 0, [], threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self):
        while not self._stop.is_set():
            r = self.fn()
            if r.ok:
                self.ok += 1
            else:
                self.failed.append((r.status_code, r.text))

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(10)


def test_rotated_secrets_need_a_store_reload_and_a_binding_reload(rotating, uid):
    s = rotating
    base = json.loads((s.resources / "secrets.json").read_text())
    conn = base["tasks-db-connection"]
    # 1. Editing the store's file changes nothing: the file is read at init only.
    (s.resources / "secrets.json").write_text(json.dumps({**base, "greeting": f"edited-{uid}"}))
    time.sleep(3)
    assert secret(s, "greeting") == "hello-from-the-secret-store"

    # 2. Pointing the store at a new file reloads it. Reads meanwhile are served, or refused
    # with a secret-store error while no store is registered (most runs refuse none; one saw
    # two): the components retry those, so nothing else may appear.
    with Hammer(lambda: requests.get(f"{s.url}/v1.0/secrets/local-secrets/greeting", timeout=5)) as reads:
        point_store(s, f"secrets-v2-{uid}.json", {**base, "greeting": f"v2-{uid}"})
        wait_until("the store serving the new file", lambda: secret(s, "greeting") == f"v2-{uid}", 20, 0.05)
        time.sleep(0.5)
    print(f"\nstore reload: {reads.ok} reads served, {len(reads.failed)} refused")
    assert reads.ok > 0
    for status, body in reads.failed:
        assert status == 500 and any(m in body for m in STORE_RELOADING), body

    # 3. The binding keeps its connection string until its own resource changes: a new key.
    key = f"tasks-db-connection-v3-{uid}"
    point_store(s, f"secrets-v3-{uid}.json", {**base, key: f"{conn} application_name=rotated-{uid}"})
    wait_until("the store serving the new key", lambda: secret(s, key) is not None, 20, 0.05)
    time.sleep(2)
    before = application_name(s)
    assert before.ok and before.json()[0][0] != f"rotated-{uid}", before.text
    with Hammer(lambda: application_name(s)) as calls:
        point_binding(s, key)
        wait_until("the binding on the new connection string",
                   lambda: (r := application_name(s)).ok and r.json() == [[f"rotated-{uid}"]], 20, 0.05)
        time.sleep(0.5)
    assert calls.ok > 0
    for status, body in calls.failed:
        assert status == 500 and reloading(body), body

    # 4. Once the store no longer holds the key the binding references, the next reconcile that
    # re-resolves the binding fails its re-init and daprd exits. daprd reloads the store and the
    # binding concurrently, so the reconcile of the store's own change may still resolve the old
    # key; the next one (any change in the resources directory, or Dapr's 60 s tick) does not.
    point_store(s, f"secrets-v4-{uid}.json", base)

    last_change = time.monotonic()

    def exited_or_nudged() -> bool:
        nonlocal last_change
        if s.proc.poll() is not None:
            return True
        if time.monotonic() - last_change > 3:
            (s.resources / "reconcile-nudge.json").write_text(str(time.monotonic()))
            last_change = time.monotonic()
        return False

    wait_until("daprd exiting", exited_or_nudged, 30, 0.2)
    assert "secret tasks-db-connection-v3" in s.tail(20000) and "not found" in s.tail(20000)
