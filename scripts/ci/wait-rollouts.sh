#!/usr/bin/env bash
# Helm does not wait for SpinApps: the spin-operator turns each one into a Deployment of the same
# name. Waits for the rollout of each SpinApp of the release; when one does not complete within
# ROLLOUT_TIMEOUT, rolls the release back (helm rollback todo 0), waits for the previous
# Deployments and reports the time from detection to a completed rollback.
#   scripts/ci/wait-rollouts.sh [namespace]      (kubectl and helm configured for the cluster)
set -uo pipefail
NAMESPACE="${1:-todo-platform}"
TIMEOUT="${ROLLOUT_TIMEOUT:-180s}"
EXPECTED_APPS="${EXPECTED_APPS:-task-api recurrence-engine notification chat dashboard}"

mapfile -t apps < <(kubectl -n "$NAMESPACE" get spinapps -l app.kubernetes.io/instance=todo -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
for want in $EXPECTED_APPS; do
  printf '%s\n' "${apps[@]}" | grep -qx "$want" || { echo "SpinApp $want is not part of the release"; exit 1; }
done
failed=""
for app in "${apps[@]}"; do
  # The operator creates the Deployment shortly after the SpinApp changes.
  for _ in $(seq 1 30); do kubectl -n "$NAMESPACE" get "deployment/$app" >/dev/null 2>&1 && break; sleep 2; done
  if ! kubectl -n "$NAMESPACE" rollout status "deployment/$app" --timeout "$TIMEOUT"; then failed="$app"; break; fi
done
if [ -z "$failed" ]; then echo "all ${#apps[@]} SpinApp Deployments rolled out"; exit 0; fi

detected=$SECONDS
echo "::error::deployment/$failed did not roll out within $TIMEOUT: rolling back"
kubectl -n "$NAMESPACE" describe "deployment/$failed" | tail -n 20 || true
helm rollback todo 0 --namespace "$NAMESPACE" --wait --timeout 2m
for app in "${apps[@]}"; do kubectl -n "$NAMESPACE" rollout status "deployment/$app" --timeout 120s || true; done
echo "rolled back $((SECONDS - detected)) s after the failed rollout was detected (detection itself: up to $TIMEOUT)"
helm history todo --namespace "$NAMESPACE" --max 3
exit 1
