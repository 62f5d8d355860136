"""Attacks on the Task API of the real test stack, beyond the JWT basics of
test_task_api_auth.py (alg none, HS512, expired, future nbf, over one hour, tampered claims):

- JWT: case variants of `none`, real RS256 signatures with attacker keys (embedded `jwk`, `jku`),
  HS/RS confusion (HMAC keyed with the attacker's public key), an empty secret, `kid` tricks,
  claims that overflow 64-bit arithmetic, duplicate header fields, a subject PostgreSQL cannot
  store; each answers 401 problem+json and writes nothing.
- Cross-user access: every method of every id-bearing path of the served OpenAPI document, with
  another user's task and series ids, answers 404 and changes nothing.
- JWT issuer and audience (missing, another one), `crit` headers: 401 as above.
- Oversized (2 MiB, also chunked) and deeply nested (10,000 levels) bodies: a precise 413 / 400
  problem+json, no effect, the stack healthy afterwards; the chat caps its body the same way.
- Error details: a 503 caused by PostgreSQL (permission refused) carries neither Dapr's nor
  PostgreSQL's text (it is logged instead), and readiness answers name no internal address.
- SQL metacharacters and unusual Unicode in every free-text input (title, description,
  Idempotency-Key, the token's subject) are stored and returned verbatim; NUL is refused with a
  precise 422 (PostgreSQL text cannot hold it) or 401 for a subject."""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest
import requests

from support.notify import NOTIFICATION
from support.runtime import serve
from support.stack import ENV, ROOT, STACK_DIR, TOOLS, app_url, free_port, wait_until
from support.taskapi import AUDIENCE, BASE, ISSUER, SECRET, User, b64, future, iso, psql, sign, token

PROBLEM = "https://todo.example/problems/"


def assert_problem(r: requests.Response, status: int, kind: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert (body["type"], body["status"]) == (PROBLEM + kind, status), body
    assert body["title"] and body["detail"], body
    return body


def rows_of(user_id: str) -> int:
    """Tasks, outbox events and settings rows of a user id, straight from PostgreSQL."""
    uid = user_id.replace("'", "''")
    return int(psql(f"select (select count(*) from tasks where user_id = '{uid}') + "
                    f"(select count(*) from outbox where user_id = '{uid}') + "
                    f"(select count(*) from user_settings where user_id = '{uid}')")[0][0])


def healthy() -> None:
    for url in (f"{BASE}/healthz", f"{BASE}/readyz", f"{NOTIFICATION}/healthz"):
        r = requests.get(url, timeout=30)
        assert r.status_code == 200, (url, r.text)
    user = User()
    created = user.create(title="Still works", due_date=iso(future(2)), reminders=["PT1H"])
    assert user.request("GET", f"/api/tasks/{created['task_id']}").status_code == 200


# --- JWT ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rsa(tmp_path_factory):
    """An attacker's RSA key pair (openssl): private key path, public PEM, public JWK."""
    d = tmp_path_factory.mktemp("rsa")
    key, pub = d / "key.pem", d / "pub.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key)],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(pub)], check=True, capture_output=True)
    modulus = subprocess.run(["openssl", "rsa", "-in", str(key), "-noout", "-modulus"], check=True,
                             capture_output=True, text=True).stdout.strip().split("=", 1)[1]
    jwk = {"kty": "RSA", "e": "AQAB", "n": b64(bytes.fromhex(modulus))}
    return key, pub.read_bytes(), jwk


def encode(header, claims) -> str:
    part = lambda v: b64(v if isinstance(v, bytes) else json.dumps(v, separators=(",", ":")).encode())  # noqa: E731
    return f"{part(header)}.{part(claims)}"


def rs256(header: dict, claims: dict, key) -> str:
    signing_input = encode(header, claims)
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key)], input=signing_input.encode(),
                         check=True, capture_output=True).stdout
    return f"{signing_input}.{b64(sig)}"


