"""Secret-store reads per request, counted by the Task API's own daprd
(`dapr_component_secret_count`, its Prometheus metrics).

Guards: every request read both JWT secrets (two reads per request, and in Azure two Key Vault
calls, which throttles). A token signed with the current secret now costs one read; the previous
secret is read only for a token the current one does not sign (during a rotation), and such a
token is still accepted without a restart."""

from __future__ import annotations

import re

import requests

from support.stack import ENV
from support.taskapi import BASE, PREVIOUS_SECRET, User, token

METRICS = f"http://127.0.0.1:{int(ENV['PORT_OFFSET']) + 9190}/metrics"


def secret_reads() -> int:
    text = requests.get(METRICS, timeout=10).text
    return sum(int(float(m.group(1))) for m in re.finditer(
        r'^dapr_component_secret_count\{[^}]*app_id="task-api"[^}]*\} (\S+)$', text, re.M))


def test_a_request_with_a_current_token_reads_one_secret():
    user = User()
    before = secret_reads()
    for _ in range(50):
        assert requests.get(f"{BASE}/api/tasks", headers=user.headers(), timeout=30).status_code == 200
    reads = secret_reads() - before
    print(f"\nsecret reads for 50 authenticated requests: {reads}")
    assert reads == 50, reads


def test_a_token_of_the_previous_secret_costs_a_second_read_and_is_accepted():
    user = User()
    old = token(user.id, secret=PREVIOUS_SECRET)
    before = secret_reads()
    for _ in range(10):
        r = requests.get(f"{BASE}/api/tasks", headers={"authorization": f"Bearer {old}"}, timeout=30)
        assert r.status_code == 200, r.text
    assert secret_reads() - before == 20
