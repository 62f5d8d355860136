"""Contract tests: each fact of shared/dapr-contract.md the platform relies on, pinned against the
real daprd, Kafka, scheduler and PostgreSQL of the test stack."""

from __future__ import annotations

import json
import time

import requests

from support import kafka
from support.stack import wait_until

CE = "application/cloudevents+json"


def cloud_event(event_id: str, data: dict, etype: str = "v1.contract.ping") -> str:
    return json.dumps({
        "specversion": "1.0", "id": event_id, "source": "/contract-tests", "type": etype,
        "time": "2026-11-26T09:00:00Z", "datacontenttype": "application/json", "data": data,
    })


def publish(sidecar, topic: str, body: str, key: str | None = None, content_type: str = CE,
            pubsub: str = "pubsub") -> requests.Response:
    params = {"metadata.partitionKey": key} if key else {}
    return requests.post(f"{sidecar.url}/v1.0/publish/{pubsub}/{topic}", data=body, params=params,
                         headers={"content-type": content_type}, timeout=10)


def deliveries(app, route: str, event_id: str):
    return [r for r in app.on(route) if r.json().get("id") == event_id]


def scripted(app, route: str, plan: dict):
    """Answers deliveries by event id: plan[id] is a list of (status, body), the last repeats."""
    seen: dict[str, int] = {}

    def handler(rec):
        eid = rec.json().get("id")
        steps = plan.get(eid, [(200, b"")])
        n = seen.get(eid, 0)
        seen[eid] = n + 1
        return steps[min(n, len(steps) - 1)]

    app.route(route, fn=handler)
    app.route("/dlq", 200, b"")


# ---- pub/sub -----------------------------------------------------------------------------------

def test_publish_keeps_app_cloudevent_id_and_partition_key(app, sidecar, uid):
    scripted(app, "/events", {})
    eid = f"evt-{uid}"
    resp = publish(sidecar, "contract-events", cloud_event(eid, {"n": 1}), key=f"user-{uid}")
    assert resp.status_code == 204, resp.text

    got = wait_until("delivery", lambda: deliveries(app, "/events", eid), 30)
    rec = got[0]
    assert rec.headers["content-type"].startswith(CE)
    body = rec.json()
    assert body["id"] == eid and body["type"] == "v1.contract.ping" and body["data"] == {"n": 1}
    assert body["topic"] == "contract-events" and body["pubsubname"] == "pubsub"

    def keyed():
        return [k for k, v in kafka.read_topic("contract-events", 10_000, 8000) if eid in v]
    assert wait_until("message on Kafka", keyed, 60) == [f"user-{uid}"]


def test_plain_json_is_wrapped_in_a_dapr_cloudevent_with_its_own_id(app, sidecar, uid):
    scripted(app, "/events", {})
    marker = f"plain-{uid}"
    resp = publish(sidecar, "contract-events", json.dumps({"marker": marker}), content_type="application/json")
    assert resp.status_code == 204, resp.text

    def found():
        return [r.json() for r in app.on("/events") if r.json().get("data", {}).get("marker") == marker]
    body = wait_until("wrapped delivery", found, 30)[0]
    assert body["specversion"] == "1.0" and body["id"] and body["id"] != marker
    assert body["source"] == "contract" and body["type"] == "com.dapr.event.sent"


def test_unknown_pubsub_answers_404(sidecar, uid):
    resp = publish(sidecar, "contract-events", cloud_event(f"x-{uid}", {}), pubsub="no-such-pubsub")
    assert resp.status_code == 404, resp.text


def test_retry_redelivers_drop_and_404_dead_letter(app, sidecar, uid):
    retry, drop, missing = f"retry-{uid}", f"drop-{uid}", f"missing-{uid}"
    scripted(app, "/events", {
        retry: [(200, {"status": "RETRY"}), (200, {"status": "SUCCESS"})],
        drop: [(200, {"status": "DROP"})],
        missing: [(404, b"")],
    })
    for i, eid in enumerate((retry, drop, missing)):
        assert publish(sidecar, "contract-events", cloud_event(eid, {}), key=f"k{i}-{uid}").status_code == 204

    got = wait_until("RETRY then SUCCESS", lambda: len(deliveries(app, "/events", retry)) >= 2 or None, 40)
    assert got
    wait_until("DROP dead-lettered", lambda: deliveries(app, "/dlq", drop), 40)
    wait_until("404 dead-lettered", lambda: deliveries(app, "/dlq", missing), 40)
    time.sleep(6)  # a further retry would arrive 5 s later
    assert len(deliveries(app, "/events", retry)) == 2
    assert len(deliveries(app, "/events", drop)) == 1, "DROP must not be retried"
    assert len(deliveries(app, "/events", missing)) == 1, "404 must not be retried"
    assert deliveries(app, "/dlq", retry) == []
    dead = deliveries(app, "/dlq", drop)[0].json()
    assert dead["id"] == drop and dead["type"] == "v1.contract.ping", "the original event is dead-lettered"


