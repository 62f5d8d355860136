#!/usr/bin/env bash
# A single-node Kubernetes on this machine, from the binaries of setup part `cluster` (kubelet,
# kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy of KUBERNETES_SCHEMA_VERSION,
# etcd, containerd v2 + runc, the CNI plugins, kube-router for NetworkPolicies), all as host
# processes (no systemd), started in dependency order; data survives `down`.
#   scripts/cluster.sh up        start (idempotent) and wait for the node to be Ready
#   scripts/cluster.sh down      stop every process this script started (pods' tasks too), keep data
#   scripts/cluster.sh status    processes, node conditions
#   scripts/cluster.sh env       print `export KUBECONFIG=...` for the admin kubeconfig
#   scripts/cluster.sh reset     down, then delete the cluster's data
# Ports (offset 14000+, never the dev or test stacks'; 14379/14380 are the embedded etcd of a stack
# scheduler at offset 12000): etcd 14479/14480, kube-apiserver 16443,
# controller-manager 14257, scheduler 14259, kubelet 14250 (healthz 14248), kube-proxy 14249/14256,
# kube-router 14244, NodePorts 14300-14399, the cluster's OCI registry 14500 (plain HTTP on
# 127.0.0.1: the Spin apps' artifacts, which containerd pulls for the Spin shim).
# Pods 10.244.0.0/24 on bridge cni0, Services 10.96.0.0/16.
# Must run as root (network namespaces, cgroups, iptables).
source "$(dirname "$0")/lib/common.sh"

STATE="${TODO_CLUSTER_STATE:-$CACHE/local-cluster}"
BIN="$TOOLS/cluster/bin"
NODE="${TODO_CLUSTER_NODE:-todo-node}"
POD_CIDR="10.244.0.0/24"
SERVICE_CIDR="10.96.0.0/16"
API_PORT=16443
ETCD_PORT=14479 ETCD_PEER_PORT=14480
KUBECONFIG_ADMIN="$STATE/pki/admin.kubeconfig"
PROCESSES=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy kube-router)
REGISTRY_PORT=14500
# The local OCI registry (setup part registry) when built.
[ ! -x "$TOOLS/bin/registry" ] || PROCESSES+=(registry)
# The Spin shim (setup part spinkube): containerd's runtime `spin-v2` when installed.
SPIN_SHIM="$TOOLS/spinkube/bin/containerd-shim-spin-v2"

# A process counts as running while its pid is alive and not a zombie/dead task: after a kill -9
# its pid stays signalable (kill -0) until its parent reaps it, which for these detached processes
# may be never (state Z).
pid_alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
pid_of() { local f="$STATE/run/$1.pid" pid; [ -f "$f" ] && pid="$(cat "$f")" && pid_alive "$pid" && echo "$pid"; }
kctl() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# Starts one process detached, its output in $STATE/logs/<name>.log, its pid in $STATE/run.
start() {
  local name="$1"; shift
  if pid_of "$name" >/dev/null; then log "$name already running (pid $(pid_of "$name"))"; return; fi
  # A killed predecessor may still be exiting (releasing its ports and sockets): wait for it.
  local old st
  if old="$(cat "$STATE/run/$name.pid" 2>/dev/null)" && [ -d "/proc/$old" ]; then
    for _ in $(seq 1 50); do
      st="$(awk '{print $3}' "/proc/$old/stat" 2>/dev/null || true)"
      case "$st" in ""|Z|X) break ;; esac
      sleep 0.2
    done
  fi
  log "starting $name"
  setsid "$@" >>"$STATE/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/run/$name.pid"
}