def hs256_raw(header: bytes | dict, claims: bytes | dict, secret: bytes) -> str:
    import hashlib
    import hmac
    signing_input = encode(header, claims)
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def claims(victim: str, now: int, **over) -> dict:
    return {"sub": victim, "iat": now, "exp": now + 600, "iss": ISSUER, "aud": AUDIENCE, **over}


# Each attack builds its token from (victim, attacker RSA key, now) when the test runs.
JWT_ATTACKS = {
    "alg None": lambda v, k, n: encode({"alg": "None", "typ": "JWT"}, claims(v, n)) + ".",
    "alg NONE": lambda v, k, n: encode({"alg": "NONE", "typ": "JWT"}, claims(v, n)) + ".",
    "alg nOnE with a valid HS256 signature":
        lambda v, k, n: encode({"alg": "nOnE"}, claims(v, n)) + "." + sign({"alg": "nOnE"}, claims(v, n)).split(".")[2],
    "RS256 signed with an attacker key, embedded jwk":
        lambda v, k, n: rs256({"alg": "RS256", "jwk": k[2]}, claims(v, n), k[0]),
    "RS256 signed with an attacker key, jku":
        lambda v, k, n: rs256({"alg": "RS256", "jku": "http://127.0.0.1:9/jwks.json"}, claims(v, n), k[0]),
    "RS256 signed with an attacker key, x5u":
        lambda v, k, n: rs256({"alg": "RS256", "x5u": "http://127.0.0.1:9/cert.pem"}, claims(v, n), k[0]),
    "HS/RS confusion: HS256 keyed with the attacker's public PEM":
        lambda v, k, n: sign({"alg": "HS256", "jwk": k[2]}, claims(v, n), k[1]),
    "HS/RS confusion: HS256 keyed with the attacker's JWK":
        lambda v, k, n: sign({"alg": "HS256", "jwk": k[2]}, claims(v, n), json.dumps(k[2]).encode()),
    "HS256 with an empty secret": lambda v, k, n: sign({"alg": "HS256"}, claims(v, n), b""),
    "kid path traversal with an empty secret":
        lambda v, k, n: sign({"alg": "HS256", "kid": "../../../../dev/null"}, claims(v, n), b""),
    "kid SQL injection":
        lambda v, k, n: sign({"alg": "HS256", "kid": "x' union select 'secret"}, claims(v, n), b"secret"),
    "iat at the 64-bit minimum hides a ten-year lifetime":
        lambda v, k, n: sign({"alg": "HS256"}, claims(v, n, iat=-(2**63), exp=n + 10 * 365 * 86400)),
    "exp at the 64-bit maximum": lambda v, k, n: sign({"alg": "HS256"}, claims(v, n, exp=2**63 - 1)),
    "exp beyond 64 bits": lambda v, k, n: sign({"alg": "HS256"}, claims(v, n, exp=2**80)),
    "iat and exp a day ahead (short lifetime, not yet issued)":
        lambda v, k, n: sign({"alg": "HS256"}, claims(v, n, iat=n + 86400, exp=n + 86400 + 600)),
    "exp as a string": lambda v, k, n: sign({"alg": "HS256"}, claims(v, n, exp=str(n + 600))),
    "sub as an object": lambda v, k, n: sign({"alg": "HS256"}, claims(v, n, sub={"id": v})),
    "duplicate alg header (none last)":
        lambda v, k, n: hs256_raw(b'{"alg":"HS256","alg":"none"}', claims(v, n), SECRET),
    "duplicate sub claim":
        lambda v, k, n: hs256_raw({"alg": "HS256"}, f'{{"sub":"{v}","sub":"x","iat":{n},"exp":{n + 600}}}'.encode(), SECRET),
    "subject with NUL": lambda v, k, n: sign({"alg": "HS256"}, claims(v + "\u0000x", n)),
    "subject with a newline": lambda v, k, n: sign({"alg": "HS256"}, claims(v + "\nx", n)),
    "subject over 255 bytes": lambda v, k, n: sign({"alg": "HS256"}, claims(v + "x" * 256, n)),
    "four parts": lambda v, k, n: sign({"alg": "HS256"}, claims(v, n)) + ".extra",
    "no issuer": lambda v, k, n: sign({"alg": "HS256"}, {c: x for c, x in claims(v, n).items() if c != "iss"}),
    "another issuer": lambda v, k, n: sign({"alg": "HS256"}, claims(v, n, iss="https://login.evil.example")),
    "issuer as a list": lambda v, k, n: sign({"alg": "HS256"}, claims(v, n, iss=[ISSUER])),
    "no audience": lambda v, k, n: sign({"alg": "HS256"}, {c: x for c, x in claims(v, n).items() if c != "aud"}),
    "another audience": lambda v, k, n: sign({"alg": "HS256"}, claims(v, n, aud="billing-api")),
    "audience list without ours": lambda v, k, n: sign({"alg": "HS256"}, claims(v, n, aud=["billing-api"])),
    "audience as a number": lambda v, k, n: sign({"alg": "HS256"}, claims(v, n, aud=1)),
    "crit naming a registered claim": lambda v, k, n: sign({"alg": "HS256", "crit": ["exp"]}, claims(v, n)),
    "crit naming an unencoded payload (b64)":
        lambda v, k, n: sign({"alg": "HS256", "b64": False, "crit": ["b64"]}, claims(v, n)),
}


