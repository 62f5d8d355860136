#!/usr/bin/env bash
# Installs the Dapr control plane on the local cluster: the Dapr Helm chart of the github.com/dapr/dapr
# module (DAPR_VERSION, the same version as daprd) with k8s/cluster/addons.yaml's values for the
# `dapr` release (mTLS through Sentry, 24 h workload certificates, 15 m clock skew) and the
# single-node overrides below; the images are scripts/cluster-images.sh's (nothing is pulled).
#   scripts/cluster-dapr.sh        (after scripts/cluster.sh up and scripts/cluster-images.sh)
source "$(dirname "$0")/lib/common.sh"

STATE="${TODO_CLUSTER_STATE:-$CACHE/local-cluster}"
export KUBECONFIG="$STATE/pki/admin.kubeconfig"
[ -f "$KUBECONFIG" ] || die "no local cluster: scripts/cluster.sh up"
command -v helm >/dev/null || die "helm missing: scripts/setup.sh infra"
chart="$(go_module_dir github.com/dapr/dapr "$DAPR_VERSION")/charts/dapr"
[ -d "$chart" ] || die "no Dapr chart in the github.com/dapr/dapr module"
values="$(mktemp)"
trap 'rm -f "$values"' EXIT
# The addons.yaml values of the dapr release, as on AKS.
"$TOOLS/venv/bin/python" - "$ROOT/k8s/cluster/addons.yaml" >"$values" <<'PY'
import sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))
print(yaml.safe_dump(next(r for r in spec["releases"] if r["name"] == "dapr")["values"]))
PY
start=$SECONDS
log "installing Dapr $DAPR_VERSION (chart of the module; addons.yaml values + single-node overrides)"
# Single node: no HA (one replica per service, AKS runs three), the scheduler's etcd and the
# placement log in memory (no storage provisioner here), the images of scripts/cluster-images.sh.
helm upgrade --install dapr "$chart" --namespace dapr-system --create-namespace --values "$values" \
  --set global.ha.enabled=false --set global.registry=ghcr.io/dapr --set-string global.tag="${DAPR_VERSION#v}" \
  --set global.imagePullPolicy=IfNotPresent --set dapr_sidecar_injector.sidecarImagePullPolicy=IfNotPresent \
  --set dapr_scheduler.cluster.inMemoryStorage=true --set dapr_placement.cluster.forceInMemoryLog=true \
  --wait --timeout 5m
ok "Dapr control plane ready in $((SECONDS - start)) s: $("$TOOLS/cluster/bin/kubectl" -n dapr-system get pods --no-headers | awk '{print $1 " " $2}' | tr '\n' ';')"