# An openssl certificate signed by the cluster CA: name, CN, O (may be empty), SANs (may be empty).
cert() {
  local name="$1" org="$3" sans="$4" subj="/CN=$2"
  [ -f "$STATE/pki/$name.crt" ] && return
  [ -z "$org" ] || subj="/O=$org$subj"
  openssl genrsa -out "$STATE/pki/$name.key" 2048 2>/dev/null
  openssl req -new -key "$STATE/pki/$name.key" -subj "$subj" -out "$STATE/pki/$name.csr" 2>/dev/null
  local ext="$STATE/pki/$name.ext"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' >"$ext"
  [ -z "$sans" ] || printf 'subjectAltName=%s\n' "$sans" >>"$ext"
  openssl x509 -req -in "$STATE/pki/$name.csr" -CA "$STATE/pki/ca.crt" -CAkey "$STATE/pki/ca.key" -CAcreateserial \
    -days 365 -extfile "$ext" -out "$STATE/pki/$name.crt" 2>/dev/null
  rm -f "$STATE/pki/$name.csr" "$ext"
}

kubeconfig() {
  local name="$1" server="$2"
  cat >"$STATE/pki/$name.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "$server", certificate-authority: "$STATE/pki/ca.crt"}
users:
- name: $name
  user: {client-certificate: "$STATE/pki/$name.crt", client-key: "$STATE/pki/$name.key"}
contexts:
- name: local
  context: {cluster: local, user: $name}
current-context: local
EOF
  chmod 600 "$STATE/pki/$name.kubeconfig"
}

pki() {
  local ip="$1"
  mkdir -p "$STATE/pki" && chmod 700 "$STATE/pki"
  if [ ! -f "$STATE/pki/ca.crt" ]; then
    log "creating the cluster CA and certificates ($STATE/pki)"
    openssl genrsa -out "$STATE/pki/ca.key" 2048 2>/dev/null
    openssl req -x509 -new -key "$STATE/pki/ca.key" -subj "/CN=todo-local-cluster-ca" -days 3650 -out "$STATE/pki/ca.crt" 2>/dev/null
    openssl genrsa -out "$STATE/pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$STATE/pki/sa.key" -pubout -out "$STATE/pki/sa.pub" 2>/dev/null
  fi
  cert apiserver kube-apiserver "" "IP:$ip,IP:127.0.0.1,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters ""
  cert admin admin system:masters ""
  cert controller-manager system:kube-controller-manager "" ""
  cert scheduler system:kube-scheduler "" ""
  cert kubelet "system:node:$NODE" system:nodes "IP:$ip,DNS:$NODE"
  cert kube-proxy system:kube-proxy "" ""
  # kube-router is bound to a ClusterRole of its own after the API server is up.
  cert kube-router kube-router "" ""
  local n
  for n in admin controller-manager scheduler kubelet kube-proxy kube-router; do kubeconfig "$n" "https://$ip:$API_PORT"; done
}

# The Spin shim's runtime as runtime-class-manager's node installer registers it: named after the
# binary without `containerd-shim-` (the RuntimeClass handler spin-v2), runtime_type its path.
spin_runtime() {
  [ -x "$SPIN_SHIM" ] || return 0
  cat <<EOF
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.spin-v2]
      runtime_type = "$(readlink -f "$SPIN_SHIM")"
EOF
}

