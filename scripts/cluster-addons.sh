#!/usr/bin/env bash
# Installs the cluster add-ons of k8s/cluster/addons.yaml, each at its pinned chart version, in
# order (helm upgrade --install --atomic --wait), then applies the cluster objects it lists. Run
# once per cluster and after changing a pin, from a host in the VNET (the API server is private)
# with kubectl and helm configured as a member of the cluster admin group (docs/deploy-aks.md, 3).
#   WORKLOAD_CLIENT_ID=<terraform output workload_identity_client_id> REDPANDA_BOOTSTRAP=<host:port> \
#     scripts/cluster-addons.sh [--dry-run]
# `${VAR}` in the values is replaced from the environment; an unset one stops the script.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="$ROOT/.tools/venv/bin/python"; [ -x "$PY" ] || PY=python3
DRY_RUN=false; [ "${1:-}" = --dry-run ] && DRY_RUN=true
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT

# One line per release: name namespace chart version repo values-file; then the manifests.
"$PY" - "$ROOT/k8s/cluster/addons.yaml" "$WORK" <<'PY'
import os, re, sys, yaml
spec = yaml.safe_load(open(sys.argv[1])); work = sys.argv[2]
def expand(v):
    if isinstance(v, str):
        def env(m):
            if m.group(1) not in os.environ:
                sys.exit(f"{m.group(1)} is not set (k8s/cluster/addons.yaml uses it)")
            return os.environ[m.group(1)]
        return re.sub(r"\$\{([A-Z_]+)\}", env, v)
    if isinstance(v, dict): return {k: expand(x) for k, x in v.items()}
    if isinstance(v, list): return [expand(x) for x in v]
    return v
with open(f"{work}/releases", "w") as out:
    for r in spec["releases"]:
        values = f"{work}/{r['name']}.values.yaml"
        yaml.safe_dump(expand(r.get("values") or {}), open(values, "w"))
        out.write(f"{r['name']} {r['namespace']} {r['chart']} {r['version']} {r.get('repo', '-')} {values}\n")
open(f"{work}/manifests", "w").write("\n".join(spec["manifests"]) + "\n")
PY

while read -r name namespace chart version repo values; do
  args=(upgrade --install "$name" "$chart" --namespace "$namespace" --create-namespace --version "$version"
    --values "$values" --atomic --wait --timeout 10m)
  [ "$repo" = - ] || args+=(--repo "$repo")
  echo "== $name $version ($chart)"
  if $DRY_RUN; then echo "helm ${args[*]}"; else helm "${args[@]}"; fi
done <"$WORK/releases"
while read -r manifest; do
  echo "== kubectl apply -f $manifest"
  $DRY_RUN || kubectl apply --server-side -f "$ROOT/$manifest"
done <"$WORK/manifests"
