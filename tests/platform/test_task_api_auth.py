"""JWT attacks against the Task API: each is refused with 401 problem+json; the previous secret
is accepted during a rotation. The secrets come from Dapr's secrets API on every request."""

from __future__ import annotations

import hashlib
import time

import pytest
import requests

from support.taskapi import BASE, PREVIOUS_SECRET, SECRET, b64, sign, token

NOW = int(time.time())


def get(tok: str | None, header: str | None = None) -> requests.Response:
    headers = {}
    if header is not None:
        headers["authorization"] = header
    elif tok is not None:
        headers["authorization"] = f"Bearer {tok}"
    return requests.get(f"{BASE}/api/tasks", headers=headers, timeout=10)


def unsigned(header: dict, claims: dict, signature: str = "") -> str:
    import json
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{signature}"


GOOD = {"sub": "attacker-target", "iat": NOW, "exp": NOW + 600}

ATTACKS = {
    "no header": (None, None),
    "basic scheme": (None, "Basic dXNlcjpwYXNz"),
    "empty bearer": (None, "Bearer "),
    "garbage": ("not.a.jwt", None),
    "alg none, empty signature": (unsigned({"alg": "none", "typ": "JWT"}, GOOD), None),
    "alg none, kept signature": (unsigned({"alg": "none"}, GOOD, token("attacker-target").split(".")[2]), None),
    "alg HS512": (sign({"alg": "HS512"}, GOOD, SECRET, hashlib.sha512), None),
    "alg RS256 header": (sign({"alg": "RS256"}, GOOD), None),
    "no alg": (sign({"typ": "JWT"}, GOOD), None),
    "bad signature (other secret)": (sign({"alg": "HS256"}, GOOD, b"guessed-secret"), None),
    "tampered claims": (None, None),
    "expired": (sign({"alg": "HS256"}, {"sub": "u", "iat": NOW - 1200, "exp": NOW - 600}), None),
    "no exp": (sign({"alg": "HS256"}, {"sub": "u", "iat": NOW}), None),
    "lifetime over one hour": (sign({"alg": "HS256"}, {"sub": "u", "iat": NOW, "exp": NOW + 3601}), None),
    "no iat": (sign({"alg": "HS256"}, {"sub": "u", "exp": NOW + 600}), None),
    "nbf in the future": (sign({"alg": "HS256"}, {"sub": "u", "iat": NOW, "exp": NOW + 3500, "nbf": NOW + 3000}), None),
    "missing sub": (sign({"alg": "HS256"}, {"iat": NOW, "exp": NOW + 600}), None),
    "empty sub": (sign({"alg": "HS256"}, {"sub": "", "iat": NOW, "exp": NOW + 600}), None),
}


def tampered() -> str:
    h, _, s = token("alice").split(".")
    import json
    return f"{h}.{b64(json.dumps({'sub': 'bob', 'iat': NOW, 'exp': NOW + 600}).encode())}.{s}"


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_refused(name):
    tok, header = ATTACKS[name]
    if name == "tampered claims":
        tok = tampered()
    r = get(tok, header)
    assert r.status_code == 401, (name, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["type"] == "https://todo.example/problems/unauthorized"


def test_every_api_route_requires_a_token():
    for method, path in [("POST", "/api/tasks"), ("GET", "/api/tasks/0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a"),
                         ("PATCH", "/api/tasks/0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a"),
                         ("DELETE", "/api/tasks/0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a"),
                         ("POST", "/api/tasks/0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a/complete"),
                         ("GET", "/api/series/0b9f3c2e-8a1d-4c4e-9b7a-1f2e3d4c5b6a"), ("GET", "/api/calendar.ics")]:
        assert requests.request(method, f"{BASE}{path}", timeout=10).status_code == 401, path


def test_valid_tokens_with_current_and_previous_secret_are_accepted():
    assert get(token("rotating-user")).status_code == 200
    assert get(token("rotating-user", secret=PREVIOUS_SECRET)).status_code == 200
    assert get(token("rotating-user", lifetime=3600)).status_code == 200


def test_rotation_takes_effect_without_restarting_the_component():
    """Rotate in the secret store (the local file store reads its file when daprd starts, so the
    sidecar restarts; Key Vault needs no restart): the new secret is accepted at once, the old
    current one keeps working as previous, the retired previous one is refused. The component
    process is never restarted: it reads the secrets from Dapr on every request."""
    import json

    from support.stack import STACK_DIR, wait_until
    from support.taskapi import restart_sidecar

    path = STACK_DIR / "secrets/secrets.json"
    original = path.read_text()
    new_secret = b"todo-local-dev-rotated-jwt-secret-for-the-rotation-test"
    component_pid = (STACK_DIR / "run/task-api.pid").read_text().strip()
    try:
        data = json.loads(original)
        data["jwt-secret-previous"] = data["jwt-secret"]
        data["jwt-secret"] = new_secret.decode()
        path.write_text(json.dumps(data))
        restart_sidecar()
        wait_until("rotated secrets served", lambda: get(token("rot", secret=new_secret)).status_code == 200, 60)
        assert get(token("rot", secret=SECRET)).status_code == 200  # old current, now previous
        assert get(token("rot", secret=PREVIOUS_SECRET)).status_code == 401  # retired
        assert (STACK_DIR / "run/task-api.pid").read_text().strip() == component_pid
    finally:
        path.write_text(original)
        restart_sidecar()
        wait_until("original secrets served", lambda: get(token("rot", secret=PREVIOUS_SECRET)).status_code == 200, 60)