@pytest.mark.parametrize("name", list(JWT_ATTACKS))
def test_jwt_attack_is_refused_and_writes_nothing(name, rsa):
    victim = f"victim-{uuid.uuid4().hex[:10]}"
    tok = JWT_ATTACKS[name](victim, rsa, int(time.time()))
    auth = {"authorization": f"Bearer {tok}"}
    r = requests.post(f"{BASE}/api/tasks", headers=auth, json={"title": "forged", "due_date": iso(future(2))}, timeout=10)
    assert_problem(r, 401, "unauthorized")
    assert r.headers["www-authenticate"] == "Bearer"
    assert_problem(requests.get(f"{BASE}/api/tasks", headers=auth, timeout=10), 401, "unauthorized")
    assert_problem(requests.put(f"{BASE}/api/users/me/settings", headers=auth, json={"default_reminders": ["PT1H"]},
                                timeout=10), 401, "unauthorized")
    for user_id in {victim, victim + "\nx", victim + "x" * 256}:
        assert rows_of(user_id) == 0, name


def test_the_same_claims_correctly_signed_are_accepted():
    """The control of the attacks above: the victim's claims signed with the real secret work."""
    victim = f"victim-{uuid.uuid4().hex[:10]}"
    r = requests.post(f"{BASE}/api/tasks", headers={"authorization": f"Bearer {token(victim)}"},
                      json={"title": "genuine", "due_date": iso(future(2))}, timeout=10)
    assert r.status_code == 201, r.text
    assert rows_of(victim) == 2  # the task and its v1.task.created event


# --- Cross-user access ----------------------------------------------------------------------

METHODS = ("get", "put", "post", "patch", "delete")


def id_operations(spec: dict) -> list[tuple[str, str, dict]]:
    """(METHOD, path, operation) of every path with an `{id}` parameter in the OpenAPI document."""
    return [(m.upper(), path, item[m]) for path, item in spec["paths"].items() if "{id}" in path
            for m in METHODS if m in item]


def bodies(op: dict) -> list:
    """The documented example bodies of an operation (None when it takes no body)."""
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return [None]
    examples = [e["value"] for e in content.get("examples", {}).values()]
    assert examples, f"{op['operationId']} documents no example body"
    return examples


def snapshot(owner: User, task: dict) -> dict:
    """Everything another user could have changed: the task, its series and reminder rows."""
    t = owner.request("GET", f"/api/tasks/{task['task_id']}")
    assert t.status_code == 200, t.text
    state = {"task": t.json(), "etag": t.headers["etag"]}
    if task["series_id"]:
        s = owner.request("GET", f"/api/series/{task['series_id']}")
        assert s.status_code == 200, s.text
        state["series"] = s.json()
        state["instances"] = owner.request("GET", f"/api/tasks?series_id={task['series_id']}").json()["items"]
    state["reminders"] = psql(f"select reminder_id, offset_text, status, remind_at::text from reminders "
                              f"where task_id = '{task['task_id']}' order by offset_text")
    return state