def test_resiliency_retries_three_times_five_seconds_apart_then_dead_letters(app, sidecar, uid):
    failing = f"fail-{uid}"
    scripted(app, "/events", {failing: [(500, b"boom")]})
    assert publish(sidecar, "contract-events", cloud_event(failing, {}), key=f"f-{uid}").status_code == 204

    wait_until("dead letter after retries", lambda: deliveries(app, "/dlq", failing), 60)
    attempts = deliveries(app, "/events", failing)
    assert len(attempts) == 4, f"expected 1 try + 3 retries, got {len(attempts)}"
    gaps = [b.at - a.at for a, b in zip(attempts, attempts[1:])]
    assert all(4.0 <= g <= 8.0 for g in gaps), f"retry spacing {gaps} is not ~5 s"


def test_bulk_delivery_carries_events_in_order_and_answers_each_entry(app, sidecar, uid):
    """A subscription with bulkSubscribe: one request holds several events of a partition, in
    publish order, each entry's `event` the CloudEvent itself; the app answers one status per
    entryId: RETRY redelivers that entry alone, DROP dead-letters the original event, SUCCESS
    is final (the consumers' bulk answers rely on exactly this)."""
    ids = [f"bulk{i}-{uid}" for i in range(6)]
    retry, drop = ids[2], ids[4]
    seen: dict[str, int] = {}

    def handler(rec):
        statuses = []
        for entry in rec.json().get("entries", []):
            eid = entry["event"]["id"]
            seen[eid] = seen.get(eid, 0) + 1
            status = "SUCCESS"
            if eid == retry and seen[eid] == 1:
                status = "RETRY"
            elif eid == drop:
                status = "DROP"
            statuses.append({"entryId": entry["entryId"], "status": status})
        return 200, {"statuses": statuses}

    app.route("/bulk", fn=handler)
    app.route("/dlq", 200, b"")
    for eid in ids:
        assert publish(sidecar, "contract-bulk", cloud_event(eid, {"n": eid}), key=f"user-{uid}").status_code == 204

    wait_until("every event delivered, the retried one twice",
               lambda: all(seen.get(e) for e in ids) and seen.get(retry) == 2 or None, 40)
    wait_until("DROP dead-lettered", lambda: deliveries(app, "/dlq", drop), 40)
    time.sleep(3)
    batches = [r.json() for r in app.on("/bulk")
               if any(e["event"]["id"] in ids for e in r.json().get("entries", []))]
    first = batches[0]["entries"]
    assert len(first) > 1, "events published within the wait arrive in one request"
    assert first[0]["event"]["type"] == "v1.contract.ping" and first[0]["event"]["data"] == {"n": ids[0]}
    order = [e["event"]["id"] for b in batches for e in b["entries"]]
    assert order[:len(ids)] == ids, "entries keep the partition's order"
    assert order[len(ids):] == [retry], "only the RETRY entry is delivered again"
    assert {e: seen[e] for e in ids if e != retry} == {e: 1 for e in ids if e != retry}
    assert deliveries(app, "/dlq", drop)[0].json()["id"] == drop
    assert deliveries(app, "/dlq", retry) == []


# ---- Jobs API ----------------------------------------------------------------------------------

def jobs_url(sidecar, name: str) -> str:
    return f"{sidecar.url}/v1.0-alpha1/jobs/{name}"


def test_jobs_create_conflict_overwrite_get_delete(sidecar, uid):
    name = f"contract-{uid}"
    job = {"dueTime": "1h", "data": {"series_id": "s-1"}}
    assert requests.post(jobs_url(sidecar, name), json=job, timeout=10).status_code == 204
    again = requests.post(jobs_url(sidecar, name), json=job, timeout=10)
    assert again.status_code == 409, again.text
    over = requests.post(jobs_url(sidecar, name), json={**job, "data": {"series_id": "s-2"}, "overwrite": True}, timeout=10)
    assert over.status_code == 204, over.text
    got = requests.get(jobs_url(sidecar, name), timeout=10)
    assert got.status_code == 200, got.text
    # Dapr 1.18 answers GET with the data wrapped as a protobuf Any (the trigger gets it bare),
    # and shows the default failure policy (constant 1 s x 3) when none was given.
    assert got.json()["data"] == {"@type": "type.googleapis.com/google.protobuf.Value", "value": {"series_id": "s-2"}}
    assert got.json()["failurePolicy"] == {"constant": {"interval": "1s", "maxRetries": 3}}
    assert requests.delete(jobs_url(sidecar, name), timeout=10).status_code == 204
    missing = requests.get(jobs_url(sidecar, name), timeout=10)
    assert missing.status_code == 500, f"GET of a missing job answers {missing.status_code}"
    assert requests.delete(jobs_url(sidecar, f"never-{uid}"), timeout=10).status_code == 204


