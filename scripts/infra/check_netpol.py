"""Evaluates the rendered chart's NetworkPolicies as an enforcing network plugin does.

Usage: check_netpol.py <repository root> <rendered-<env>.yaml>...

The pods of the release (each SpinApp with its podLabels, the push broker), a cert-manager HTTP-01
solver pod, a pod of the namespace without the platform's labels, and the ingress controller are
placed in their namespaces; a connection is allowed when the source's egress policies and the
destination's ingress policies both admit it (Kubernetes semantics: a pod no policy of a direction
selects is open in that direction; ipBlocks match pod addresses, as kube-router and Calico do).

Asserted per environment:
- Dapr invocation: each caller of networkPolicies.daprInvocation reaches its callee's sidecar on
  daprd's internal gRPC port 50002; no other app and no unlabelled pod does; the callers of each
  callee are exactly the app ids the Dapr Configuration's accessControl allows an operation under
  that callee's route base (chat, dashboard → task-api /api/**; task-api → notification);
- with TLS, the ingress controller reaches the HTTP-01 solver pod on 8089 (issuance and renewal);
- the ingress controller reaches the public apps on 80; an unlabelled pod reaches no app's sidecar
  and not the push broker.
"""
import ipaddress
import sys
from pathlib import Path

import yaml

NAMESPACE = "todo-platform"
DAPR_INTERNAL = 50002      # daprd's internal gRPC port (the `<app-id>-dapr` Service's dapr-internal)
ACME_SOLVER = 8089         # cert-manager's HTTP-01 solver pods listen here


class Pod:
    def __init__(self, name, namespace, labels, ip):
        self.name, self.namespace, self.labels, self.ip = name, namespace, labels, ipaddress.ip_address(ip)

    def __repr__(self):
        return f"{self.namespace}/{self.name}"


def selects(selector, labels):
    """A LabelSelector (matchLabels, matchExpressions) against a label set; {} selects all."""
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != str(v):
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], [str(v) for v in e.get("values", [])]
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def peer_matches(peer, policy_ns, pod):
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        if pod.ip not in ipaddress.ip_network(block["cidr"]):
            return False
        return not any(pod.ip in ipaddress.ip_network(x) for x in block.get("except", []))
    ns_sel, pod_sel = peer.get("namespaceSelector"), peer.get("podSelector")
    if ns_sel is not None:
        if not selects(ns_sel, {"kubernetes.io/metadata.name": pod.namespace}):
            return False
    elif pod.namespace != policy_ns:
        return False
    return pod_sel is None or selects(pod_sel, pod.labels)


def port_matches(ports, port):
    if not ports:
        return True
    for p in ports:
        if p.get("protocol", "TCP") != "TCP":
            continue
        if "port" not in p:
            return True
        lo = p["port"]
        if isinstance(lo, str):
            continue  # named ports: none in this chart
        if lo <= port <= p.get("endPort", lo):
            return True
    return False


def admitted(policies, pod, peer, port, direction):
    """Whether the policies of pod's namespace admit traffic with peer in direction."""
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    applying = [p for p in policies if p["metadata"].get("namespace", NAMESPACE) == pod.namespace
                and direction in p["spec"].get("policyTypes", ["Ingress"]) and selects(p["spec"]["podSelector"], pod.labels)]
    if not applying:
        return True
    for p in applying:
        for rule in p["spec"].get(key) or []:
            peers = rule.get(peers_key)
            if (not peers or any(peer_matches(x, p["metadata"].get("namespace", NAMESPACE), peer) for x in peers)) \
                    and port_matches(rule.get("ports"), port):
                return True
    return False


def callee_of(operation, values):
    """The app id serving an accessControl operation: the one whose route base it is under."""
    best, best_len = None, -1
    for app, conf in values["apps"].items():
        base = (conf.get("routePrefix") or "").rstrip("/")
        if (operation == base or operation.startswith(base + "/")) and len(base) > best_len:
            best, best_len = app, len(base)
    return best


def allowed(policies, src, dst, port):
    return admitted(policies, src, dst, port, "Egress") and admitted(policies, dst, src, port, "Ingress")


