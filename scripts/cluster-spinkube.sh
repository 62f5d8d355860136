#!/usr/bin/env bash
# SpinKube on the local cluster: spin-operator SPIN_OPERATOR_VERSION (its CRDs and its chart, from
# setup part spinkube) and the RuntimeClass and SpinAppExecutor the platform's chart uses, for the
# Spin shim that scripts/cluster.sh registers with containerd as runtime `spin-v2`.
# What differs from AKS: no runtime-class-manager (the shim is installed on the node by setup part
# spinkube and scripts/cluster.sh, as its node installer would), and no cert-manager: the webhook
# serving certificate, which the chart asks cert-manager for, is made here with openssl and its CA
# set as the webhooks' caBundle (what cert-manager's CA injector does).
#   scripts/cluster-spinkube.sh     (after scripts/cluster.sh up; idempotent)
source "$(dirname "$0")/lib/common.sh"

STATE="${TODO_CLUSTER_STATE:-$CACHE/local-cluster}"
BIN="$TOOLS/cluster/bin"
export KUBECONFIG="$STATE/pki/admin.kubeconfig"
NS=spin-operator
SK="$TOOLS/spinkube"
kctl() { "$BIN/kubectl" "$@"; }

[ -f "$KUBECONFIG" ] || die "no local cluster: scripts/cluster.sh up"
command -v helm >/dev/null || die "helm missing: scripts/setup.sh infra"
[ -d "$SK" ] || die "SpinKube not installed: scripts/setup.sh spinkube"
[ -x "$SK/bin/containerd-shim-spin-v2" ] || die "no Spin shim: scripts/setup.sh spinkube"
grep -q "runtimes.spin-v2" "$STATE/containerd/config.toml" \
  || die "containerd has no runtime spin-v2: scripts/cluster.sh down && scripts/cluster.sh up (after setup part spinkube)"
start=$SECONDS

bash "$ROOT/scripts/cluster-images.sh" >/dev/null

log "spin-operator $SPIN_OPERATOR_VERSION: CRDs"
kctl apply --server-side --force-conflicts -f "$SK/crds/" >/dev/null
kctl wait --for condition=established --timeout 60s crd/spinapps.core.spinkube.dev crd/spinappexecutors.core.spinkube.dev >/dev/null

kctl create namespace "$NS" --dry-run=client -o yaml | kctl apply -f - >/dev/null
# The webhook serving certificate (the chart's cert-manager Certificate: secret webhook-server-cert,
# DNS names of the webhook Service), signed by a CA of its own kept with the cluster's PKI.
pki="$STATE/pki/spin-operator-webhook"
mkdir -p "$pki" && chmod 700 "$pki"
if [ ! -f "$pki/tls.crt" ]; then
  svc="spin-operator-webhook-service.$NS.svc"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 3650 -subj "/CN=spin-operator-webhook-ca" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$pki/tls.key" -out "$pki/tls.csr" -subj "/CN=$svc" 2>/dev/null
  printf 'subjectAltName=DNS:%s,DNS:%s.cluster.local\nextendedKeyUsage=serverAuth\n' "$svc" "$svc" >"$pki/ext"
  openssl x509 -req -in "$pki/tls.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 365 \
    -extfile "$pki/ext" -out "$pki/tls.crt" 2>/dev/null
  rm -f "$pki/tls.csr" "$pki/ext"
fi
kctl -n "$NS" create secret tls webhook-server-cert --cert "$pki/tls.crt" --key "$pki/tls.key" --dry-run=client -o yaml \
  | kctl apply -f - >/dev/null

log "spin-operator $SPIN_OPERATOR_VERSION: chart (cert-manager objects replaced by the certificate above)"
# The chart rendered as `helm install` would, without the cert-manager Issuer and Certificate, with
# the webhooks' caBundle set; the image is scripts/cluster-images.sh's (nothing is pulled).
helm template spin-operator "$SK/chart" --namespace "$NS" \
  --set controllerManager.manager.image.tag="$SPIN_OPERATOR_VERSION" \
  | "$TOOLS/venv/bin/python" -c '
import base64, sys, yaml
ca = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
out = []
for doc in yaml.safe_load_all(sys.stdin):
    if not doc or doc.get("apiVersion", "").startswith("cert-manager.io/"):
        continue
    if doc["kind"] in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        doc["metadata"].get("annotations", {}).pop("cert-manager.io/inject-ca-from", None)
        for hook in doc["webhooks"]:
            hook["clientConfig"]["caBundle"] = ca
    out.append(doc)
yaml.safe_dump_all(out, sys.stdout)
' "$pki/ca.crt" | kctl -n "$NS" apply -f - >/dev/null
kctl -n "$NS" rollout status deployment/spin-operator-controller-manager --timeout 180s >/dev/null \
  || die "spin-operator not ready (kubectl -n $NS logs deploy/spin-operator-controller-manager)"
ok "spin-operator ready"

# The RuntimeClass runtime-class-manager creates for the Shim of k8s/cluster/spin-shim.yaml, and the
# executor every SpinApp of the chart names (k8s/cluster/spinapp-executor.yaml).
"$TOOLS/venv/bin/python" -c '
import sys, yaml
rc = yaml.safe_load(open(sys.argv[1]))["spec"]["runtimeClass"]
print(yaml.safe_dump({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass",
                      "metadata": {"name": rc["name"]}, "handler": rc["handler"]}))
' "$ROOT/k8s/cluster/spin-shim.yaml" | kctl apply -f - >/dev/null
kctl create namespace todo-platform --dry-run=client -o yaml | kctl apply -f - >/dev/null
# The webhooks answer once the manager's endpoint is up: retry the first admission briefly.
for _ in $(seq 1 30); do
  kctl apply -f "$ROOT/k8s/cluster/spinapp-executor.yaml" >/dev/null 2>&1 && break
  sleep 2
done
kctl apply -f "$ROOT/k8s/cluster/spinapp-executor.yaml" >/dev/null
ok "SpinKube ready in $((SECONDS - start)) s: RuntimeClass $(kctl get runtimeclass wasmtime-spin-v2 -o jsonpath='{.metadata.name} (handler {.handler})'), SpinAppExecutor containerd-shim-spin"
