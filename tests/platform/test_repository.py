"""Repository hygiene: no secret in any committed file, except the clearly local development
values kept in runtime-config/local/."""

from __future__ import annotations

import json
import subprocess

from support.stack import ROOT, TOOLS

ALLOWED_PREFIXES = ("runtime-config/local/",)
# Patches of upstream build manifests name git revisions (40 hex digits): only that kind of finding
# is accepted there.
PATCHES = "scripts/setup/patches/"
REVISION_ONLY = {"Hex High Entropy String"}


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [f for f in out.splitlines() if f and not f.startswith(ALLOWED_PREFIXES) and (ROOT / f).is_file()]


def test_detect_secrets_finds_nothing_outside_local_dev_config():
    files = tracked_files()
    assert len(files) > 20
    res = subprocess.run([str(TOOLS / "venv/bin/detect-secrets"), "scan", *files], cwd=ROOT,
                         check=True, capture_output=True, text=True)
    findings = {path: [(f["type"], f["line_number"]) for f in found]
                for path, found in json.loads(res.stdout)["results"].items()}
    findings = {path: found for path, found in findings.items()
                if not (path.startswith(PATCHES) and {kind for kind, _ in found} <= REVISION_ONLY)}
    assert findings == {}


def test_detect_secrets_would_catch_a_committed_key(tmp_path):
    leaked = tmp_path / "leak.py"
    leaked.write_text('AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYx9"\n'  # pragma: allowlist secret
                      'password = "hunter2-but-much-longer-Zq8#"\n')  # pragma: allowlist secret
    res = subprocess.run([str(TOOLS / "venv/bin/detect-secrets"), "scan", leaked.name], cwd=tmp_path,
                         check=True, capture_output=True, text=True)
    assert json.loads(res.stdout)["results"], "the scanner must flag an obvious secret"