containerd_config() {
  mkdir -p "$STATE/containerd" "$STATE/cni/net.d"
  # The cluster's registry serves plain HTTP: containerd's hosts entry for it.
  mkdir -p "$STATE/containerd/certs.d/127.0.0.1:$REGISTRY_PORT"
  cat >"$STATE/containerd/certs.d/127.0.0.1:$REGISTRY_PORT/hosts.toml" <<EOF
server = "http://127.0.0.1:$REGISTRY_PORT"
[host."http://127.0.0.1:$REGISTRY_PORT"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
EOF
  cat >"$STATE/containerd/config.toml" <<EOF
version = 3
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
[grpc]
  address = "$STATE/containerd/containerd.sock"
[ttrpc]
  address = "$STATE/containerd/containerd.sock.ttrpc"
[debug]
  level = "info"
[metrics]
  address = ""
[plugins.'io.containerd.cri.v1.runtime']
  # This machine withholds CAP_SYS_RESOURCE: no process may lower its oom_score_adj below 0, and
  # runc fails the kubelet's -998 for the sandbox ("failed to update /proc/self/oom_score_adj:
  # Permission denied"). containerd clamps the scores to its own instead (docs/local-dev.md).
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "$BIN/runc"
        SystemdCgroup = false
$(spin_runtime)
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["$BIN"]
    conf_dir = "$STATE/cni/net.d"
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "${TODO_CLUSTER_PAUSE_IMAGE:-registry.k8s.io/pause:3.10.1}"
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = "$STATE/containerd/certs.d"
EOF
  # The pod network: one bridge, addresses from the node's pod CIDR; kube-router enforces the
  # NetworkPolicies on it (iptables + ipset), kube-proxy the Services.
  cat >"$STATE/cni/net.d/10-bridge.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "todo-pods",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}],
              "dataDir": "$STATE/cni/ipam"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
}

kubelet_config() {
  local ip="$1"
  mkdir -p "$STATE/kubelet"
  # cgroup v1 controllers under /sys/fs/cgroup (and a cgroup2 mount beside them): the cgroupfs
  # driver, no systemd; swap tolerated; the kubelet's ports moved into 14000+.
  cat >"$STATE/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $ip
port: 14250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 14248
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
memorySwap: {swapBehavior: NoSwap}
containerRuntimeEndpoint: unix://$STATE/containerd/containerd.sock
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$STATE/pki/ca.crt"}
authorization: {mode: Webhook}
clusterDomain: cluster.local
clusterDNS: [10.96.0.10]
resolvConf: /etc/resolv.conf
podCIDR: $POD_CIDR
tlsCertFile: "$STATE/pki/kubelet.crt"
tlsPrivateKeyFile: "$STATE/pki/kubelet.key"
staticPodPath: ""
protectKernelDefaults: false
makeIPTablesUtilChains: false
localStorageCapacityIsolation: true
evictionHard: {memory.available: "100Mi", nodefs.available: "5%", imagefs.available: "5%"}
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
serializeImagePulls: false
EOF
}

up() {
  [ "$(id -u)" -eq 0 ] || die "scripts/cluster.sh runs the kubelet and containerd: run it as root"
  local b
  for b in kubelet kube-controller-manager kube-scheduler kube-proxy kubectl containerd containerd-shim-runc-v2 runc kube-router bridge host-local loopback portmap; do
    [ -x "$BIN/$b" ] || die "$b not built: scripts/setup.sh cluster"
  done
  [ -x "$TOOLS/bin/kube-apiserver" ] && [ -x "$TOOLS/bin/etcd" ] || die "kube-apiserver/etcd not built: scripts/setup.sh kube"
  local ip; ip="$(node_ip)"
  [ -n "$ip" ] || die "no node address (no default route)"
  # The node counts as Ready once a kubelet started now has reported it (heartbeat after this).
  local since=1970-01-01T00:00:00Z
  pid_of kubelet >/dev/null || since="$(date -u -d "@$(($(date +%s) - 1))" +%Y-%m-%dT%H:%M:%SZ)"
  mkdir -p "$STATE/run" "$STATE/logs" "$STATE/etcd"
  log "node $NODE at $ip; state in $STATE"
  pki "$ip"
  containerd_config
  kubelet_config "$ip"
  # Pods reach each other and the outside through the host.
  sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 >/dev/null

  start etcd "$TOOLS/bin/etcd" --name "$NODE" --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "$NODE=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls ""
  wait_for "etcd on 127.0.0.1:$ETCD_PORT" 60 port_open "$ETCD_PORT"
  # The port must be this etcd's: another program on it would take the cluster's data.
  sleep 1
  pid_of etcd >/dev/null || { tail -n 5 "$STATE/logs/etcd.log" >&2; die "etcd exited (port $ETCD_PORT or $ETCD_PEER_PORT taken?)"; }
  start kube-apiserver "$TOOLS/bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 0.0.0.0 --advertise-address "$ip" --secure-port "$API_PORT" \
    --tls-cert-file "$STATE/pki/apiserver.crt" --tls-private-key-file "$STATE/pki/apiserver.key" \
    --client-ca-file "$STATE/pki/ca.crt" --authorization-mode Node,RBAC --allow-privileged=true \
    --kubelet-client-certificate "$STATE/pki/apiserver-kubelet-client.crt" --kubelet-client-key "$STATE/pki/apiserver-kubelet-client.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" --service-node-port-range 14300-14399 --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc.cluster.local --service-account-key-file "$STATE/pki/sa.pub" \
    --service-account-signing-key-file "$STATE/pki/sa.key" --enable-admission-plugins NodeRestriction
  wait_for "kube-apiserver /readyz" 120 curl -sf --cacert "$STATE/pki/ca.crt" --cert "$STATE/pki/admin.crt" --key "$STATE/pki/admin.key" "https://$ip:$API_PORT/readyz"
  ok "kube-apiserver ready on https://$ip:$API_PORT"
  start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$STATE/pki/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/pki/controller-manager.kubeconfig" --authorization-kubeconfig "$STATE/pki/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 14257 --cluster-signing-cert-file "$STATE/pki/ca.crt" --cluster-signing-key-file "$STATE/pki/ca.key" \
    --root-ca-file "$STATE/pki/ca.crt" --service-account-private-key-file "$STATE/pki/sa.key" --use-service-account-credentials \
    --service-cluster-ip-range "$SERVICE_CIDR" --cluster-cidr 10.244.0.0/16 --allocate-node-cidrs=false --leader-elect=false
  start kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$STATE/pki/scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/pki/scheduler.kubeconfig" --authorization-kubeconfig "$STATE/pki/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 14259 --leader-elect=false
  start containerd "$BIN/containerd" --config "$STATE/containerd/config.toml"
  wait_for "containerd socket" 60 test -S "$STATE/containerd/containerd.sock"
  ok "containerd $("$BIN/containerd" --version | awk '{print $3}') on $STATE/containerd/containerd.sock"
  if [ -x "$TOOLS/bin/registry" ]; then
    mkdir -p "$STATE/registry/data"
    printf 'version: 0.1\nlog: {level: warn}\nstorage:\n  filesystem: {rootdirectory: %s}\n  delete: {enabled: true}\nhttp:\n  addr: 127.0.0.1:%s\n' \
      "$STATE/registry/data" "$REGISTRY_PORT" >"$STATE/registry/config.yml"
    start registry env OTEL_TRACES_EXPORTER=none "$TOOLS/bin/registry" serve "$STATE/registry/config.yml"
    wait_for "registry on 127.0.0.1:$REGISTRY_PORT" 30 curl -fsS "http://127.0.0.1:$REGISTRY_PORT/v2/"
  fi
  start kubelet "$BIN/kubelet" --config "$STATE/kubelet/config.yaml" --kubeconfig "$STATE/pki/kubelet.kubeconfig" \
    --hostname-override "$NODE" --node-ip "$ip" --root-dir "$STATE/kubelet/root" --cert-dir "$STATE/kubelet/pki"
  # kube-router: its RBAC (upstream's ClusterRole for the firewall: pods, namespaces, policies, nodes).
  kctl apply -f - >/dev/null <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: kube-router}
rules:
  - apiGroups: [""]
    resources: [namespaces, pods, services, nodes, endpoints]
    verbs: [list, get, watch]
  - apiGroups: [networking.k8s.io]
    resources: [networkpolicies]
    verbs: [list, get, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, get, watch]
  - apiGroups: [""]
    resources: [nodes]
    verbs: [patch]
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [get, create, update]
  - apiGroups: [""]
    resources: [events]
    verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kube-router}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kube-router}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: kube-router}
