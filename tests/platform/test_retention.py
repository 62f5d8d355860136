"""Retention on the real stack: the Task API's `retention` job (scheduled through the Jobs API)
deletes only bookkeeping rows that nothing can need any more.

Guards: `outbox`, `processed_events`, `dashboard_changes`, `idempotency_keys` and `jobs` grew
forever. On the old code `POST /job/retention` answered 404 and no row was ever deleted."""

from __future__ import annotations

import uuid

import requests

from support.stack import ENV, sidecar_headers
from support.taskapi import BASE, psql

TASK_API_DAPR = f"http://127.0.0.1:{ENV['DAPR_HTTP_BASE']}"


def ago(days: float) -> str:
    return f"now() - interval '{days} days'"


def test_retention_removes_only_what_is_safe_to_remove():
    run = uuid.uuid4().hex[:8]
    user = f"retention-{run}"
    outbox = {}
    for name, published, parked, age in [
        ("old-published", True, False, 10), ("fresh-published", True, False, 1),
        ("old-unpublished", False, False, 10), ("old-parked", False, True, 10),
    ]:
        rows = psql(
            "insert into outbox (event_id, type, topic, user_id, payload, created_at, published_at, parked_at) "
            f"values (gen_random_uuid(), 'v1.task.updated', 'task-modifications', '{user}', '{{}}', {ago(age)}, "
            f"{ago(age) if published else 'null'}, {ago(age) if parked else 'null'}) returning event_id")
        outbox[name] = rows[0][0]
    # Parked and unpublished rows must not be picked up by the repair job meanwhile.
    psql(f"update outbox set parked_at = coalesce(parked_at, now()) where user_id = '{user}' and published_at is null")
    psql("insert into processed_events (consumer, event_id, processed_at) values "
         f"('retention-test', '{run}-old', {ago(32)}), ('retention-test', '{run}-fresh', {ago(20)})")
    psql("insert into dashboard_changes (event_id, user_id, seq, event_type, recorded_at) values "
         f"('{run}-old', '{user}', 1, 'v1.task.updated', {ago(8)}), "
         f"('{run}-fresh', '{user}', 2, 'v1.task.updated', now())")
    psql("insert into idempotency_keys (user_id, key, request_hash, task_id, response, created_at) values "
         f"('{user}', 'old', 'h', gen_random_uuid(), '{{}}', {ago(8)}), "
         f"('{user}', 'fresh', 'h', gen_random_uuid(), '{{}}', now())")
    psql("insert into jobs (name, kind, data, scheduled_at, last_run_at, runs) values "
         f"('{run}-one-shot-old', 'test', '{{}}', {ago(40)}, {ago(31)}, 1), "
         f"('{run}-recurring-old', 'test', '{{\"schedule\": \"@every 1h\"}}', {ago(40)}, {ago(31)}, 5), "
         f"('{run}-never-ran', 'test', '{{}}', {ago(40)}, null, 0), "
         f"('{run}-one-shot-fresh', 'test', '{{}}', {ago(2)}, {ago(1)}, 1)")

    r = requests.post(f"{BASE}/job/retention", data=b"{}", headers=sidecar_headers(), timeout=120)
    assert r.status_code == 200, r.text
    deleted = r.json()["deleted"]
    assert set(deleted) == {"outbox", "processed_events", "dashboard_changes", "idempotency_keys", "jobs"}
    assert all(n >= 1 for n in deleted.values()), deleted

    kept_outbox = {row[0] for row in psql(f"select event_id from outbox where user_id = '{user}'")}
    assert outbox["old-published"] not in kept_outbox
    assert {outbox["fresh-published"], outbox["old-unpublished"], outbox["old-parked"]} <= kept_outbox
    assert psql(f"select event_id from processed_events where event_id like '{run}-%'") == [[f"{run}-fresh"]]
    assert psql(f"select event_id from dashboard_changes where user_id = '{user}'") == [[f"{run}-fresh"]]
    assert psql(f"select key from idempotency_keys where user_id = '{user}'") == [["fresh"]]
    assert sorted(r[0] for r in psql(f"select name from jobs where name like '{run}-%'")) == sorted(
        [f"{run}-recurring-old", f"{run}-never-ran", f"{run}-one-shot-fresh"])
    psql(f"delete from outbox where user_id = '{user}'")


def test_the_retention_job_is_scheduled_through_the_jobs_api():
    assert requests.get(f"{BASE}/readyz", timeout=30).status_code == 200
    r = requests.get(f"{TASK_API_DAPR}/v1.0-alpha1/jobs/retention", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["schedule"] == "@every 10m"
