#!/usr/bin/env bash
# The container images the local cluster needs, built here (no public registry is reachable) with
# Debian's OCI tools (umoci builds the layout, skopeo converts it) and imported into the cluster's
# containerd (namespace k8s.io), where the kubelet finds them without pulling:
#   registry.k8s.io/pause:3.10.1      the pod sandbox: Kubernetes' own pause.c (k8s.io/kubernetes
#                                     module, build/pause/linux) compiled static, as upstream's image
#   localhost/todo/busybox:debian     Debian's busybox-static, for the cluster tests' probe pods
#   registry.k8s.io/coredns/coredns:<COREDNS_VERSION>   the cluster DNS (setup part cluster)
#   ghcr.io/dapr/<x>:<DAPR_VERSION>   operator, sentry, placement, scheduler, injector, daprd: the
#                                     binaries of setup parts dapr/daprcp, laid out as upstream's
#                                     images (binary at /, user 65532, CA certificates), under the
#                                     names the Dapr chart uses, so nothing is pulled
#   ghcr.io/spinframework/spin-operator:<SPIN_OPERATOR_VERSION>   the manager of setup part
#                                     spinkube, laid out as upstream's image (/manager, user 65532)
#   scripts/cluster-images.sh         (after scripts/cluster.sh up; idempotent)
source "$(dirname "$0")/lib/common.sh"

STATE="${TODO_CLUSTER_STATE:-$CACHE/local-cluster}"
BIN="$TOOLS/cluster/bin"
CTR=("$BIN/ctr" --address "$STATE/containerd/containerd.sock" -n k8s.io)
PAUSE_IMAGE="registry.k8s.io/pause:3.10.1"
BUSYBOX_IMAGE="localhost/todo/busybox:debian"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

for tool in umoci skopeo gcc /bin/busybox; do
  command -v "$tool" >/dev/null || die "$tool missing (Debian packages umoci skopeo gcc busybox-static: scripts/setup.sh cluster)"
done
[ -S "$STATE/containerd/containerd.sock" ] || die "containerd not running: scripts/cluster.sh up"

# (grep reads the whole list: with -q it would stop early, ctr would die of SIGPIPE, and pipefail
# would report the image absent.)
have() { "${CTR[@]}" images ls -q 2>/dev/null | grep -x "$1" >/dev/null; }

# Builds an image from a root filesystem directory: build <name:tag> <rootfs> <entrypoint...>
# (IMAGE_USER: the image's user, default root).
build() {
  local ref="$1" rootfs="$2"; shift 2
  local layout="$WORK/layout" tag="${ref##*:}"
  rm -rf "$layout" "$WORK/bundle"
  umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  umoci unpack --rootless --image "$layout:$tag" "$WORK/bundle" >/dev/null
  cp -a "$rootfs/." "$WORK/bundle/rootfs/"
  umoci repack --image "$layout:$tag" "$WORK/bundle"
  local args=() a
  for a in "$@"; do args+=(--config.entrypoint "$a"); done
  [ -z "${IMAGE_USER:-}" ] || args+=(--config.user "$IMAGE_USER")
  umoci config --image "$layout:$tag" --architecture amd64 --os linux "${args[@]}"
  rm -f "$WORK/image.tar"
  skopeo copy --quiet "oci:$layout:$tag" "docker-archive:$WORK/image.tar:$ref"
  "${CTR[@]}" images import "$WORK/image.tar" >/dev/null 2>&1 || die "ctr images import of $ref failed"
  have "$ref" || die "containerd does not list $ref after the import"
  ok "image $ref built and imported"
}

if ! have "$PAUSE_IMAGE"; then
  log "building $PAUSE_IMAGE from k8s.io/kubernetes $KUBERNETES_SCHEMA_VERSION build/pause/linux/pause.c"
  src="$(go_module_dir k8s.io/kubernetes "$KUBERNETES_SCHEMA_VERSION")/build/pause/linux/pause.c"
  mkdir -p "$WORK/pause"
  gcc -Os -Wall -Werror -static -DVERSION="v3.10.1-todo" -o "$WORK/pause/pause" "$src"
  strip "$WORK/pause/pause"
  build "$PAUSE_IMAGE" "$WORK/pause" /pause
