"""Rotation of the JWT secret and the database password on a running stack, without restarting
anything: the local file secret store reads its file once at init, so each rotation writes a new
secrets file and points every sidecar's `local-secrets` component at it; Dapr's HotReload (on by
default in 1.18) re-initialises the store within milliseconds. The PostgreSQL binding resolves its
secretKeyRef once at init too, so its component is then pointed at the new key and hot-reloaded
(components retry the calls that meet the binding mid-reload). The database credential alternates
between two login roles (`todo` and `todo_alt`, a member of `todo`): the role every sidecar moves to
gets a fresh password first, the role it leaves gets a new random one afterwards, so every pool
holds a valid credential at every moment. Password checks are enforced (scram) for both roles for
the duration of the scenario; the local stack otherwise trusts loopback connections."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from pathlib import Path

import requests

from load import Signer
from stackctl import APPS, PG_PORT, STACK_DIR, dapr_url, psql

HBA_LINE = "host all todo,todo_alt 127.0.0.1/32 scram-sha-256  # chaos: enforced during rotation\n"
DB_COMPONENTS = ("tasks-db.yaml", "chat-state.yaml")
GENERATIONS = ("r1", "r2")


def _write_atomic(path: Path, text: str) -> None:
    # Written beside the stack's pid files, not in the watched resources dir, then renamed.
    tmp = STACK_DIR / "run" / f"{path.parent.name}-{path.name}.tmp"
    tmp.write_text(text)
    tmp.replace(path)


class Rotation:
    def __init__(self, signer: Signer):
        self.signer = signer
        self.base = json.loads((STACK_DIR / "secrets" / "secrets.json").read_text())
        self.originals = {(app, f): (STACK_DIR / "resources" / app / f).read_text()
                          for app in APPS for f in ("secrets.yaml", *DB_COMPONENTS)
                          if (STACK_DIR / "resources" / app / f).exists()}
        self.hba = STACK_DIR / "postgres" / "pg_hba.conf"
        self.hba_original = self.hba.read_text()
        self.log: list[str] = []
        self._marks: dict[str, int] = {}

    def _say(self, msg: str) -> None:
        print(f"  rotation: {msg}", flush=True)
        self.log.append(msg)

    def enforce_passwords(self) -> None:
        psql("do $$ begin if not exists (select 1 from pg_roles where rolname = 'todo_alt') then "
             "create role todo_alt login in role todo; end if; end $$")
        self.hba.write_text(HBA_LINE + self.hba_original)
        psql("select pg_reload_conf()")
        time.sleep(0.5)
        self._say("password checks enforced for roles todo, todo_alt (scram-sha-256)")

    def emergency_restore(self) -> None:
        """After a failed rotation: the original password and resources (components first)."""
        old_password = self.base["tasks-db-connection"].split("password=")[1].split()[0]
        psql(f"alter role todo password '{old_password}'")
        for (app, f), text in self.originals.items():
            if f in DB_COMPONENTS:
                _write_atomic(STACK_DIR / "resources" / app / f, text)
        time.sleep(3)
        for (app, f), text in self.originals.items():
            if f == "secrets.yaml":
                _write_atomic(STACK_DIR / "resources" / app / f, text)
        self.restore_trust()

    def restore_trust(self) -> None:
        self.hba.write_text(self.hba_original)
        psql("select pg_reload_conf()")

    def can_login(self, user: str, password: str) -> bool:
        return subprocess.run(["psql", f"postgresql://{user}:{password}@127.0.0.1:{PG_PORT}/todo", "-qAtc",
                               "select 1"], capture_output=True, timeout=30).returncode == 0

    def _serving(self, app: str, key: str, value: str) -> bool:
        try:
            r = requests.get(f"{dapr_url(app)}/v1.0/secrets/local-secrets/{key}", timeout=3)
            return r.ok and r.json().get(key) == value
        except requests.RequestException:
            return False

    def _write_generation(self, gen: str, conn: str, jwt: str, previous: str) -> None:
        """A new secrets file in which every connection key ever referenced holds `conn`: a store
        reload re-resolves the secret references of loaded components, and a key that is gone makes
        their re-init fail, which stops daprd."""
        keys = {k: conn for k in ("tasks-db-connection", *(f"tasks-db-connection-{g}" for g in GENERATIONS))}
        file = STACK_DIR / "secrets" / f"secrets-{gen}.json"
        file.write_text(json.dumps({**self.base, **keys, "jwt-secret": jwt, "jwt-secret-previous": previous}))
        file.chmod(0o600)

    def _point_store(self, file: str, key: str, value: str) -> None:
        t0 = time.monotonic()
        for app in APPS:
            text = self.originals[(app, "secrets.yaml")].replace("secrets/secrets.json", f"secrets/{file}")
            _write_atomic(STACK_DIR / "resources" / app / "secrets.yaml", text)
        for app in APPS:
            while not self._serving(app, key, value):
                if time.monotonic() - t0 > 30:
                    raise RuntimeError(f"daprd-{app} did not reload local-secrets")
                time.sleep(0.1)
        self._say(f"every sidecar serves {file} after {time.monotonic() - t0:.2f}s")

    def _point_components(self, key: str) -> None:
        t1 = time.monotonic()
        self._marks = {app: (STACK_DIR / "logs" / f"daprd-{app}.log").stat().st_size for app in APPS}
        for app in APPS:
            for f in DB_COMPONENTS:
                if (app, f) in self.originals:
                    text = self.originals[(app, f)].replace("name: tasks-db-connection\n", f"name: {key}\n") \
                        .replace("key: tasks-db-connection\n", f"key: {key}\n")
                    _write_atomic(STACK_DIR / "resources" / app / f, text)
        self._wait_components_reloaded()
        self._say(f"database components reloaded with secret {key} in {time.monotonic() - t1:.2f}s")

    def _apply(self, gen: str, conn: str, jwt: str, previous: str) -> None:
        self._write_generation(gen, conn, jwt, previous)
        self._point_store(f"secrets-{gen}.json", "jwt-secret", jwt)
        self._point_components(f"tasks-db-connection-{gen}")

    def _wait_components_reloaded(self) -> None:
        """Waits until every sidecar logged the reload of its database components (in its log
        past the sizes in `_marks`, taken before the files changed)."""
        # tasks-db is scoped to every app but chat; chat-state to chat only.
        want = {(app, "chat-state" if app == "chat" else "tasks-db") for app in APPS}
        deadline = time.monotonic() + 30
        while want:
            for app, comp in list(want):
                log = (STACK_DIR / "logs" / f"daprd-{app}.log").read_bytes()
                if f"Component loaded: {comp} ".encode() in log[self._marks.get(app, 0):]:
                    want.discard((app, comp))
            if time.monotonic() > deadline:
                raise RuntimeError(f"components not reloaded: {sorted(want)}")
            time.sleep(0.1)

    def rotate(self) -> None:
        """Current credentials (todo, jwt J1) -> todo_alt with a fresh password, jwt J2 (J1 previous)."""
        self.j1 = self.base["jwt-secret"]
        self.j2 = secrets.token_urlsafe(36)
        self.p2 = secrets.token_urlsafe(24)
        psql(f"alter role todo_alt login password '{self.p2}'")
        self._apply("r1", f"host=127.0.0.1 port={PG_PORT} user=todo_alt password={self.p2} dbname=todo sslmode=disable",
                    self.j2, self.j1)
        self.signer.use(self.j2)
        self._say("load now signs with the new JWT secret (the old one stays valid as previous)")
        old_password = self.base["tasks-db-connection"].split("password=")[1].split()[0]
        psql(f"alter role todo password '{secrets.token_urlsafe(24)}'")
        assert not self.can_login("todo", old_password), "the old database password still works"
        assert self.can_login("todo_alt", self.p2), "the new database password does not work"
        self._say("old database password rejected, new one accepted")

    def restore(self) -> None:
        """Back to the stack's own credentials (todo, jwt J1), the same way; then the original
        resources: components first (their key exists in every file), the store file last."""
        old_password = self.base["tasks-db-connection"].split("password=")[1].split()[0]
        psql(f"alter role todo password '{old_password}'")
        self._apply("r2", self.base["tasks-db-connection"], self.j1, self.j2)
        self.signer.use(self.j1)
        self._say("load signs with the original JWT secret again")
        psql("alter role todo_alt password null")
        self._point_components("tasks-db-connection")
        self._point_store("secrets.json", "jwt-secret-previous", self.base["jwt-secret-previous"])
        for gen in GENERATIONS:
            (STACK_DIR / "secrets" / f"secrets-{gen}.json").unlink(missing_ok=True)
        self.restore_trust()
        self._say("original secrets, resources and loopback trust restored")
