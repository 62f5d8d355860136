"""Schemathesis against the OpenAPI document the task-api serves: every check (no server error,
responses that follow the schema in status codes, content types, headers and bodies, invalid
requests refused, schema-valid requests accepted), in every phase (documented examples, coverage
of each schema keyword, fuzzing, stateful sequences through the documented links). Bounded: 40
examples per operation, fixed seed, about 20 s.

tests/platform/schemathesis.toml lists the few answers a schema-valid request may also get
because a rule cannot be written as JSON Schema (a phrase must parse, a cursor must come from a
previous page …). support/run_schemathesis.py works around a CPython 3.11.7 bug that aborted the
coverage phase."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.stack import TOOLS
from support.taskapi import BASE, token

HERE = Path(__file__).resolve().parent


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path):
    cmd = [
        str(TOOLS / "venv/bin/python"), str(HERE / "support/run_schemathesis.py"),
        "--config-file", str(HERE / "schemathesis.toml"), "run", f"{BASE}/api/openapi.json",
        "-H", f"Authorization: Bearer {token('schemathesis-user', lifetime=3600)}",
        "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", "40", "--seed", "20261126",
        "--workers", "2", "--no-color", "--report", "junit", "--report-dir", str(tmp_path),
    ]
    # Run from the temporary dir: schemathesis keeps its state in .schemathesis/ of the cwd.
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    tail = res.stdout[-6000:]
    print(tail)
    assert res.returncode == 0, tail + res.stderr[-3000:]
    assert " passed" in tail and "generated" in tail, tail
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in tail, (phase, tail)