def test_every_id_bearing_operation_refuses_another_users_ids_and_changes_nothing():
    spec = requests.get(f"{BASE}/api/openapi.json", timeout=10).json()
    ops = id_operations(spec)
    # The document lists every route with an id (a new one is covered here automatically).
    assert {(m, p) for m, p, _ in ops} >= {
        ("GET", "/api/tasks/{id}"), ("PATCH", "/api/tasks/{id}"), ("DELETE", "/api/tasks/{id}"),
        ("POST", "/api/tasks/{id}/complete"), ("GET", "/api/series/{id}"), ("GET", "/api/series/{id}/occurrences")}
    alice, mallory = User(), User()
    one_off = alice.create(title="Alice's secret", description="private", due_date=iso(future(3)), reminders=["PT1H"])
    series = alice.create(title="Alice's series", description="private", due_date=iso(future(3)),
                          recurrence="daily", reminders=["PT1H"])
    ids = {one_off["task_id"], series["task_id"], series["series_id"]}
    before = {t["task_id"]: snapshot(alice, t) for t in (one_off, series)}
    # Control: the owner reaches each readable id-bearing route with these ids.
    for method, path, _ in ops:
        if method == "GET":
            ident = series["series_id"] if path.startswith("/api/series/") else one_off["task_id"]
            r = alice.request("GET", path.replace("{id}", ident))
            assert r.status_code == 200, (path, r.text)
    not_found = set()
    for method, path, op in ops:
        for body in bodies(op):
            for params in ({}, {"scope": "all", "confirm": "true"}, {"scope": "following", "confirm": "true"}):
                kw = {"json": body} if body is not None else {}
                # The answer for an id that exists nowhere: another user's id must get the same,
                # so it reveals nothing (404, or the body's own 422 when the example does not fit
                # the scope).
                missing = mallory.request(method, path.replace("{id}", str(uuid.uuid4())), params=params, **kw)
                for ident in ids:
                    r = mallory.request(method, path.replace("{id}", ident), params=params, **kw)
                    assert r.status_code in (404, 422), (method, path, params, body, r.text)
                    assert (r.status_code, r.json()) == (missing.status_code, missing.json()), (method, path, params)
                    assert "Alice" not in r.text and "private" not in r.text
                    if r.status_code == 404:
                        assert_problem(r, 404, "not-found")
                        not_found.add((method, path))
    # Every operation was reached with a request it would have carried out for the owner.
    assert not_found == {(m, p) for m, p, _ in ops}
    # Nothing changed for Alice, nothing was written for Mallory.
    assert {t["task_id"]: snapshot(alice, t) for t in (one_off, series)} == before
    assert rows_of(mallory.id) == 0
    # The collection routes do not leak either.
    page = mallory.request("GET", f"/api/tasks?series_id={series['series_id']}")
    assert page.status_code == 200 and page.json()["items"] == []
    assert mallory.request("GET", "/api/tasks").json()["items"] == []
    cal = mallory.request("GET", "/api/calendar.ics")
    assert cal.status_code == 200 and "Alice" not in cal.text and one_off["task_id"] not in cal.text
    assert mallory.request("GET", "/api/users/me/settings").json()["default_reminders"] == []
    # Alice's own operations still work on the same ids (the 404s above were about ownership).
    assert alice.request("POST", f"/api/tasks/{one_off['task_id']}/complete").status_code == 200


# --- Oversized and deeply nested bodies -----------------------------------------------------

TWO_MIB = 2 * 1024 * 1024


def write_routes(task_id: str) -> list[tuple[str, str]]:
    return [("POST", "/api/tasks"), ("PATCH", f"/api/tasks/{task_id}"), ("PUT", "/api/users/me/settings")]


