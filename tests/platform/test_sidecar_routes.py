"""Routes only the Dapr sidecar may call need its app API token.

Guards: every component's Dapr-facing routes (`POST /job/...`, the subscription deliveries
`POST /events/...`, `GET /dapr/...`; and `GET /internal/...`, reached by service invocation) were open to anyone who reached the app port (under Kubernetes
the ingress forwarded `/job/...` and `/dashboard/events/...`): a caller could trigger outbox
repairs or write a forged change into any user's dashboard log. Each daprd now runs with
`APP_API_TOKEN` and sends it as `dapr-api-token`; each component compares it with the
`app-api-token` secret and answers 401 without it. On the old code every request below was
served (200/404), not refused."""

from __future__ import annotations

import uuid

import pytest
import requests

from support.stack import APP_PORTS, ENV, app_url, sidecar_headers, wait_until
from support.taskapi import BASE, User, psql

DASHBOARD = app_url("dashboard")
TASK_API_DAPR = f"http://127.0.0.1:{ENV['DAPR_HTTP_BASE']}"

# Each component's Dapr-facing routes, as its sidecar calls them: the Jobs API trigger and the
# start-up call at fixed paths (`/job/...`, `/dapr/...`), subscriptions under the app's route base.
def root(app: str) -> str:
    return app_url(app).removesuffix(APP_PORTS[app][1])


SIDECAR_ROUTES = {
    "task-api": (BASE, [("POST", "/job/outbox-repair"), ("POST", "/job/outbox-sweep")]),
    "recurrence-engine": (root("recurrence-engine"), [
        ("GET", "/dapr/subscribe"), ("POST", "/recurrence/events/task-operations"),
        ("POST", "/recurrence/events/task-modifications"), ("POST", "/job/precreate-x")]),
    "notification": (root("notification"), [
        ("GET", "/dapr/subscribe"), ("POST", "/notification/events/task-operations"),
        ("POST", "/notification/events/task-modifications"), ("POST", "/notification/events/alerts"),
        ("POST", "/job/reminder-x"),
        # Service invocation from task-api (its sidecar adds the token like to any call).
        ("GET", f"/notification/internal/reminder-jobs?ids={uuid.uuid4()}")]),
    "chat": (root("chat"), [("GET", "/chat/dapr/config")]),
    "dashboard": (root("dashboard"), [("POST", "/dashboard/events/task-operations"),
                                      ("POST", "/dashboard/events/task-modifications")]),
}

CASES = [(app, base, method, path) for app, (base, routes) in SIDECAR_ROUTES.items() for method, path in routes]


def forged_event(user_id: str) -> dict:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/task-api", "type": "v1.task.deleted",
            "time": "2026-11-26T07:00:00.000Z", "datacontenttype": "application/json",
            "partitionkey": user_id, "data": {"task_id": str(uuid.uuid4()), "user_id": user_id}}


@pytest.mark.parametrize(("app", "base", "method", "path"), CASES, ids=[f"{c[0]}{c[3]}" for c in CASES])
@pytest.mark.parametrize("token", [None, "wrong-" + "0" * 58], ids=["no-token", "wrong-token"])
def test_a_sidecar_route_refuses_a_caller_without_the_sidecars_token(app, base, method, path, token):
    headers = {"content-type": "application/cloudevents+json"}
    if token:
        headers["dapr-api-token"] = token
    r = requests.request(method, base + path, headers=headers, json=forged_event("someone"), timeout=30)
    assert r.status_code == 401, (app, path, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    assert "sidecar" in r.json()["detail"]


@pytest.mark.parametrize(("app", "base"), [(a, b) for a, (b, routes) in SIDECAR_ROUTES.items()
                                           if ("GET", "/dapr/subscribe") in routes])
def test_the_sidecars_token_opens_the_route(app, base):
    r = requests.get(f"{base}/dapr/subscribe", headers=sidecar_headers(), timeout=30)
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), list)


def test_public_routes_need_no_sidecar_token():
    for base in (BASE, DASHBOARD):
        assert requests.get(f"{base}/healthz", timeout=10).status_code == 200


def test_a_forged_dashboard_change_is_refused_and_never_recorded():
    """The dashboard's change log took `data.user_id` from any POST body: a forged delivery
    showed another user a task event that never happened."""
    victim = User()
    event = forged_event(victim.id)
    r = requests.post(f"{DASHBOARD}/events/task-modifications", json=event, timeout=10,
                      headers={"content-type": "application/cloudevents+json"})
    assert r.status_code == 401, r.text
    assert psql(f"SELECT count(*) FROM dashboard_changes WHERE user_id = '{victim.id}'") == [["0"]]


def test_real_deliveries_through_the_sidecars_still_arrive():
    """The sidecars carry the token: a task created through the API reaches the dashboard's log
    through Kafka and the dashboard's daprd."""
    user = User()
    task = user.create(title="delivered with the sidecar's token")
    rows = wait_until("change recorded by the dashboard", lambda: psql(
        f"SELECT event_type FROM dashboard_changes WHERE user_id = '{user.id}' AND task_id = '{task['task_id']}'") or None, 60)
    assert rows == [["v1.task.created"]]


def test_service_invocation_carries_the_token_to_public_routes_only():
    """Dapr service invocation into the Task API still reaches its public routes (the invoking
    sidecar is not the app's own, and a public route authenticates with the user's JWT)."""
    user = User()
    r = requests.get(f"{TASK_API_DAPR}/v1.0/invoke/task-api/method/api/tasks",
                     headers={"authorization": f"Bearer {user.token}"}, timeout=30)
    assert r.status_code == 200, r.text
