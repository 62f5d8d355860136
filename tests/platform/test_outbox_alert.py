"""The alert on parked outbox rows, end to end on the real stack: the Task API's `GET /metrics`
(`todo_outbox_parked_rows`) reflects the rows `scripts/dlq.sh list outbox` lists, and a real
Prometheus (the Debian package) scraping it with the platform's own rules
(k8s/observability/prometheus-rules.yaml) fires `OutboxRowsParked` after its minute and resolves
it once no row is parked.

Guards: rows were parked (issue 15, item 8) with nothing to tell anyone: no metric of them existed
and no alert, so a parked event stayed unseen until someone ran `dlq.sh` by hand."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
import yaml

from support.stack import ROOT, STACK, free_port, sidecar_headers, wait_until
from support.taskapi import BASE, psql

RULES = ROOT / "k8s/observability/prometheus-rules.yaml"
PARKED = "parked_at is not null and published_at is null"  # what scripts/dlq.sh list outbox lists


def gauge(name: str) -> float:
    r = requests.get(f"{BASE}/metrics", timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), r.text
    m = re.search(rf"^{name} (\S+)$", r.text, re.M)
    assert m, r.text
    return float(m.group(1))


def parked_in_db() -> int:
    return int(psql(f"select count(*) from outbox where {PARKED}")[0][0])


def dlq_listed(ids: list[str]) -> int:
    out = subprocess.run(["bash", str(ROOT / "scripts/dlq.sh"), "list", "outbox"], env={**os.environ, "STACK": STACK},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return sum(i in out.stdout for i in ids)


@pytest.fixture
def prometheus():
    binary = shutil.which("prometheus")
    assert binary, "prometheus missing (scripts/setup.sh apt installs the Debian package)"
    work = Path(tempfile.mkdtemp(prefix="prometheus-"))
    (work / "rules.yml").write_text(yaml.safe_dump(yaml.safe_load(RULES.read_text())["spec"]))
    target = BASE.removeprefix("http://")
    (work / "prometheus.yml").write_text(
        "global: {scrape_interval: 2s, evaluation_interval: 2s}\n"
        f"rule_files: [{work / 'rules.yml'}]\n"
        "scrape_configs:\n"
        f"  - job_name: task-api\n    static_configs: [{{targets: ['{target}']}}]\n")
    port = free_port()
    proc = subprocess.Popen([binary, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=open(work / "prometheus.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until("Prometheus ready", lambda: requests.get(f"{url}/-/ready", timeout=2).ok, timeout=60)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(work, ignore_errors=True)


def alert_state(url: str) -> str | None:
    alerts = requests.get(f"{url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    states = [a["state"] for a in alerts if a["labels"].get("alertname") == "OutboxRowsParked"]
    return states[0] if states else None


def scraped(url: str) -> float | None:
    result = requests.get(f"{url}/api/v1/query", params={"query": "max(todo_outbox_parked_rows)"},
                          timeout=10).json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def test_parked_outbox_rows_are_counted_and_raise_the_alert(prometheus):
    # Rows other tests left parked (test_outbox's poison rows) are set aside for the duration, so
    # the run starts from none parked; they are put back as they were afterwards.
    aside = [r[0] for r in psql(f"update outbox set published_at = now() where {PARKED} returning event_id")
             if len(r[0]) == 36]
    ours: list[str] = []
    try:
        assert gauge("todo_outbox_parked_rows") == parked_in_db() == 0
        wait_until("Prometheus scraped 0 parked rows", lambda: scraped(prometheus) == 0, timeout=30)
        time.sleep(5)
        assert alert_state(prometheus) is None

        # Rows that are not valid events (an empty source), parked by the real repair job.
        ours = [r[0] for r in psql(
            "insert into outbox (event_id, type, topic, user_id, payload, source, created_at) "
            "select gen_random_uuid(), 'v1.task.updated', 'task-modifications', 'parked-alert-probe', '{}'::jsonb, '', "
            "now() - interval '1 minute' "
            "from generate_series(1, 3) returning event_id") if len(r[0]) == 36]
        r = requests.post(f"{BASE}/job/outbox-repair", data=b"{}", headers=sidecar_headers(), timeout=120)
        assert r.status_code == 200 and r.json()["parked"] >= 3, r.text
        parked_at = time.monotonic()
        assert gauge("todo_outbox_parked_rows") == parked_in_db() == dlq_listed(ours) == 3

        wait_until("Prometheus scraped 3 parked rows", lambda: scraped(prometheus) == 3, timeout=30)
        assert alert_state(prometheus) in ("pending", None)
        wait_until("OutboxRowsParked firing", lambda: alert_state(prometheus) == "firing", timeout=120, interval=1)
        fired_s = time.monotonic() - parked_at
        assert fired_s >= 55, f"fired after {fired_s:.0f} s, before the rule's minute"

        # The cause is dealt with (here: the rows are removed); the alert resolves.
        psql("delete from outbox where event_id in ('" + "','".join(ours) + "')")
        assert gauge("todo_outbox_parked_rows") == parked_in_db() == 0
        resolved_at = time.monotonic()
        wait_until("OutboxRowsParked resolved", lambda: alert_state(prometheus) is None, timeout=60, interval=1)
        print(f"\nparked rows 3 → gauge 3 (= dlq.sh list outbox); OutboxRowsParked firing {fired_s:.0f} s after "
              f"parking (rule: for 1m), resolved {time.monotonic() - resolved_at:.0f} s after the rows were gone")
    finally:
        if ours:
            psql("delete from outbox where user_id = 'parked-alert-probe'")
        if aside:
            psql("update outbox set published_at = null where event_id in ('" + "','".join(aside) + "')")