EOF
  start kube-proxy "$BIN/kube-proxy" --kubeconfig "$STATE/pki/kube-proxy.kubeconfig" --hostname-override "$NODE" \
    --cluster-cidr 10.244.0.0/16 --proxy-mode iptables --metrics-bind-address 127.0.0.1:14249 --healthz-bind-address 127.0.0.1:14256 \
    --nodeport-addresses primary --iptables-localhost-nodeports=false
  # kube-router identifies its node at start: only once the kubelet has registered it.
  wait_for "node $NODE registered" 120 kctl get node "$NODE"
  start kube-router "$BIN/kube-router" --kubeconfig "$STATE/pki/kube-router.kubeconfig" --hostname-override "$NODE" \
    --run-firewall=true --run-router=false --run-service-proxy=false --health-port 14244 --metrics-port 0
  # Ready as reported by this kubelet: a heartbeat after this start (a stopped cluster keeps its
  # last status, Ready included).
  local deadline=$((SECONDS + 180))
  until [ "$(kctl get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ] \
    && [[ "$(kctl get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}' 2>/dev/null)" > "$since" ]]; do
    if ((SECONDS >= deadline)); then
      status || true
      die "node $NODE not Ready after 180 s (logs: $STATE/logs)"
    fi
    local p
    for p in "${PROCESSES[@]}"; do
      pid_of "$p" >/dev/null || { tail -n 20 "$STATE/logs/$p.log" >&2; die "$p exited (log: $STATE/logs/$p.log)"; }
    done
    sleep 2
  done
  ok "node $NODE Ready: $(kctl get node "$NODE" -o jsonpath='{.status.nodeInfo.kubeletVersion} {.status.nodeInfo.containerRuntimeVersion}')"
  echo "export KUBECONFIG=$KUBECONFIG_ADMIN"
}