def test_job_trigger_posts_data_only_and_failure_policy_retries(app, sidecar, uid):
    ok_name, failing = f"ok-{uid}", f"failing-{uid}"
    app.route(f"/job/{ok_name}", 200, b"")
    app.route(f"/job/{failing}", 500, b"nope")
    policy = {"constant": {"interval": "1s", "max_retries": 3}}
    for name in (ok_name, failing):
        body = {"dueTime": "1s", "data": {"job": name}, "failure_policy": policy}
        r = requests.post(jobs_url(sidecar, name), json=body, timeout=10)
        assert r.status_code == 204, r.text

    hit = wait_until("job trigger", lambda: app.on(f"/job/{ok_name}"), 30)[0]
    assert hit.json() == {"job": ok_name}, f"trigger body is the job's data only: {hit.body!r}"
    wait_until("failing job retried", lambda: len(app.on(f"/job/{failing}")) >= 4 or None, 30)
    time.sleep(3)
    assert len(app.on(f"/job/{ok_name}")) == 1
    assert len(app.on(f"/job/{failing}")) == 4, "1 try + max_retries 3"


def test_job_trigger_answered_404_counts_as_success(app, sidecar, uid):
    name = f"lost-{uid}"  # no route registered: the app answers 404
    policy = {"constant": {"interval": "1s", "max_retries": 3}}
    r = requests.post(jobs_url(sidecar, name), json={"dueTime": "1s", "data": {}, "failure_policy": policy}, timeout=10)
    assert r.status_code == 204, r.text
    wait_until("job trigger", lambda: app.on(f"/job/{name}"), 30)
    time.sleep(4)
    assert len(app.on(f"/job/{name}")) == 1, "404 is taken as success: never retried"


# ---- secrets, bindings, state -----------------------------------------------------------------

def test_secret_store_reads_and_unknown_store_answers_401(sidecar):
    r = requests.get(f"{sidecar.url}/v1.0/secrets/local-secrets/greeting", timeout=10)
    assert r.status_code == 200 and r.json() == {"greeting": "hello-from-the-secret-store"}
    unknown = requests.get(f"{sidecar.url}/v1.0/secrets/no-such-store/greeting", timeout=10)
    assert unknown.status_code == 401, unknown.text


def binding(sidecar, operation: str, sql: str, params=None) -> requests.Response:
    meta = {"sql": sql}
    if params is not None:
        meta["params"] = params
    return requests.post(f"{sidecar.url}/v1.0/bindings/tasks-db",
                         json={"operation": operation, "metadata": meta}, timeout=10)


def test_postgres_binding_takes_params_as_a_json_string(sidecar, uid):
    ddl = binding(sidecar, "exec", "create table if not exists contract_binding (id text primary key, n int, at timestamptz)")
    assert ddl.status_code == 200, ddl.text
    ins = binding(sidecar, "exec", "insert into contract_binding values ($1, $2, now())", json.dumps([uid, 42]))
    assert ins.status_code == 200, ins.text
    assert ins.text == ""
    q = binding(sidecar, "query", "select id, n, n::text from contract_binding where id = $1", json.dumps([uid]))
    assert q.status_code == 200, q.text
    assert q.json() == [[uid, 42, "42"]]
    as_array = requests.post(f"{sidecar.url}/v1.0/bindings/tasks-db", timeout=10, json={
        "operation": "query", "metadata": {"sql": "select $1::text", "params": [uid]}})
    assert as_array.status_code >= 400, "params as a JSON array is refused"
    quote = "it's; drop table x; --"
    ins = binding(sidecar, "exec", "insert into contract_binding values ($1, 0, now())", json.dumps([quote + uid]))
    assert ins.status_code == 200
    q = binding(sidecar, "query", "select id from contract_binding where id = $1", json.dumps([quote + uid]))
    assert q.json() == [[quote + uid]], "bound parameters keep SQL metacharacters verbatim"


