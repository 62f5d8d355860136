"""Talks to the local kube-apiserver of scripts/check-infra.sh through its REST API.

Usage (KUBE_URL, KUBE_TOKEN and KUBE_CA, the server certificate's chain, in the environment):
  kube_api.py install-crds <dir or file with CRD YAML>...   create the CRDs, wait until Established
  kube_api.py create <manifest>...                          create objects for real
  kube_api.py dry-run [--expect-reject] <manifest>...       server-side dry-run of every object
  kube_api.py get <path> <dotted.field>                     print one field of one object

`dry-run` sends each object as a create with `dryRun=All&fieldValidation=Strict`: the server runs
defaulting, its own validation, CRD structural schemas and CEL rules, and rejects unknown fields,
but stores nothing. Namespaced objects without a namespace go to DEFAULT_NAMESPACE, as
`helm install --namespace` would put them.
"""
import os
import sys
import time
from pathlib import Path

import requests
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from crd_to_jsonschema import crd_documents  # noqa: E402

DEFAULT_NAMESPACE = "todo-platform"


def api_base(api_version: str) -> str:
    """The path of a group version: the core group under /api, every other under /apis."""
    return "/api/v1" if api_version == "v1" else f"/apis/{api_version}"


class Api:
    def __init__(self) -> None:
        self.url = os.environ["KUBE_URL"].rstrip("/")
        # kube-apiserver signs its serving certificate with a CA of its own at start (--cert-dir).
        self.ca = os.environ["KUBE_CA"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {os.environ['KUBE_TOKEN']}"
        self._resources: dict[str, dict[str, dict]] = {}

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        # verify per request: a session's verify loses to REQUESTS_CA_BUNDLE from the environment.
        return self.session.request(method, f"{self.url}{path}", timeout=60, verify=self.ca, **kwargs)

    def resource(self, api_version: str, kind: str) -> dict:
        """The discovery entry (name, namespaced) of a kind, fetched once per group version."""
        if api_version not in self._resources:
            r = self.request("GET", api_base(api_version))
            r.raise_for_status()
            self._resources[api_version] = {
                res["kind"]: res for res in r.json()["resources"] if "/" not in res["name"]
            }
        entry = self._resources[api_version].get(kind)
        if entry is None:
            raise LookupError(f"the server does not serve {kind} in {api_version}")
        return entry

    def collection(self, obj: dict) -> str:
        api_version, kind = obj["apiVersion"], obj["kind"]
        entry = self.resource(api_version, kind)
        base = api_base(api_version)
        if entry["namespaced"]:
            namespace = obj.get("metadata", {}).get("namespace") or DEFAULT_NAMESPACE
            return f"{base}/namespaces/{namespace}/{entry['name']}"
        return f"{base}/{entry['name']}"

    def create(self, obj: dict, dry_run: bool) -> requests.Response:
        params = {"fieldValidation": "Strict"}
        if dry_run:
            params["dryRun"] = "All"
        return self.request("POST", self.collection(obj), params=params, json=obj)


def documents(paths: list[str]):
    """Every object (a mapping with a kind) in the YAML files."""
    for path in paths:
        for doc in yaml.safe_load_all(Path(path).read_text()):
            if isinstance(doc, dict) and doc.get("kind"):
                yield doc


def label(obj: dict) -> str:
    meta = obj.get("metadata", {})
    namespace = meta.get("namespace")
    return f"{obj['kind']} {namespace + '/' if namespace else ''}{meta.get('name')}"


def reason(r: requests.Response) -> str:
    try:
        return r.json().get("message", r.text)
    except ValueError:
        return r.text


def install_crds(api: Api, sources: list[str]) -> int:
    names = []
    for source in sources:
        for _, crd in crd_documents(Path(source)):
            r = api.create(crd, dry_run=False)
            if r.status_code not in (201, 409):
                print(f"REJECTED CRD {crd['metadata']['name']}: {reason(r)}")
                return 1
            names.append(crd["metadata"]["name"])
    deadline = time.monotonic() + 60
    pending = set(names)
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            r = api.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
            conditions = (r.json().get("status", {}).get("conditions") or []) if r.ok else []
            if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                pending.discard(name)
        time.sleep(0.2)
    if pending:
        print(f"not Established after 60 s: {', '.join(sorted(pending))}")
        return 1
    print(f"» {len(names)} CRDs established")
    return 0


def create(api: Api, paths: list[str]) -> int:
    for obj in documents(paths):
        r = api.create(obj, dry_run=False)
        if r.status_code not in (201, 409):
            print(f"REJECTED {label(obj)}: {reason(r)}")
            return 1
        print(f"{'created' if r.status_code == 201 else 'exists '} {label(obj)}")
    return 0


def dry_run(api: Api, paths: list[str], expect_reject: bool) -> int:
    bad = 0
    for path in paths:
        objects = list(documents([path]))
        rejected = []
        for obj in objects:
            try:
                r = api.create(obj, dry_run=True)
            except LookupError as error:
                rejected.append(f"{label(obj)}: {error}")
                continue
            if r.status_code != 201:
                rejected.append(f"{label(obj)}: {r.status_code} {reason(r)}")
        name = Path(path).name
        if expect_reject:
            if rejected:
                print(f"» rejected as expected: {name}: {rejected[0][:160]}")
            else:
                print(f"ACCEPTED, should be rejected: {name}")
                bad += 1
        else:
            for line in rejected:
                print(f"REJECTED {line}")
            print(f"» {name}: {len(objects) - len(rejected)} of {len(objects)} objects accepted")
            bad += len(rejected)
    return 1 if bad else 0


def get(api: Api, path: str, field: str) -> int:
    r = api.request("GET", path)
    if not r.ok:
        print(f"GET {path}: {r.status_code} {reason(r)}", file=sys.stderr)
        return 1
    value = r.json()
    for part in field.split("."):
        value = value[part]
    print(value)
    return 0


def main() -> int:
    command, args = sys.argv[1], sys.argv[2:]
    api = Api()
    if command == "install-crds":
        return install_crds(api, args)
    if command == "create":
        return create(api, args)
    if command == "dry-run":
        expect_reject = "--expect-reject" in args
        return dry_run(api, [a for a in args if a != "--expect-reject"], expect_reject)
    if command == "get":
        return get(api, args[0], args[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
