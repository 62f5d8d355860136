#!/usr/bin/env bash
# Deploys the platform on the local cluster with the production chart (k8s/chart, values-cluster.yaml)
# and the deploy workflow's commands: `helm upgrade --install ... --atomic --wait --timeout 2m`, then
# scripts/ci/wait-rollouts.sh (Helm does not track SpinApps).
#   1. the host services the pods use (stack `cluster`: PostgreSQL, Kafka with a SASL/SCRAM listener,
#      Mailpit, Mosquitto, Centrifugo on the node's address; data in .cluster-data/);
#   2. the application as a Spin OCI artifact in the cluster's registry (`spin registry push`, tag =
#      hash of spin.toml and the built components);
#   3. the Kubernetes Secrets the chart's components name (Key Vault's role on AKS), from the stack's;
#   4. the release, with the node-specific values (addresses, ports) in .cluster-data/values-node.yaml.
#   scripts/cluster-deploy.sh       (after scripts/cluster.sh up, cluster-dapr.sh, cluster-spinkube.sh
#                                    and spin build; scripts/dev-up.sh --cluster runs them all)
# Env: IMAGE_TAG (default: the hash), ROLLOUT_TIMEOUT (wait-rollouts.sh, default 90 s).
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/stack.sh"

CLUSTER_STATE="${TODO_CLUSTER_STATE:-$CACHE/local-cluster}"
export KUBECONFIG="$CLUSTER_STATE/pki/admin.kubeconfig"
NS=todo-platform
CLUSTER_REGISTRY=127.0.0.1:14500
# The chart's NodePort clients: the node itself (kube-proxy masquerades NodePort traffic to the
# bridge's address) and its address on the default route.
BRIDGE_IP=10.244.0.1
API_PORT=16443
export PATH="$TOOLS/cluster/bin:$TOOLS/bin:$PATH"

[ -f "$KUBECONFIG" ] || die "no local cluster: scripts/cluster.sh up"
for b in kubectl helm spin envsubst curl; do command -v "$b" >/dev/null || die "$b missing (scripts/setup.sh cluster spin)"; done
kubectl get crd spinapps.core.spinkube.dev >/dev/null 2>&1 || die "no SpinKube on the cluster: scripts/cluster-spinkube.sh"
kubectl get namespace dapr-system >/dev/null 2>&1 || die "no Dapr on the cluster: scripts/cluster-dapr.sh"
curl -fsS "http://$CLUSTER_REGISTRY/v2/" >/dev/null || die "the cluster's registry does not answer on $CLUSTER_REGISTRY (scripts/cluster.sh up)"
start=$SECONDS

stack_env cluster
stack_infra_up

# The application artifact, tagged by content so a changed component is a new image.
if [ -z "${IMAGE_TAG:-}" ]; then
  sources="$("$TOOLS/venv/bin/python" - "$ROOT/spin.toml" <<'PY'
import sys, tomllib
print("\n".join(c["source"] for c in tomllib.load(open(sys.argv[1], "rb"))["component"].values()))
PY
)"
  while read -r s; do [ -f "$ROOT/$s" ] || die "component $s not built (spin build)"; done <<<"$sources"
  IMAGE_TAG="$(cd "$ROOT" && cat spin.toml $sources | sha256sum | cut -c1-12)"
fi
image="$CLUSTER_REGISTRY/todo-platform:$IMAGE_TAG"
log "spin registry push $image"
run_logged "$LOG_DIR/spin-push.log" spin registry push --insecure --from "$ROOT/spin.toml" "$image"

# The Secrets: the stack's (runtime-config/local/secrets.json as rendered for stack `cluster`), with
# the host reached on its node address, plus the Kafka SASL account; each Secret's key is its name
# (the chart's secretKeyRefs), the app API token's also `token` (the Dapr injector's key).
kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
KAFKA_SASL_PASSWORD="$(stack_secret kafka-sasl-password 24)" \
  "$TOOLS/venv/bin/python" - "$STACK_DIR/secrets/secrets.json" "$NS" "$POD_LISTEN" "$KAFKA_SASL_USER" <<'PY' \
  | kubectl apply -f - >/dev/null
import json, os, sys, yaml
secrets_file, namespace, host, kafka_user = sys.argv[1:5]
secrets = {k: v.replace("127.0.0.1", host) for k, v in json.load(open(secrets_file)).items()}
secrets["redpanda-username"] = kafka_user
secrets["redpanda-password"] = os.environ["KAFKA_SASL_PASSWORD"]
docs = []
for name, value in sorted(secrets.items()):
    data = {name: value}
    if name == "app-api-token":
        data["token"] = value
    docs.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                 "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "todo-platform"}},
                 "stringData": data})
print(yaml.safe_dump_all(docs))
PY
# A changed Secret (a new stack dir, a new node address) must reach the sidecars, which resolve
# the components' secrets when they start: the chart rolls the pods when this hash changes.
secrets_checksum="$(kubectl -n "$NS" get secrets -l app.kubernetes.io/part-of=todo-platform -o jsonpath='{range .items[*]}{.metadata.name}={.data}{"\n"}{end}' \
  | sha256sum | cut -c1-16)"
ok "Secrets in $NS: the stack's, hosts rewritten to $POD_LISTEN (checksum $secrets_checksum)"

# What depends on this node: the host services' address and ports, the Secrets' checksum.
values="$STACK_DIR/values-node.yaml"
"$TOOLS/venv/bin/python" - >"$values" <<PY
import yaml
host = "$POD_LISTEN"
print(yaml.safe_dump({
    "secretsChecksum": "$secrets_checksum",
    "kafka": {"brokers": f"{host}:$KAFKA_POD_PORT", "egressCidr": f"{host}/32", "egressPort": $KAFKA_POD_PORT},
    "postgres": {"egressCidr": f"{host}/32", "egressPort": $PG_PORT},
    "notifications": {"email": {"smtp": {"host": host, "port": $SMTP_PORT}}},
    "liveSync": {"url": f"http://{host}:$CENTRIFUGO_PORT/api"},
    "networkPolicies": {
        "extraEgress": [{"name": "host-services", "why": "The host's Mailpit (SMTP), Mosquitto (MQTT) and Centrifugo (HTTP API).",
                         "cidr": f"{host}/32", "ports": [$SMTP_PORT, $MQTT_PORT, $CENTRIFUGO_PORT]},
                        # The Kubernetes secret store's API calls: the Service kubernetes:443 is
                        # DNATed to the API server's own port here (16443); AKS serves it on 443,
                        # which the chart's HTTPS egress policy already admits.
                        {"name": "kube-apiserver", "why": "The Kubernetes API (the sidecars' Kubernetes secret store).",
                         "cidr": f"{host}/32", "ports": [$API_PORT]}],
        "nodePortFrom": [f"{host}/32", "$BRIDGE_IP/32"],
    },
}, sort_keys=False))
PY

log "helm upgrade --install todo ($image)"
deploy_start=$SECONDS
helm upgrade --install todo "$ROOT/k8s/chart" --namespace "$NS" \
  --values "$ROOT/k8s/chart/values-cluster.yaml" --values "$values" \
  --set-string image.repository="$CLUSTER_REGISTRY/todo-platform" --set-string image.tag="$IMAGE_TAG" \
  --atomic --wait --timeout 2m
bash "$ROOT/scripts/ci/wait-rollouts.sh" "$NS"
ok "platform deployed on the local cluster: release ready $((SECONDS - deploy_start)) s after helm upgrade ($((SECONDS - start)) s in all)"