def test_oversized_bodies_are_refused_with_413_and_change_nothing():
    user = User()
    task = user.create(title="Keep me", due_date=iso(future(2)), reminders=["PT1H"])
    before = snapshot(user, task)
    big = json.dumps({"title": "x" * TWO_MIB, "description": "y", "default_reminders": ["PT1H"]}).encode()
    for method, path in write_routes(task["task_id"]):
        r = user.request(method, path, data=big, headers={"content-type": "application/json"})
        problem = assert_problem(r, 413, "payload-too-large")
        assert str(len(big)) in problem["detail"], problem
        # The same body streamed in chunks, without a Content-Length.
        chunks = (big[i:i + 65536] for i in range(0, len(big), 65536))
        r = user.request(method, path, data=chunks, headers={"content-type": "application/json"})
        assert_problem(r, 413, "payload-too-large")
    assert snapshot(user, task) == before
    assert int(psql(f"select count(*) from tasks where user_id = '{user.id}'")[0][0]) == 1
    # The create recorded the token's email claim; no settings write went through.
    assert psql(f"select default_reminders::text, email is null from user_settings where user_id = '{user.id}'") \
        in ([], [["[]", "t"]])
    healthy()


def nested(depth: int, kind: str) -> str:
    if kind == "arrays":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("kind", ["arrays", "objects"])
def test_deeply_nested_json_is_refused_with_400_and_changes_nothing(kind):
    user = User()
    task = user.create(title="Keep me", due_date=iso(future(2)))
    before = snapshot(user, task)
    deep = nested(10_000, kind)
    for body in (deep, f'{{"title": "deep", "description": {deep}}}', f'{{"title": "deep", "reminders": [{deep}]}}'):
        for method, path in write_routes(task["task_id"]):
            r = user.request(method, path, data=body.encode(), headers={"content-type": "application/json"})
            problem = assert_problem(r, 400, "bad-request")
            assert "recursion limit" in problem["detail"], problem
    assert snapshot(user, task) == before
    assert int(psql(f"select count(*) from tasks where user_id = '{user.id}'")[0][0]) == 1
    # Nesting within the limit is read (and refused only for what it is: not a string).
    r = user.request("POST", "/api/tasks", json={"title": "ok", "description": json.loads(nested(100, kind))})
    assert_problem(r, 422, "validation-error")
    healthy()


# --- SQL metacharacters and Unicode ---------------------------------------------------------

EVIL = [
    "O'Brien's \"quoted\" task",
    "'; DROP TABLE tasks; --",
    "Robert'); DELETE FROM tasks WHERE ('1'='1",
    "$1 $2 $$ $tag$ body $tag$ ::text ::uuid",
    "back\\slash \\' \\\\ \\x00 \\n E'\\x27'",
    "50% off _under_score LIKE '%' ESCAPE '\\'",
    "/* comment */ -- line ; select pg_sleep(10);",
    "NULL",
    '{"json": [1, 2], "$ref": "#"}',
    "<script>alert(1)</script> &amp; \u0000".replace("\u0000", "&#0;"),
    "Ünïcödé Ω 日本語 🙂 👩\u200d👩\u200d👧 \u202eRTL\u202c \u200bzero-width \ufeffbom",
    "\U0001F600" * 200,  # 200 characters of 4 bytes: the longest title
]


def stored_hex(task_id: str, column: str) -> str:
    return psql(f"select encode(convert_to({column}, 'UTF8'), 'hex') from tasks where task_id = '{task_id}'")[0][0]


