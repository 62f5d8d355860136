"""Schemathesis against the OpenAPI document the task-api serves: no server error, no response
that violates the schema (status codes, content types, headers, bodies), invalid requests
refused. Bounded: 40 examples per operation, fixed seed, about 15 s.

`positive_data_acceptance` is left out: the API validates more than a schema can say (a time
zone must exist, an end date must be in the future, a title must not be blank) and answers 422.
The coverage phase is left out because it crashes inside hypothesis 6.170 on Python 3.11
("AST constructor recursion depth mismatch"), before any request is sent."""

from __future__ import annotations

import subprocess

from support.stack import TOOLS
from support.taskapi import BASE, token


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path):
    cmd = [
        str(TOOLS / "venv/bin/st"), "run", f"{BASE}/api/openapi.json",
        "-H", f"Authorization: Bearer {token('schemathesis-user', lifetime=3600)}",
        "--checks", "all", "--exclude-checks", "positive_data_acceptance",
        "--phases", "examples,fuzzing,stateful", "--max-examples", "40", "--seed", "20261126",
        "--workers", "2", "--no-color", "--report", "junit", "--report-dir", str(tmp_path),
    ]
    # Run from the temporary dir: schemathesis keeps its state in .schemathesis/ of the cwd.
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    tail = res.stdout[-6000:]
    print(tail)
    assert res.returncode == 0, tail
    assert " passed" in tail and "generated" in tail, tail
