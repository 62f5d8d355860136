"""Checks k8s/cluster/addons.yaml, the cluster add-ons scripts/cluster-addons.sh installs.

Usage: check_addons.py <repository root>

- every release names an exact chart version (no range, no `latest`), and every one the platform
  needs is there: cert-manager, an ingress controller, Dapr, KEDA, runtime-class-manager,
  spin-operator, kube-prometheus-stack;
- spin-operator comes from its official OCI chart oci://ghcr.io/spinframework/charts/spin-operator;
- Dapr's chart sets mTLS on with 24 h workload certificates and 15 m clock skew (the
  `daprsystem` Configuration it owns);
- the versions the chart is validated against (scripts/lib/common.sh: DAPR_VERSION, KEDA_VERSION,
  CERT_MANAGER_VERSION) are the installed ones;
- the ingress controller is not the retired ingress-nginx, and its IngressClass and namespace are
  the chart's ingress.className and networkPolicies.ingressNamespace;
- the Shim installs containerd-shim-spin of the Spin version the components are built with, and
  creates the runtime class the SpinAppExecutor names, with the handler runtime-class-manager
  registers in containerd for that shim binary (`spin-v2`), and the chart's SpinApps name that
  SpinAppExecutor;
- an OpenTelemetry collector release serves the chart's dapr.tracing.otlpEndpoint;
- the runbook installs no add-on by hand (no `helm upgrade --install` of an add-on in docs/).
"""
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(sys.argv[1])
errors = []
spec = yaml.safe_load((ROOT / "k8s/cluster/addons.yaml").read_text())
releases = {r["name"]: r for r in spec["releases"]}
common = (ROOT / "scripts/lib/common.sh").read_text()


def pin(name: str) -> str:
    return re.search(rf'^{name}="v?([^"]+)"', common, re.M).group(1)


for r in spec["releases"]:
    v = str(r.get("version", ""))
    if not re.fullmatch(r"v?\d+\.\d+\.\d+", v):
        errors.append(f"{r['name']}: version {v!r} is not an exact release")
for need in ("cert-manager", "dapr", "keda", "runtime-class-manager", "spin-operator", "kube-prometheus-stack"):
    if need not in releases:
        errors.append(f"no {need} release")
if releases.get("spin-operator", {}).get("chart") != "oci://ghcr.io/spinframework/charts/spin-operator":
    errors.append("spin-operator must come from oci://ghcr.io/spinframework/charts/spin-operator")
# Sentry's mTLS settings live in the `daprsystem` Configuration the Dapr chart renders from its
# global.mtls values (the platform chart must not render it: check_rendered.py).
mtls = ((releases.get("dapr", {}).get("values") or {}).get("global") or {}).get("mtls") or {}
if mtls != {**mtls, "enabled": True, "workloadCertTTL": "24h", "allowedClockSkew": "15m"}:
    errors.append(f"dapr global.mtls {mtls}: want enabled, 24h workload certificates, 15m clock skew")
for release, var in (("dapr", "DAPR_VERSION"), ("keda", "KEDA_VERSION"), ("cert-manager", "CERT_MANAGER_VERSION")):
    if release in releases and str(releases[release]["version"]).lstrip("v") != pin(var):
        errors.append(f"{release} {releases[release]['version']} is not {var} {pin(var)} (the chart's schemas)")

values = yaml.safe_load((ROOT / "k8s/chart/values.yaml").read_text())
text = (ROOT / "k8s/cluster/addons.yaml").read_text()
if re.search(r"ingress-nginx|kubernetes\.github\.io/ingress-nginx", text.split("releases:", 1)[1]):
    errors.append("ingress-nginx is retired upstream: use a maintained controller")
ingress = [r for r in spec["releases"] if (r.get("values") or {}).get("ingressClass")]
if len(ingress) != 1:
    errors.append("exactly one release must provide the IngressClass")
else:
    r = ingress[0]
    if r["values"]["ingressClass"].get("name") != values["ingress"]["className"]:
        errors.append(f"IngressClass {r['values']['ingressClass'].get('name')} is not the chart's {values['ingress']['className']}")
    if r["namespace"] != values["networkPolicies"]["ingressNamespace"]:
        errors.append(f"the controller runs in {r['namespace']}, the NetworkPolicies admit {values['networkPolicies']['ingressNamespace']}")
if "nginx" in values["ingress"]["className"] or "nginx" in values["networkPolicies"]["ingressNamespace"]:
    errors.append("the chart still targets ingress-nginx")

shim = yaml.safe_load((ROOT / "k8s/cluster/spin-shim.yaml").read_text())
executor = next(d for d in yaml.safe_load_all((ROOT / "k8s/cluster/spinapp-executor.yaml").read_text()) if d["kind"] == "SpinAppExecutor")
readme = (ROOT / "README.md").read_text()
shim_version = re.search(r"containerd-shim-spin (v[0-9.]+)", readme).group(1)
if f"/{shim_version}/" not in shim["spec"]["fetchStrategy"]["anonHttp"]["location"]:
    errors.append(f"the Shim does not install containerd-shim-spin {shim_version} (Spin {pin('SPIN_VERSION')})")