else
  ok "image $PAUSE_IMAGE present"
fi

if ! have "$BUSYBOX_IMAGE"; then
  log "building $BUSYBOX_IMAGE from Debian's busybox-static"
  mkdir -p "$WORK/busybox/bin" "$WORK/busybox/tmp" "$WORK/busybox/www"
  cp /bin/busybox "$WORK/busybox/bin/busybox"
  for applet in sh nc wget httpd sleep cat echo ls ip nslookup timeout; do ln -sf busybox "$WORK/busybox/bin/$applet"; done
  echo ok >"$WORK/busybox/www/index.html"
  build "$BUSYBOX_IMAGE" "$WORK/busybox" /bin/busybox
else
  ok "image $BUSYBOX_IMAGE present"
fi

# CoreDNS (the cluster DNS, k8s/local-cluster/coredns.yaml) under the name kubeadm uses.
COREDNS_IMAGE="registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
if ! have "$COREDNS_IMAGE"; then
  mkdir -p "$WORK/coredns/etc/ssl/certs"
  cp "$BIN/coredns" "$WORK/coredns/coredns"
  cp /etc/ssl/certs/ca-certificates.crt "$WORK/coredns/etc/ssl/certs/"
  build "$COREDNS_IMAGE" "$WORK/coredns" /coredns
else
  ok "image $COREDNS_IMAGE present"
fi

# The Dapr images, when the control plane is built (scripts/setup.sh daprcp).
if [ -d "$TOOLS/dapr-control-plane" ]; then
  for name in operator sentry placement injector scheduler daprd; do
    ref="ghcr.io/dapr/$name:${DAPR_VERSION#v}"
    if have "$ref"; then ok "image $ref present"; continue; fi
    case "$name" in
      scheduler|daprd) binary="$TOOLS/bin/$name" ;;
      *) binary="$TOOLS/dapr-control-plane/$name" ;;
    esac
    root="$WORK/dapr-$name"
    mkdir -p "$root/etc/ssl/certs" "$root/home/nonroot" "$root/tmp"
    cp "$(readlink -f "$binary")" "$root/$name"
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
    chmod 1777 "$root/tmp"
    IMAGE_USER=65532:65532 build "$ref" "$root" "/$name"
  done
else
  warn "no Dapr control plane built (scripts/setup.sh daprcp): Dapr images skipped"
fi

# The spin-operator image, when SpinKube is installed (scripts/setup.sh spinkube).
if [ -d "$TOOLS/spinkube" ]; then
  ref="ghcr.io/spinframework/spin-operator:$SPIN_OPERATOR_VERSION"
  if have "$ref"; then ok "image $ref present"
  else
    root="$WORK/spin-operator"
    mkdir -p "$root/etc/ssl/certs" "$root/tmp"
    cp "$(readlink -f "$TOOLS/spinkube/bin/spin-operator-manager")" "$root/manager"
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
    chmod 1777 "$root/tmp"
    IMAGE_USER=65532:65532 build "$ref" "$root" /manager
  fi
fi

# The cluster DNS runs once its image exists.
"$BIN/kubectl" --kubeconfig "$STATE/pki/admin.kubeconfig" apply -f "$ROOT/k8s/local-cluster/coredns.yaml" >/dev/null
"$BIN/kubectl" --kubeconfig "$STATE/pki/admin.kubeconfig" -n kube-system rollout status deployment/coredns --timeout 120s >/dev/null \
  || die "CoreDNS did not become ready (kubectl -n kube-system describe pod -l k8s-app=kube-dns)"
ok "cluster DNS (CoreDNS $COREDNS_VERSION) ready at 10.96.0.10"
