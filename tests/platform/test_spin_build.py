"""`spin build` builds the components through the manifest ([component.*.build] in spin.toml):
after a change to one component's sources, `spin build -c <component>` rebuilds exactly that
component's Wasm file, and the rebuilt component still serves."""

from __future__ import annotations

import os
import subprocess
import time

import requests

from support.runtime import serve, wasm
from support.stack import ENV, ROOT, TOOLS

COMPONENTS = ("task-api", "recurrence-engine", "reminder-dispatcher", "chat", "dashboard")


def test_spin_build_rebuilds_the_changed_component_only():
    before = {c: wasm(c).stat().st_mtime_ns for c in COMPONENTS}
    # A save of one of the Task API's sources (its content unchanged, so the tree stays as it is).
    source = ROOT / "components/task-api/src/lib.rs"
    now = time.time()
    os.utime(source, (now, now))
    build = subprocess.run([str(TOOLS / "bin/spin"), "build", "-f", str(ROOT / "spin.toml"), "-c", "task-api"],
                           cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    assert "Building component task-api" in build.stdout + build.stderr, build.stdout + build.stderr
    after = {c: wasm(c).stat().st_mtime_ns for c in COMPONENTS}
    assert after["task-api"] > before["task-api"], "spin build did not rebuild the changed component"
    assert {c: after[c] for c in COMPONENTS if c != "task-api"} == \
        {c: before[c] for c in COMPONENTS if c != "task-api"}, "spin build -c task-api touched other components"
    with serve("task-api", f"http://127.0.0.1:{ENV['DAPR_HTTP_BASE']}") as (_, url):
        assert requests.get(f"{url}/readyz", timeout=30).status_code == 200