if shim["spec"]["runtimeClass"]["name"] != executor["spec"]["deploymentConfig"]["runtimeClassName"]:
    errors.append("the Shim's runtime class is not the one the SpinAppExecutor names")
# runtime-class-manager v0.1.0: the node installer registers the containerd runtime under the shim
# binary's name without `containerd-shim-` (internal/shim RuntimeName) and creates the RuntimeClass
# with spec.runtimeClass.handler; any other handler names a runtime containerd does not have.
# The downloader only knows the fetch strategy `anonymousHttp`.
location = shim["spec"]["fetchStrategy"]["anonHttp"]["location"]
binary = re.sub(r"-linux-[a-z0-9_]+\.tar\.gz$", "", location.rsplit("/", 1)[1])
want_handler = binary.removeprefix("containerd-shim-")
if shim["spec"]["runtimeClass"]["handler"] != want_handler:
    errors.append(f"the Shim's RuntimeClass handler {shim['spec']['runtimeClass']['handler']!r} is not the runtime "
                  f"{want_handler!r} runtime-class-manager registers for {binary}")
if shim["spec"]["fetchStrategy"]["type"] != "anonymousHttp":
    errors.append(f"fetch strategy {shim['spec']['fetchStrategy']['type']!r} is not runtime-class-manager's anonymousHttp")
if values["executor"] != executor["metadata"]["name"]:
    errors.append(f"the chart's SpinApps name executor {values['executor']}, the cluster's SpinAppExecutor is {executor['metadata']['name']}")
print(f"» RuntimeClass {shim['spec']['runtimeClass']['name']} → handler {want_handler} ({binary}); executor {executor['metadata']['name']}")
for manifest in spec["manifests"]:
    if not (ROOT / manifest).is_file():
        errors.append(f"manifest {manifest} does not exist")

# The sidecars' trace endpoint is a collector this file installs.
endpoint = values["dapr"]["tracing"]["otlpEndpoint"]
host = endpoint.split(":")[0]
collectors = [r for r in spec["releases"] if r["chart"].endswith("opentelemetry-collector")]
if not any(host in (f"{(r.get('values') or {}).get('fullnameOverride', r['name'])}.{r['namespace']}.svc.cluster.local",
                    f"{(r.get('values') or {}).get('fullnameOverride', r['name'])}.{r['namespace']}") for r in collectors):
    errors.append(f"no OpenTelemetry collector release serves the sidecars' trace endpoint {endpoint}")

# The kafka_exporter ServiceMonitor selects what the upstream chart's Service carries.
exporter = next((r for r in spec["releases"] if r["chart"].endswith("prometheus-kafka-exporter")), None)
monitors = {d["metadata"]["name"]: d for d in yaml.safe_load_all((ROOT / "k8s/observability/monitors.yaml").read_text()) if d}
if exporter:
    sm = monitors.get("kafka-exporter", {}).get("spec", {})
    want = {"app": "prometheus-kafka-exporter", "release": exporter["name"]}
    if sm.get("selector", {}).get("matchLabels") != want or [e.get("port") for e in sm.get("endpoints", [])] != ["exporter-port"]:
        errors.append(f"ServiceMonitor kafka-exporter must select {want} and port exporter-port (the chart's Service)")

# Pod Security of the add-ons' namespaces: node-exporter (kube-prometheus-stack's default) runs
# with hostNetwork/hostPID/hostPath, which `baseline` and `restricted` reject.
namespaces = {d["metadata"]["name"]: d["metadata"].get("labels", {}) for d in yaml.safe_load_all((ROOT / "k8s/cluster/namespaces.yaml").read_text()) if d}
kps = releases.get("kube-prometheus-stack")
if kps and (kps.get("values") or {}).get("nodeExporter", {}).get("enabled", True):
    level = namespaces.get(kps["namespace"], {}).get("pod-security.kubernetes.io/enforce", "privileged")
    if level != "privileged":
        errors.append(f"namespace {kps['namespace']} enforces Pod Security {level}: node-exporter (hostNetwork, hostPID) is rejected")

for doc in (ROOT / "docs").rglob("*.md"):
    for line in doc.read_text().splitlines():
        m = re.search(r"helm upgrade --install (\S+)", line)
        if m and m.group(1) in releases:
            errors.append(f"{doc.relative_to(ROOT)} installs {m.group(1)} by hand")

for e in errors:
    print(f"FAIL {e}")
print(f"» {len(releases)} add-ons pinned: " + ", ".join(f"{n} {r['version']}" for n, r in releases.items()))
sys.exit(1 if errors else 0)