def check(path, values):
    docs = [d for d in yaml.safe_load_all(Path(path).read_text()) if d]
    env = next((d["metadata"]["labels"].get("todo.platform/environment") for d in docs
                if d.get("metadata", {}).get("labels", {}).get("todo.platform/environment")), path)
    errors = []
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    if not policies:
        return [f"{env}: no NetworkPolicy rendered"], 0
    apps, pods, n = {}, [], 10
    for d in docs:
        if d["kind"] == "SpinApp":
            n += 1
            apps[d["metadata"]["name"]] = Pod(d["metadata"]["name"], NAMESPACE, dict(d["spec"].get("podLabels") or {}), f"10.244.0.{n}")
        elif d["kind"] in ("StatefulSet", "Deployment"):
            n += 1
            pods.append(Pod(d["metadata"]["name"], NAMESPACE, dict(d["spec"]["template"]["metadata"]["labels"]), f"10.244.0.{n}"))
    np = values["networkPolicies"]
    stranger = Pod("unlabelled", NAMESPACE, {"app": "debug"}, "10.244.0.200")
    solver = Pod("cm-acme-http-solver", NAMESPACE, {"acme.cert-manager.io/http01-solver": "true",
                                                     "acme.cert-manager.io/http-domain": "1"}, "10.244.0.201")
    ingress = Pod("ingress-controller", np["ingressNamespace"], {"app.kubernetes.io/name": "traefik"}, "10.244.1.10")
    checked = 0

    def expect(src, dst, port, want, why):
        nonlocal checked
        checked += 1
        got = allowed(policies, src, dst, port)
        if got != want:
            errors.append(f"{env}: {src} → {dst}:{port} is {'allowed' if got else 'blocked'} ({why})")

    # Each allowed operation belongs to the app whose route base it lies under (the Task API has
    # none): accessControl's callers of each callee.
    acl_callers: dict[str, set[str]] = {}
    for d in docs:
        if d["kind"] != "Configuration":
            continue
        for p in (d["spec"].get("accessControl") or {}).get("policies", []):
            for op in p.get("operations", []):
                if op.get("action") == "allow":
                    acl_callers.setdefault(callee_of(op["name"], values), set()).add(p["appId"])
    for callee, callers in (np.get("daprInvocation") or {c: sorted(v) for c, v in acl_callers.items()}).items():
        if callee not in apps:
            continue
        live = [c for c in callers if c in apps]
        if set(live) != acl_callers.get(callee, set()):
            errors.append(f"{env}: NetworkPolicy admits invocation of {callee} from {sorted(live)}, "
                          f"the Dapr accessControl from {sorted(acl_callers.get(callee, set()))}")
        for caller in live:
            expect(apps[caller], apps[callee], DAPR_INTERNAL, True, f"Dapr invocation {caller} → {callee}")
        for other in sorted(set(apps) - set(live) - {callee}):
            expect(apps[other], apps[callee], DAPR_INTERNAL, False, f"{other} does not invoke {callee}")
        expect(stranger, apps[callee], DAPR_INTERNAL, False, "a pod without the platform's labels")
    for app, pod in apps.items():
        expect(stranger, pod, DAPR_INTERNAL, False, "a pod without the platform's labels reaches no sidecar")
        expect(stranger, pod, 3500, False, "a pod without the platform's labels reaches no sidecar HTTP API")
    for pod in pods:
        if pod.labels.get("app.kubernetes.io/name") == "push-broker":
            expect(stranger, pod, 1883, False, "only the binding apps reach the push broker")
        if pod.labels.get("app.kubernetes.io/name") == "live-sync":
            port = values["liveSync"]["port"]
            expect(stranger, pod, port, False, "only pages (through the ingress) and the dashboard reach live sync")
            expect(ingress, pod, port, True, "pages' WebSockets through the ingress controller")
            if "dashboard" in apps:
                expect(apps["dashboard"], pod, port, True, "the dashboard's live-sync binding publishes")
            for other in sorted(set(apps) - {"dashboard"}):
                expect(apps[other], pod, port, False, f"{other} does not publish to live sync")
    for app, conf in values["apps"].items():
        if app in apps and conf.get("public"):
            expect(ingress, apps[app], 80, True, "the ingress controller reaches a public app")
    if values["ingress"]["enabled"] and values["ingress"]["tls"]:
        expect(ingress, solver, ACME_SOLVER, True, "HTTP-01 challenge through the ingress controller")
        expect(stranger, solver, ACME_SOLVER, False, "only the ingress controller reaches the solver")
    return errors, checked


def merged_values(root, env):
    base = yaml.safe_load((root / "k8s/chart/values.yaml").read_text())
    over = yaml.safe_load((root / f"k8s/chart/values-{env}.yaml").read_text()) or {}

    def merge(a, b):
        for k, v in b.items():
            a[k] = merge(a.get(k, {}), v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
        return a
    return merge(base, over)


def main():
    root = Path(sys.argv[1])
    errors, total = [], 0
    for path in sys.argv[2:]:
        env = Path(path).stem.removeprefix("rendered-")
        values = merged_values(root, env if (root / f"k8s/chart/values-{env}.yaml").is_file() else "prod")
        e, n = check(path, values)
        errors += e
        total += n
    for e in errors:
        print(f"FAIL {e}")
    print(f"» {total} connections evaluated against the rendered NetworkPolicies of {len(sys.argv) - 2} environment(s)")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