status() {
  local p pid rc=0
  for p in "${PROCESSES[@]}"; do
    if pid="$(pid_of "$p")"; then printf '  %-24s running (pid %s)\n' "$p" "$pid"; else printf '  %-24s stopped\n' "$p"; rc=1; fi
  done
  if [ -f "$KUBECONFIG_ADMIN" ] && pid_of kube-apiserver >/dev/null; then
    kctl get nodes -o wide 2>&1 | sed 's/^/  /' || true
    kctl get node "$NODE" -o jsonpath='{range .status.conditions[*]}  {.type}={.status} {.reason}: {.message}{"\n"}{end}' 2>/dev/null || true
  fi
  return "$rc"
}

down() {
  local p pid i
  # The pods' containers run under containerd's shims, outside the kubelet: stop their tasks first.
  if pid_of containerd >/dev/null; then
    local ctr=("$BIN/ctr" --address "$STATE/containerd/containerd.sock" -n k8s.io) task
    pid_of kubelet >/dev/null && kill "$(pid_of kubelet)" 2>/dev/null || true
    for task in $("${ctr[@]}" tasks ls -q 2>/dev/null); do
      "${ctr[@]}" tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
    done
    sleep 1
    for task in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks delete -f "$task" >/dev/null 2>&1 || true; done
  fi
  # Each pod sandbox and container runs under a containerd-shim-runc-v2 started by this cluster's
  # containerd (its socket in the command line); they outlive containerd: stop the container
  # inits under each shim (that ends their pid namespaces), then the shim.
  local shim child
  for shim in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $STATE/containerd/containerd.sock" || true); do
    for child in $(pgrep -P "$shim" || true); do kill -9 "$child" 2>/dev/null || true; done
    kill -9 "$shim" 2>/dev/null || true
  done
  for ((i = ${#PROCESSES[@]} - 1; i >= 0; i--)); do
    p="${PROCESSES[$i]}"
    if pid="$(pid_of "$p")"; then
      log "stopping $p (pid $pid)"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$STATE/run/$p.pid"
  done
  ok "cluster stopped (data kept in $STATE)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) echo "export KUBECONFIG=$KUBECONFIG_ADMIN" ;;
  reset) down; rm -rf "$STATE"; ok "cluster data removed" ;;
  *) echo "usage: scripts/cluster.sh up|down|status|env|reset" >&2; exit 2 ;;
esac
