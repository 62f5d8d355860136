#!/usr/bin/env bash
# Helm does not wait for SpinApps: `helm upgrade --atomic --wait` tracks native workloads only, and
# the spin-operator turns each SpinApp into a Deployment of the same name asynchronously. For each
# SpinApp of the release this waits until
#   1. the operator has reconciled the SpinApp's current spec into its Deployment (the Deployment's
#      pod template carries the SpinApp's image, readiness path, replicas, Spin variables and pod
#      annotations): right after the
#      upgrade the old Deployment is still fully rolled out, and `kubectl rollout status` alone
#      would report the old release ready;
#   2. that Deployment has rolled out (`kubectl rollout status`: observed generation, updated and
#      available replicas);
#   3. the SpinApp reports as many ready replicas as its Deployment wants, and as many pods of the
#      Deployment's current revision are ready (the old revision's pods count for the SpinApp).
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
# Spin variables reach the app container as SPIN_VARIABLE_<NAME>; a release may change only these.
env = {e["name"]: e.get("value") for e in container.get("env") or []}
for var in spec.get("variables") or []:
    key = "SPIN_VARIABLE_" + var["name"].upper()
    if "value" in var and env.get(key) != var["value"]:
        reasons.append(f"variable {var['name']} {env.get(key)!r} (SpinApp {var['value']!r})")
annotations = dep["spec"]["template"]["metadata"].get("annotations") or {}
for key, value in (spec.get("podAnnotations") or {}).items():
    if annotations.get(key) != value:
        reasons.append(f"pod annotation {key} {annotations.get(key)!r} (SpinApp {value!r})")
if reasons:
    print("Deployment not reconciled yet: " + ", ".join(reasons))
PY
}

remaining() { echo $((deadline - SECONDS > 1 ? deadline - SECONDS : 1)); }

# Ready pods of the Deployment's current revision (its newest ReplicaSet): the SpinApp's ready
# count also counts the previous revision's pods while they still serve.
current_ready() {
  local app="$1" revision
  revision="$(kubectl -n "$NAMESPACE" get "deployment/$app" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')"
  kubectl -n "$NAMESPACE" get replicasets -o json | python3 -c '
import json, sys
app, revision = sys.argv[1], sys.argv[2]
for rs in json.load(sys.stdin)["items"]:
    owners = [o["name"] for o in rs["metadata"].get("ownerReferences") or [] if o["kind"] == "Deployment"]
    if owners == [app] and rs["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision") == revision:
        print(rs["status"].get("readyReplicas", 0)); break
else:
    print(0)
' "$app" "$revision"
}

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
    current="$(current_ready "$app")"
    [ "${ready:-0}" -ge "${want:-1}" ] && [ "${current:-0}" -ge "${want:-1}" ] && break
    if ((SECONDS >= deadline)); then
      failed="$app" reason="SpinApp reports ${ready:-0}/${want:-1} ready, ${current:-0} of them of the current revision"; break
    fi
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
