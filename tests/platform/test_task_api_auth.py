"""JWT attacks against the Task API: each is refused with 401 problem+json; the previous secret
is accepted during a rotation. The secrets come from Dapr's secrets API on every request."""

from __future__ import annotations

import hashlib
import time

import pytest
import requests

from support.taskapi import AUDIENCE, BASE, ISSUER, PREVIOUS_SECRET, SECRET, b64, sign, token

# The issuer and audience every otherwise valid token carries, so each attack below fails for
# its own reason.
STD = {"iss": ISSUER, "aud": AUDIENCE}


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


def attacks(now: int) -> dict[str, tuple[str | None, str | None]]:
    """Each attack as (token, raw Authorization header), minted at `now`: built when the test
    runs, so a long suite before it cannot turn a future `nbf` or `exp` into a past one."""
    good = {"sub": "attacker-target", "iat": now, "exp": now + 600, **STD}
    return {
        "no header": (None, None),
        "basic scheme": (None, "Basic dXNlcjpwYXNz"),
        "empty bearer": (None, "Bearer "),
        "garbage": ("not.a.jwt", None),
        "alg none, empty signature": (unsigned({"alg": "none", "typ": "JWT"}, good), None),
        "alg none, kept signature": (unsigned({"alg": "none"}, good, token("attacker-target").split(".")[2]), None),
        "alg HS512": (sign({"alg": "HS512"}, good, SECRET, hashlib.sha512), None),
        "alg RS256 header": (sign({"alg": "RS256"}, good), None),
        "no alg": (sign({"typ": "JWT"}, good), None),
        "bad signature (other secret)": (sign({"alg": "HS256"}, good, b"guessed-secret"), None),
        "tampered claims": (tampered(now), None),
        "expired": (sign({"alg": "HS256"}, {"sub": "u", "iat": now - 1200, "exp": now - 600, **STD}), None),
        "no exp": (sign({"alg": "HS256"}, {"sub": "u", "iat": now, **STD}), None),
        "lifetime over one hour": (sign({"alg": "HS256"}, {"sub": "u", "iat": now, "exp": now + 3601, **STD}), None),
        "no iat": (sign({"alg": "HS256"}, {"sub": "u", "exp": now + 600, **STD}), None),
        "nbf in the future": (sign({"alg": "HS256"}, {"sub": "u", "iat": now, "exp": now + 600, "nbf": now + 300, **STD}), None),
        "missing sub": (sign({"alg": "HS256"}, {"iat": now, "exp": now + 600, **STD}), None),
        "empty sub": (sign({"alg": "HS256"}, {"sub": "", "iat": now, "exp": now + 600, **STD}), None),
        "no iss": (sign({"alg": "HS256"}, {**good, "iss": None}), None),
        "another issuer": (sign({"alg": "HS256"}, {**good, "iss": "https://evil.example"}), None),
        "no aud": (sign({"alg": "HS256"}, {k: v for k, v in good.items() if k != "aud"}), None),
        "another audience": (sign({"alg": "HS256"}, {**good, "aud": "billing-api"}), None),
        "audience list without ours": (sign({"alg": "HS256"}, {**good, "aud": ["billing-api", "todo"]}), None),
        "crit header": (sign({"alg": "HS256", "crit": ["exp"]}, good), None),
        "crit header naming an extension": (sign({"alg": "HS256", "b64": False, "crit": ["b64"]}, good), None),
    }


def tampered(now: int) -> str:
    h, _, s = token("alice").split(".")
    import json
    return f"{h}.{b64(json.dumps({'sub': 'bob', 'iat': now, 'exp': now + 600, **STD}).encode())}.{s}"


@pytest.mark.parametrize("name", list(attacks(int(time.time()))))
def test_attack_is_refused(name):
    tok, header = attacks(int(time.time()))[name]
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
    # An audience list that names ours is accepted (RFC 7519 §4.1.3).
    assert get(token("rotating-user", aud=["billing-api", AUDIENCE])).status_code == 200
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


def test_a_secret_shorter_than_32_bytes_is_refused_at_first_use():
    """Guards the key length: a 16-byte jwt-secret put in the store is never used to verify a
    token: even a token correctly signed with it gets 503 problem+json (not 200, not 401) with
    a detail that reveals nothing, and the component logs the clear reason."""
    import json

    from support.stack import STACK_DIR, wait_until
    from support.taskapi import restart_sidecar

    path = STACK_DIR / "secrets/secrets.json"
    original = path.read_text()
    short = b"sixteen-byte-key"
    log = STACK_DIR / "logs/task-api.log"
    mark = log.stat().st_size
    try:
        data = json.loads(original)
        data["jwt-secret"] = short.decode()
        path.write_text(json.dumps(data))
        restart_sidecar()
        def refused_for_its_length():
            r = get(token("weak", secret=short))
            logged = log.read_bytes()[mark:].decode(errors="replace")
            reason = "a signing secret has 16 bytes; at least 32 are required" in logged
            return (r,) if r.status_code == 503 and reason else None

        [r] = wait_until("the short secret refused", refused_for_its_length, 60)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "https://todo.example/problems/upstream-unavailable"
        assert "sixteen" not in r.text and "16 bytes" not in r.text
        assert get(token("weak", secret=PREVIOUS_SECRET)).status_code == 503
    finally:
        path.write_text(original)
        restart_sidecar()
        wait_until("original secrets served", lambda: get(token("weak")).status_code == 200, 60)