def test_postgres_binding_query_hides_errors_raised_while_executing(sidecar, uid):
    """`query` never checks pgx's rows.Err(): an error the server raises while executing answers
    200 with the rows read so far, like an empty result; only errors raised before execution
    (parse, plan) answer 500. Every component query is therefore sent through
    store::guard::guard, whose completion row tells the two apart."""
    failed = binding(sidecar, "query", "select 1 / (n - 42) from (select $1::int as n) s", json.dumps([42]))
    assert failed.status_code == 200 and failed.json() == [], failed.text
    ok = binding(sidecar, "query", "select 1 / (n - 42) from (select $1::int as n) s", json.dumps([43]))
    assert ok.status_code == 200 and ok.json() == [[1]], ok.text
    unknown = binding(sidecar, "query", f"select * from no_such_table_{uid.replace('-', '_')}")
    assert unknown.status_code == 500 and "SQLSTATE 42P01" in unknown.text, unknown.text
    # The guarded shape: a completion count leads every row, a failed statement answers none.
    tail = ("select __row.* from (select 1) __one left join "
            "(select count(*) over () as __rows, __done.* from __done) __row on true")
    guarded = f"with __done as (select 1 / (n - 42) as q from (select $1::int as n) s) {tail}"
    assert binding(sidecar, "query", guarded, json.dumps([42])).json() == []
    assert binding(sidecar, "query", guarded, json.dumps([43])).json() == [[1, 1]]
    empty = f"with __done as (select 1 as q where $1::int = 0) {tail}"
    assert binding(sidecar, "query", empty, json.dumps([1])).json() == [[None, None]]


def test_state_store_etags_and_missing_keys(sidecar, uid):
    url = f"{sidecar.url}/v1.0/state/chat-state"
    key = f"conv-{uid}"
    assert requests.post(url, json=[{"key": key, "value": {"turns": 1}}], timeout=10).status_code == 204
    got = requests.get(f"{url}/{key}", timeout=10)
    assert got.status_code == 200 and got.json() == {"turns": 1}
    etag = got.headers["etag"]
    assert etag
    stale = requests.post(url, json=[{"key": key, "value": {"turns": 2}, "etag": "00000000-0000-0000-0000-000000000000"}], timeout=10)
    assert stale.status_code == 409, stale.text
    fresh = requests.post(url, json=[{"key": key, "value": {"turns": 2}, "etag": etag}], timeout=10)
    assert fresh.status_code == 204, fresh.text
    assert requests.get(f"{url}/{key}", timeout=10).headers["etag"] != etag
    missing = requests.get(f"{url}/absent-{uid}", timeout=10)
    assert missing.status_code == 204 and missing.text == ""


def test_only_the_scheduling_app_id_receives_the_job_trigger(app, sidecar, uid):
    from support.app import DeliveryRecorder
    from support.dapr import Sidecar
    from support.stack import free_port

    other_app = DeliveryRecorder(free_port()).start()
    other = Sidecar("contract-other", other_app.port, subscriptions=False).start()
    try:
        name = f"scoped-{uid}"
        app.route(f"/job/{name}", 200, b"")
        other_app.route(f"/job/{name}", 200, b"")
        r = requests.post(jobs_url(sidecar, name), json={"dueTime": "1s", "data": {"by": "contract"}}, timeout=10)
        assert r.status_code == 204, r.text
        wait_until("trigger at the scheduling app", lambda: app.on(f"/job/{name}"), 30)
        time.sleep(2)
        assert other_app.on(f"/job/{name}") == [], "another app id must never receive the trigger"
        # Jobs are namespaced by app id: the other app does not even see a pending job.
        later = f"scoped-later-{uid}"
        assert requests.post(jobs_url(sidecar, later), json={"dueTime": "1h", "data": {"by": "contract"}}, timeout=10).status_code == 204
        assert requests.get(jobs_url(sidecar, later), timeout=10).status_code == 200
        assert requests.get(jobs_url(other, later), timeout=10).status_code == 500
        assert requests.delete(jobs_url(sidecar, later), timeout=10).status_code == 204
    finally:
        other.cleanup()
        other_app.stop()


def test_job_without_data_cannot_be_read_back(sidecar, uid):
    # Observed on 1.18.2: a job scheduled without `data` is accepted, but GET answers 500, as it
    # does for a missing job. The platform always sends data, so GET stays meaningful.
    name = f"nodata-{uid}"
    assert requests.post(jobs_url(sidecar, name), json={"dueTime": "1h"}, timeout=10).status_code == 204
    assert requests.get(jobs_url(sidecar, name), timeout=10).status_code == 500
    assert requests.delete(jobs_url(sidecar, name), timeout=10).status_code == 204
