#!/usr/bin/env bash
# Runs one GitHub Actions job the way the runner would in its debian:bookworm container, without a
# Docker engine: a clean Debian 12 root (the debootstrap root scripts/fresh-check.sh caches) in a
# chroot, `actions/checkout` as a clone of this checkout (HEAD plus uncommitted changes of tracked
# files) at the workspace path, then every `run:` step in order with `bash --noprofile --norc -eo
# pipefail`, the job's `env`, GITHUB_* variables and GITHUB_PATH/GITHUB_ENV handling. Any other
# `uses:` step makes it fail (it cannot be executed here). Needs root (chroot, mount).
#   scripts/infra/run-workflow-job.sh <workflow file (relative to the checkout, or absolute)> <job id>
# Exit 0 when every step passed; 2 when the cached clean root does not exist yet
# (scripts/fresh-check.sh --setup-only makes it).
source "$(dirname "$0")/../lib/common.sh"

WORKFLOW="$1" JOB="$2"
[[ "$WORKFLOW" = /* ]] && WORKFLOW_FILE="$WORKFLOW" || WORKFLOW_FILE="$ROOT/$WORKFLOW"
[ "$(id -u)" -eq 0 ] || die "run as root: chroot and mount need it"
tarball="$(ls -t "$CACHE"/fresh-check/debian-bookworm-*.tar.gz 2>/dev/null | head -1)"
[ -n "$tarball" ] || { echo "no cached clean Debian 12 root in $CACHE/fresh-check (scripts/fresh-check.sh --setup-only makes it)"; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/var/tmp}/workflow-job.XXXXXX")"
ROOTFS="$WORK/root" MOUNTS=()
cleanup() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null || true; done
  if [ -z "$(awk -v w="$WORK" 'index($2, w) == 1' /proc/mounts)" ]; then rm -rf --one-file-system "$WORK"; else echo "still mounted under $WORK: not removed"; fi
}
trap cleanup EXIT
mkdir -p "$ROOTFS"
tar -C "$ROOTFS" --numeric-owner -xzpf "$tarball"
# The apt sources of the debian:bookworm image (the release, its updates and the security archive;
# rustc-web and lld-* come from the latter two), on the mirrors the image uses unless
# WORKFLOW_JOB_MIRROR / WORKFLOW_JOB_SECURITY_MIRROR name others.
rm -f "$ROOTFS/etc/apt/sources.list"
printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
  "${WORKFLOW_JOB_MIRROR:-http://deb.debian.org/debian}" "${WORKFLOW_JOB_SECURITY_MIRROR:-http://deb.debian.org/debian-security}" \
  >"$ROOTFS/etc/apt/sources.list.d/debian.sources"
# The machine's network settings only, as scripts/fresh-check.sh lends them.
cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy) ' >"$ROOTFS/etc/apt/apt.conf.d/90host-network" || true
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$ROOTFS/usr/local/share/ca-certificates" && cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
fi
if [ -f /etc/pip.conf ]; then cp /etc/pip.conf "$ROOTFS/etc/pip.conf"; fi
printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d" && chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"
mount -t proc proc "$ROOTFS/proc" && MOUNTS+=("$ROOTFS/proc")
mount -t tmpfs -o mode=755,nosuid dev "$ROOTFS/dev" && MOUNTS+=("$ROOTFS/dev")
for node in "null c 1 3" "zero c 1 5" "random c 1 8" "urandom c 1 9" "tty c 5 0"; do
  read -r name type major minor <<<"$node"; mknod -m 666 "$ROOTFS/dev/$name" "$type" "$major" "$minor"
done
ln -s /proc/self/fd "$ROOTFS/dev/fd"
# A container has a /dev/shm (Python's multiprocessing locks live there).
mkdir -p "$ROOTFS/dev/shm" && mount -t tmpfs -o mode=1777,nosuid,nodev shm "$ROOTFS/dev/shm" && MOUNTS+=("$ROOTFS/dev/shm")

# The job as a list of steps: the runner's view of the workflow.
"$TOOLS/venv/bin/python" - "$WORKFLOW_FILE" "$JOB" "$WORK/steps" <<'PY' || exit 1
import json, os, sys, yaml
wf = yaml.safe_load(open(sys.argv[1])); job = wf["jobs"][sys.argv[2]]; out = sys.argv[3]
os.makedirs(out)
env = {**(wf.get("env") or {}), **(job.get("env") or {})}
json.dump({k: str(v) for k, v in env.items()}, open(f"{out}/env.json", "w"))
for i, step in enumerate(job["steps"], 1):
    name = step.get("name") or step.get("uses") or f"step {i}"
    if "uses" in step:
        kind = "checkout" if step["uses"].startswith("actions/checkout@") else "action"
        open(f"{out}/{i:02d}.{kind}", "w").write(f"{name}\n{step['uses']}\n")
    else:
        open(f"{out}/{i:02d}.run", "w").write(f"# {name}\n{step['run']}")
        if step.get("env"):
            json.dump({k: str(v) for k, v in step["env"].items()}, open(f"{out}/{i:02d}.env.json", "w"))
PY

WS=/__w/todo-platform/todo-platform
mkdir -p "$ROOTFS$WS" "$ROOTFS/github/home" "$ROOTFS/__w/_temp"
: >"$ROOTFS/__w/_temp/path" && : >"$ROOTFS/__w/_temp/env"
base_env=(HOME=/github/home CI=true GITHUB_ACTIONS=true GITHUB_WORKSPACE="$WS" RUNNER_TEMP=/__w/_temp
  GITHUB_PATH=/__w/_temp/path GITHUB_ENV=/__w/_temp/env GITHUB_RUN_ID=1 GITHUB_RUN_ATTEMPT=1 GITHUB_SHA="$(git -C "$ROOT" rev-parse HEAD)"
  DEBIAN_FRONTEND=noninteractive)
mapfile -t job_env < <("$TOOLS/venv/bin/python" -c 'import json,sys; [print(f"{k}={v}") for k, v in json.load(open(sys.argv[1])).items()]' "$WORK/steps/env.json")
start=$SECONDS
for path in "$WORK"/steps/[0-9][0-9].*; do
  f="${path##*/}"
  case "$f" in *.run|*.checkout|*.action) ;; *) continue ;; esac
  case "$f" in
    *.checkout)
      [ -n "$(command -v git)" ] || die "git is needed to copy the checkout"
      # The action needs git in the container for a full clone (it falls back to an archive).
      if ! chroot "$ROOTFS" sh -c 'command -v git' >/dev/null; then
        echo "FAIL $(head -1 "$path"): git is not installed in the container before checkout (the job's .git would be missing)"; exit 1
      fi
      git clone -q --no-hardlinks "$ROOT" "$ROOTFS$WS.clone" && rm -rf "${ROOTFS:?}$WS" && mv "$ROOTFS$WS.clone" "$ROOTFS$WS"
      git -C "$ROOT" diff HEAD --binary | git -C "$ROOTFS$WS" apply --allow-empty
      echo "» step $f: $(head -1 "$path") (clone of HEAD + uncommitted changes)"
      continue ;;
    *.action) echo "FAIL step $f: $(sed -n 2p "$path") cannot be executed outside GitHub Actions"; exit 1 ;;
  esac
  cp "$path" "$ROOTFS/__w/_temp/step.sh"
  step_env=()
  [ -f "$WORK/steps/${f%.run}.env.json" ] && mapfile -t step_env < <("$TOOLS/venv/bin/python" -c 'import json,sys; [print(f"{k}={v}") for k, v in json.load(open(sys.argv[1])).items()]' "$WORK/steps/${f%.run}.env.json")
  # PATH as the container's, plus what earlier steps appended to GITHUB_PATH; GITHUB_ENV likewise.
  extra_path="$(tac "$ROOTFS/__w/_temp/path" | paste -sd: -)"
  mapfile -t added_env <"$ROOTFS/__w/_temp/env"
  step_start=$SECONDS
  if ! chroot "$ROOTFS" /usr/bin/env -i "${base_env[@]}" "${job_env[@]}" "${added_env[@]}" "${step_env[@]}" \
    PATH="${extra_path:+$extra_path:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    /bin/bash -c "cd '$WS' && exec /bin/bash --noprofile --norc -eo pipefail /__w/_temp/step.sh"; then
    echo "FAIL step $f: $(head -1 "$path" | sed 's/^# //') (after $((SECONDS - step_start)) s)"; exit 1
  fi
  echo "» step $f: $(head -1 "$path" | sed 's/^# //') passed in $((SECONDS - step_start)) s"
done
echo "» $WORKFLOW job $JOB: every step ran in a clean Debian 12 root in $((SECONDS - start)) s"
