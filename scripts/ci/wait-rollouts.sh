#!/usr/bin/env bash
# Helm does not wait for SpinApps: `helm upgrade --atomic --wait` tracks native workloads only, and
# the spin-operator turns each SpinApp into a Deployment of the same name asynchronously. For each
# SpinApp of the release this waits until
#   1. the operator has reconciled the SpinApp's current spec into its Deployment (the Deployment's
#      pod template carries the SpinApp's image, readiness path and replicas): right after the
#      upgrade the old Deployment is still fully rolled out, and `kubectl rollout status` alone
#      would report the old release ready;
#   2. that Deployment has rolled out (`kubectl rollout status`: observed generation, updated and
#      available replicas);
#   3. the SpinApp reports as many ready replicas as its Deployment wants.
# All within one deadline (ROLLOUT_TIMEOUT seconds from the start, default 90). When it passes,
# the release is rolled back (`helm rollback todo 0`), the previous Deployments are awaited, and
# the time from detection to a completed rollback is reported; the script then fails.
#   scripts/ci/wait-rollouts.sh [namespace]      (kubectl, helm and python3 configured for the cluster)
set -euo pipefail
NAMESPACE="${1:-todo-platform}"
RELEASE="${RELEASE:-todo}"
TIMEOUT="${ROLLOUT_TIMEOUT:-90}"
TIMEOUT="${TIMEOUT%s}"
EXPECTED_APPS="${EXPECTED_APPS:-task-api recurrence-engine notification chat dashboard}"
deadline=$((SECONDS + TIMEOUT))

mapfile -t apps < <(kubectl -n "$NAMESPACE" get spinapps -l "app.kubernetes.io/instance=$RELEASE" \
  -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
for want in $EXPECTED_APPS; do
  printf '%s\n' "${apps[@]}" | grep -qx "$want" || { echo "SpinApp $want is not part of the release"; exit 1; }
done

# Prints why the Deployment does not (yet) carry the SpinApp's spec, nothing when it does.
reconciled() {
  local app="$1" spinapp deployment
  spinapp="$(kubectl -n "$NAMESPACE" get "spinapp/$app" -o json)" || { echo "SpinApp $app not readable"; return; }
  deployment="$(kubectl -n "$NAMESPACE" get "deployment/$app" -o json 2>/dev/null)" || { echo "no Deployment $app yet"; return; }
  python3 - "$spinapp" "$deployment" <<'PY'
import json, sys
app, dep = json.loads(sys.argv[1]), json.loads(sys.argv[2])
spec, pod = app["spec"], dep["spec"]["template"]["spec"]
container = pod["containers"][0]
reasons = []
if container.get("image") != spec["image"]:
    reasons.append(f"image {container.get('image')} (SpinApp {spec['image']})")
want_ready = ((spec.get("checks") or {}).get("readiness") or {}).get("httpGet", {}).get("path")
got_ready = ((container.get("readinessProbe") or {}).get("httpGet") or {}).get("path")
if want_ready and got_ready != want_ready:
    reasons.append(f"readiness path {got_ready} (SpinApp {want_ready})")
if not spec.get("enableAutoscaling") and "replicas" in spec and dep["spec"].get("replicas") != spec["replicas"]:
    reasons.append(f"replicas {dep['spec'].get('replicas')} (SpinApp {spec['replicas']})")
if reasons:
    print("Deployment not reconciled yet: " + ", ".join(reasons))
PY
}

remaining() { echo $((deadline - SECONDS > 1 ? deadline - SECONDS : 1)); }

failed="" reason=""
for app in "${apps[@]}"; do
  echo "waiting for SpinApp $app ($(remaining) s left)"
  while reason="$(reconciled "$app")" && [ -n "$reason" ]; do
    if ((SECONDS >= deadline)); then failed="$app"; break; fi
    sleep 2
  done
  [ -z "$failed" ] || break
  if ! kubectl -n "$NAMESPACE" rollout status "deployment/$app" --timeout "$(remaining)s"; then
    failed="$app" reason="Deployment did not roll out"; break
  fi
  while :; do
    ready="$(kubectl -n "$NAMESPACE" get "spinapp/$app" -o jsonpath='{.status.readyReplicas}')"
    want="$(kubectl -n "$NAMESPACE" get "deployment/$app" -o jsonpath='{.spec.replicas}')"
    [ "${ready:-0}" -ge "${want:-1}" ] && break
    if ((SECONDS >= deadline)); then failed="$app" reason="SpinApp reports ${ready:-0}/${want:-1} ready"; break; fi
    sleep 2
  done
  [ -z "$failed" ] || break
  echo "SpinApp $app ready (${ready}/${want} replicas)"
done
if [ -z "$failed" ]; then echo "all ${#apps[@]} SpinApps of release $RELEASE ready"; exit 0; fi

detected=$SECONDS
echo "::error::SpinApp $failed not ready within ${TIMEOUT} s (${reason}): rolling back"
kubectl -n "$NAMESPACE" describe "deployment/$failed" 2>/dev/null | tail -n 20 || true
helm rollback "$RELEASE" 0 --namespace "$NAMESPACE" --wait --timeout 2m
for app in "${apps[@]}"; do kubectl -n "$NAMESPACE" rollout status "deployment/$app" --timeout 120s || true; done
echo "rolled back $((SECONDS - detected)) s after the failed rollout was detected (detection: ${TIMEOUT} s after the upgrade)"
helm history "$RELEASE" --namespace "$NAMESPACE" --max 3
exit 1