@pytest.mark.parametrize("text", EVIL, ids=[f"evil{i}" for i in range(len(EVIL))])
def test_metacharacters_are_stored_and_returned_verbatim(text):
    sub = f"o'brien\"; drop table tasks;-- $1 \\ ünï 🙂 {uuid.uuid4().hex[:8]}"
    user = User(sub)
    description = f"{text}\n\ttabbed\r\nline  "
    key = f"'; drop table idempotency_keys;-- $1 \\ {uuid.uuid4().hex[:8]}"
    body = {"title": text, "description": description, "due_date": iso(future(2)), "reminders": ["PT1H"]}
    r = user.request("POST", "/api/tasks", json=body, headers={"idempotency-key": key})
    assert r.status_code == 201, r.text
    task = r.json()
    assert (task["title"], task["description"]) == (text, description)
    assert user.request("GET", f"/api/tasks/{task['task_id']}").json()["title"] == text
    [listed] = user.request("GET", "/api/tasks").json()["items"]
    assert (listed["title"], listed["description"]) == (text, description)
    # The bytes in PostgreSQL are exactly the UTF-8 of the input; the row belongs to the odd subject.
    assert stored_hex(task["task_id"], "title") == text.encode().hex()
    assert stored_hex(task["task_id"], "description") == description.encode().hex()
    assert rows_of(sub) == 2
    # The metacharacter Idempotency-Key replays the first answer.
    again = user.request("POST", "/api/tasks", json=body, headers={"idempotency-key": key})
    assert (again.status_code, again.headers.get("idempotent-replayed"), again.json()["task_id"]) == \
        (201, "true", task["task_id"])
    # Edits through PATCH (one task and a series) keep the text verbatim too.
    edited = (text + " (edited)")[-200:]
    patched = user.request("PATCH", f"/api/tasks/{task['task_id']}", json={"title": edited, "description": text})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["title"], patched.json()["description"]) == (edited, text)
    assert stored_hex(task["task_id"], "title") == edited.encode().hex()
    series = user.create(title="Series", due_date=iso(future(2)), recurrence="daily")
    r = user.request("PATCH", f"/api/tasks/{series['task_id']}", params={"scope": "all"},
                     json={"title": text, "description": description})
    assert r.status_code == 200, r.text
    assert user.request("GET", f"/api/series/{series['series_id']}").json()["title"] == text
    # The tables are all still there.
    assert psql("select count(*) from information_schema.tables where table_name in "
                "('tasks', 'reminders', 'outbox', 'idempotency_keys', 'user_settings')")[0][0] == "5"


@pytest.mark.parametrize("method, path, body, status, field", [
    ("POST", "/api/tasks", {"title": "a\u0000b"}, 422, "title"),
    ("POST", "/api/tasks", {"title": "ok", "description": "a\u0000b"}, 422, "description"),
    ("PATCH", "{task}", {"title": "a\u0000b"}, 422, "title"),
    ("PATCH", "{task}", {"description": "\u0000"}, 422, "description"),
    ("POST", "/api/tasks", {"title": "ok", "due_date": iso(future(2)), "reminders": ["PT1H\u0000"]}, 422, "reminders[0]"),
    ("PUT", "/api/users/me/settings", {"default_reminders": ["\u0000"]}, 422, "default_reminders[0]"),
    ("POST", "/api/tasks", {"title": "ok", "recurrence": "daily\u0000"}, 422, "recurrence"),
    ("POST", "/api/tasks", {"title": "ok", "recurrence": "daily", "tzid": "UTC\u0000"}, 422, "tzid"),
])
def test_nul_is_refused_precisely_and_stores_nothing(method, path, body, status, field):
    user = User()
    task = user.create(title="Keep me")
    r = user.request(method, path.replace("{task}", f"/api/tasks/{task['task_id']}"), json=body)
    problem = assert_problem(r, status, "validation-error")
    assert field in [e["field"] for e in problem["errors"]], problem
    assert int(psql(f"select count(*) from tasks where user_id = '{user.id}'")[0][0]) == 1
    assert user.request("GET", f"/api/tasks/{task['task_id']}").json()["title"] == "Keep me"


