"""The deploy workflow's post-deploy end-to-end check (scripts/ci/post_deploy.py), run unchanged
against this stack: smoke checks, then with a throw-away user a recurring task with a reminder is
created and completed, its next instance appears with the reminder, that reminder's job is in the
Dapr scheduler, and everything is cleaned up (no pending task of the user is left)."""

from __future__ import annotations

import os
import subprocess
import sys

from support.stack import ROOT, app_url
from support.taskapi import SECRET, psql

SCRIPT = ROOT / "scripts/ci/post_deploy.py"


def run(**env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=240,
                          env={**os.environ, "BASE_URL": app_url("task-api"), "JWT_SECRET": SECRET.decode(), **env})


def test_the_post_deploy_check_passes_on_a_working_stack_and_leaves_nothing_behind():
    p = run()
    assert p.returncode == 0, p.stdout + p.stderr
    assert "is in the Dapr scheduler" in p.stdout and "post-deploy: passed" in p.stdout, p.stdout
    user = next(line.split(" for ")[-1] for line in p.stdout.splitlines() if "created recurring task" in line)
    assert psql(f"select count(*) from tasks where user_id = '{user}' and status = 'pending'") == [["0"]]
