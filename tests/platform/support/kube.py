"""A real Kubernetes control plane for a test: etcd and kube-apiserver built from their Go modules
(`scripts/setup.sh kube`, the same binaries `scripts/check-infra.sh` runs), on loopback ports,
with static tokens: one cluster admin (the test, playing the cluster and the Secrets Store CSI
driver) and any number of service-account identities whose rights come from RBAC objects the
test creates (the chart's own Role and RoleBinding)."""

from __future__ import annotations

import base64
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import requests

from .stack import TOOLS, free_port, wait_until


class ControlPlane:
    def __init__(self, service_accounts: list[tuple[str, str]]):
        """`service_accounts`: (namespace, name) pairs that get a token of their own."""
        self.dir = Path(tempfile.mkdtemp(prefix="kube-"))
        self.port = free_port()
        self.admin_token = secrets.token_hex(16)
        self.sa_tokens = {sa: secrets.token_hex(16) for sa in service_accounts}
        self.procs: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca(self) -> str:
        return str(self.dir / "certs" / "apiserver.crt")

    def start(self, timeout: float = 180) -> "ControlPlane":
        for binary in ("etcd", "kube-apiserver"):
            assert (TOOLS / "bin" / binary).exists(), f"{binary} not built: run scripts/setup.sh kube"
        etcd_port, peer_port = free_port(), free_port()
        lines = [f"{self.admin_token},test-admin,test-admin,system:masters"]
        for (ns, name), tok in self.sa_tokens.items():
            lines.append(f'{tok},system:serviceaccount:{ns}:{name},sa-{ns}-{name},'
                         f'"system:serviceaccounts,system:serviceaccounts:{ns}"')
        (self.dir / "tokens.csv").write_text("\n".join(lines) + "\n")
        subprocess.run(["openssl", "genrsa", "-out", str(self.dir / "sa.key"), "2048"], check=True, capture_output=True)
        subprocess.run(["openssl", "rsa", "-in", str(self.dir / "sa.key"), "-pubout", "-out", str(self.dir / "sa.pub")],
                       check=True, capture_output=True)
        self._spawn("etcd", [str(TOOLS / "bin/etcd"), "--name", "test", "--data-dir", str(self.dir / "etcd"),
                             "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
                             "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
                             "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
                             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
                             "--initial-cluster", f"test=http://127.0.0.1:{peer_port}"])
        self._spawn("apiserver", [
            str(TOOLS / "bin/kube-apiserver"), "--etcd-servers", f"http://127.0.0.1:{etcd_port}",
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(self.port),
            "--cert-dir", str(self.dir / "certs"), "--token-auth-file", str(self.dir / "tokens.csv"),
            "--authorization-mode", "Node,RBAC", "--service-cluster-ip-range", "10.96.0.0/16",
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-account-key-file", str(self.dir / "sa.pub"),
            "--service-account-signing-key-file", str(self.dir / "sa.key")])
        wait_until("kube-apiserver ready", lambda: Path(self.ca).exists() and self.get("/readyz").status_code == 200,
                   timeout=timeout, interval=0.5)
        return self

    def _spawn(self, name: str, cmd: list[str]):
        log = open(self.dir / f"{name}.log", "ab")
        self.procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def kubeconfig(self, namespace: str, name: str) -> Path:
        """A kubeconfig that authenticates as the service account `namespace/name`."""
        path = self.dir / f"kubeconfig-{namespace}-{name}"
        path.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: local\n  cluster: {{server: \"{self.url}\", certificate-authority: \"{self.ca}\"}}\n"
            f"users:\n- name: sa\n  user: {{token: \"{self.sa_tokens[(namespace, name)]}\"}}\n"
            "contexts:\n- name: local\n  context: {cluster: local, user: sa}\ncurrent-context: local\n")
        path.chmod(0o600)
        return path

    def request(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(method, f"{self.url}{path}", verify=self.ca, timeout=30,
                                headers={"authorization": f"Bearer {self.admin_token}"}, **kw)

    def get(self, path: str) -> requests.Response:
        return self.request("GET", path)

    def create(self, path: str, obj: dict) -> dict:
        r = self.request("POST", path, json=obj)
        assert r.status_code == 201, r.text
        return r.json()

    def apply_secret(self, namespace: str, name: str, data: dict[str, str]) -> None:
        """Creates or replaces an Opaque Secret, as the Secrets Store CSI driver does when it syncs
        (and, on rotation, updates) a secretObject."""
        obj = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
               "metadata": {"name": name, "namespace": namespace},
               "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}
        r = self.request("PUT", f"/api/v1/namespaces/{namespace}/secrets/{name}", json=obj)
        if r.status_code == 404:
            self.create(f"/api/v1/namespaces/{namespace}/secrets", obj)
        else:
            assert r.status_code == 200, r.text

    def tail(self, name: str = "apiserver", n: int = 3000) -> str:
        try:
            return (self.dir / f"{name}.log").read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for p in reversed(self.procs):
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