def test_nul_in_query_and_path_is_refused_precisely():
    user = User()
    for path, status, kind in [("/api/tasks?status=%00", 400, "bad-request"), ("/api/tasks?cursor=%00", 400, "bad-request"),
                               ("/api/tasks?series_id=%00", 400, "bad-request"), ("/api/tasks?due_from=%00", 400, "bad-request"),
                               ("/api/tasks/%00", 404, "not-found"), ("/api/series/%00/occurrences", 404, "not-found")]:
        assert_problem(user.request("GET", path), status, kind)


# --- Error details and body limits of the other services ------------------------------------

CHAT = app_url("chat")
DASHBOARD = app_url("dashboard")
LEAKS = ("permission denied", "SQLSTATE", "ERR_", "42501", "127.0.0.1", "http://", "dapr_chat_state",
         "dashboard_cursors", "relation")


def no_leak(r: requests.Response) -> None:
    for leak in LEAKS:
        assert leak not in r.text, (leak, r.text)


@pytest.mark.parametrize("table, call", [
    ("tasks", lambda u: u.request("GET", "/api/tasks")),
    ("dashboard_cursors", lambda u: requests.get(f"{DASHBOARD}/api/changes", headers=u.headers(), timeout=30)),
    ("dapr_chat_state", lambda u: requests.get(f"{CHAT}/api/chat/some-conversation", headers=u.headers(), timeout=30)),
], ids=["task-api", "dashboard", "chat"])
def test_a_database_failure_answers_503_without_dapr_or_postgresql_text(table, call):
    """Guards error details: while PostgreSQL refuses the service's table, the service answers
    503 problem+json whose detail says what kind of thing failed, never Dapr's or PostgreSQL's
    own error text (table names, SQLSTATE, addresses); the raw error goes to the service's log."""
    user = User()
    log = STACK_DIR / "logs" / {"tasks": "task-api", "dashboard_cursors": "dashboard",
                                "dapr_chat_state": "chat"}[table]
    log = log.with_suffix(".log")
    mark = log.stat().st_size
    psql(f"REVOKE SELECT ON {table} FROM CURRENT_USER")
    try:
        r = call(user)
    finally:
        psql(f"GRANT SELECT ON {table} TO CURRENT_USER")
    assert_problem(r, 503, "upstream-unavailable")
    no_leak(r)
    # The cause is logged: PostgreSQL's text where Dapr passes it on (the state store), the
    # completion guard's finding where the binding hides it (ADR 0007).
    assert "upstream failure" in log.read_bytes()[mark:].decode(errors="replace")
    assert call(user).status_code in (200, 404)


def test_readiness_names_no_internal_address():
    """Guards /readyz, which probes and the public ingress can reach: ready or not, the answer
    says whether the sidecar answers, never its URL."""
    for url in (BASE, CHAT, DASHBOARD, NOTIFICATION):
        r = requests.get(f"{url}/readyz", timeout=30)
        assert r.status_code == 200, (url, r.text)
        no_leak(r)
    # A component whose sidecar is gone: 503, still without the address.
    dead = free_port()
    with serve("chat", f"http://127.0.0.1:{dead}") as (_, url):
        r = requests.get(f"{url}/readyz", timeout=30)
        assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json", r.text
        assert r.json()["detail"] == "the Dapr sidecar could not be reached"
        no_leak(r)
        assert str(dead) not in r.text


def test_the_chat_refuses_an_oversized_body_with_413():
    """Guards the chat's body limit (16 KiB), like the Task API's: 2 MiB with Content-Length or
    chunked is refused with 413 problem+json before it is parsed, and nothing is said."""
    user = User()
    big = json.dumps({"message": "add " + "x" * TWO_MIB}).encode()
    for data in (big, (big[i:i + 65536] for i in range(0, len(big), 65536))):
        r = requests.post(f"{CHAT}/api/chat", data=data, timeout=30,
                          headers={**user.headers(), "content-type": "application/json"})
        problem = assert_problem(r, 413, "payload-too-large")
        assert "16384" in problem["detail"]
    assert psql(f"select count(*) from tasks where user_id = '{user.id}'") == [["0"]]
    assert requests.get(f"{CHAT}/readyz", timeout=30).status_code == 200
