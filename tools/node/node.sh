#!/usr/bin/env bash
# A real node for the local control plane: kubelet and kube-proxy (built from the same Kubernetes
# modules as the control plane), containerd and runc (Debian), the CNI bridge plugin (Debian) and
# a cluster DNS (dnsmasq, Debian). Pods of locally built images run there for real, next to the
# kwok fake nodes.
#
#   node.sh up                start the node (idempotent; needs `cluster.sh up` first)
#   node.sh load ARCHIVE...   import OCI archives into the node and let their images run there
#   node.sh alias IMAGE REF   give a loaded image another reference (a local stand-in for a
#                             third-party image), which then runs there too
#   node.sh down              stop the node and everything that runs on it, remove its data
#   node.sh status            what runs
#
# Isolation: the node lives in its own network namespace (an island: no route out, so nothing a
# pod does can reach another network), its own mount namespace (containerd's and the kubelet's
# state and mounts stay private, bind-mounted over the standard paths) and its own cgroup subtree
# (`down` kills everything in it, shims and containers included). A veth pair links the host to
# the node's address only (the API server reaches the kubelet for logs and exec; nothing is
# forwarded further). The kubelet, kube-proxy and pods
# reach the API server through a socat pair joined by a Unix socket: the node side listens on the
# API port at 127.0.0.1 and at the API server's advertised address (the `kubernetes` Service's
# endpoint), the host side dials 127.0.0.1. Both kubelet and kube-proxy use the admin kubeconfig
# (the control plane authorizes with RBAC only, without the Node authorizer).
#
# Placement: the node is tainted `nuvolaris.org/real-node=true:NoSchedule`, so third-party images
# keep landing on kwok. A MutatingAdmissionPolicy sends a pod to the real node (nodeSelector and
# toleration) when every image of the pod was loaded with `node.sh load`, in namespaces labelled
# `nuvolaris.org/real-node=true`. A Job's pod goes there only when the server it sets up runs
# there too (JOBS_ON_NODE: redis-init); other setup Jobs (CouchDB) stay on kwok, whose pods of Jobs
# succeed at once.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUN=${NUVOLARIS_CLUSTER_DIR:-$ROOT/.cluster}
NODE_DIR=$RUN/node
KUBECONFIG_FILE=$RUN/kubeconfig
NODE_NAME=real-node
POD_CIDR=10.88.0.0/16
POD_SUBNET=10.88.0.0/24
JOBS_ON_NODE="'redis-init'"
TAINT_KEY=nuvolaris.org/real-node
PAUSE_IMAGE=nuvolaris.local/pause:1
TIMEOUT=${NUVOLARIS_NODE_TIMEOUT:-120}
# One node per control plane directory: namespaces and cgroups are named after it.
ID=$(printf '%s' "$(cd "$RUN" 2>/dev/null && pwd || echo "$RUN")" | sha256sum | cut -c1-8)
NETNS=nuvolaris-node-$ID
# The node's cgroup subtree sits below the memory cgroup of whoever starts it (the same path in
# every hierarchy, as the kubelet's cgroupfs driver wants), so that the node stays inside the
# memory accounting of its caller. Recorded at `up`, for `down`.
cgroup_path() {
  if [ -s "$NODE_DIR/cgroup" ]; then
    cat "$NODE_DIR/cgroup"
  else
    local parent
    parent=$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)
    printf '%s/nuvolaris-node-%s\n' "${parent%/}" "$ID"
  fi
}
# The node's address and the host's end of the link to it, also derived from the directory, so
# that nodes of several control planes on one machine do not collide.
NODE_IP=10.87.$((16#${ID:0:2})).$((16#${ID:2:2} % 254 + 1))
HOST_IP=10.86.$((16#${ID:0:2})).$((16#${ID:2:2} % 254 + 1))
HOST_LINK=nvh$ID
MNTNS=$NODE_DIR/ns/mnt
# Standard paths the node's programs use, each bind-mounted from $NODE_DIR/root/<path> inside
# the node's mount namespace.
PRIVATE_DIRS=(/var/lib/kubelet /var/lib/containerd /run/containerd /var/log/pods
  /var/log/containers /var/lib/cni /etc/cni/net.d /opt/containerd /run/netns
  /tmp/kwok-local-path-provisioner) # the hostPath of the PersistentVolumes kwok provisions

log() { printf 'node: %s\n' "$*" >&2; }
die() { printf 'node: ERROR: %s\n' "$*" >&2; exit 1; }
kc() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }

cluster_cache() { bash "$ROOT/tools/cluster/cluster.sh" cache-dir; }

# in_node CMD...: run CMD inside the node's network and mount namespaces.
IN_NODE=(nsenter --net="/run/netns/$NETNS" --mount="$MNTNS" --)
in_node() { "${IN_NODE[@]}" "$@"; }

cgroup_dirs() {
  local h
  for h in /sys/fs/cgroup/*/; do
    [ -e "$h/cgroup.procs" ] && echo "${h%/}"
  done
  # cgroup v2 only: /sys/fs/cgroup itself
  if [ -e /sys/fs/cgroup/cgroup.procs ]; then echo /sys/fs/cgroup; fi
}

# start NAME CMD...: run CMD in the node's cgroup (so that `down` finds it and its children),
# in its own session, logging to $NODE_DIR/logs/NAME.log.
start() {
  local name=$1
  shift
  # shellcheck disable=SC2016
  setsid bash -c 'for d in $CGROUP_DIRS; do echo $$ >"$d/cgroup.procs" 2>/dev/null || true; done; exec "$@"' \
    start "$@" </dev/null >"$NODE_DIR/logs/$name.log" 2>&1 9>&- &
  echo $! >"$NODE_DIR/pids/$name.pid"
}

alive() {
  local pid
  pid=$(cat "$NODE_DIR/pids/$1.pid" 2>/dev/null) || return 1
  [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
}

wait_for() {
  local limit=$1 what=$2 name=$3
  shift 3
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$name" ] && ! alive "$name"; then
      die "$name exited while waiting for $what; see $NODE_DIR/logs/$name.log"$'\n'"$(tail -n 20 "$NODE_DIR/logs/$name.log" 2>/dev/null)"
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "$what within ${limit}s; see $NODE_DIR/logs/${name:-kubelet}.log"$'\n'"$(tail -n 20 "$NODE_DIR/logs/${name:-kubelet}.log" 2>/dev/null)"
    sleep 0.2
  done
}

node_ready() {
  [ "$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

healthy() {
  local c
  [ -f "$NODE_DIR/ready" ] || return 1
  for c in apiserver-host apiserver-node containerd kubelet kube-proxy dnsmasq dns-records; do
    alive "$c" || return 1
  done
  node_ready
}

# ---------------------------------------------------------------------------

setup_namespaces() {
  local d
  # network: the node's address on a link to the host (routes for the two addresses only), the
  # API server's advertised address and, once the first pod starts, the CNI bridge.
  ip netns add "$NETNS"
  ip -n "$NETNS" link set lo up
  ip link add "$HOST_LINK" type veth peer name eth0 netns "$NETNS"
  ip addr add "$HOST_IP/32" dev "$HOST_LINK"
  ip link set "$HOST_LINK" up
  ip route add "$NODE_IP/32" dev "$HOST_LINK" src "$HOST_IP"
  ip -n "$NETNS" addr add "$NODE_IP/32" dev eth0
  ip -n "$NETNS" link set eth0 up
  ip -n "$NETNS" route add "$HOST_IP/32" dev eth0 src "$NODE_IP"
  if [ -n "$API_ADVERTISED" ] && [ "${API_ADVERTISED#127.}" = "$API_ADVERTISED" ]; then
    ip -n "$NETNS" addr add "$API_ADVERTISED/32" dev lo
  fi
  ip netns exec "$NETNS" sysctl -qw net.ipv4.ip_forward=1
  # Replies of a pod reached through a Service on the same bridge must pass conntrack.
  ip netns exec "$NETNS" sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null \
    || log "br_netfilter is not available in the node's namespace; kube-proxy masquerades all Service traffic"

  # mount: a persistent namespace (bound to a file on a private mount) where the standard paths
  # are bind mounts of $NODE_DIR/root/...
  mkdir -p "$NODE_DIR/ns"
  mount --bind "$NODE_DIR/ns" "$NODE_DIR/ns"
  mount --make-private "$NODE_DIR/ns"
  touch "$MNTNS"
  for d in "${PRIVATE_DIRS[@]}"; do
    mkdir -p "$d" "$NODE_DIR/root$d"
  done
  # shellcheck disable=SC2016 # expanded by the inner shell
  unshare --mount="$MNTNS" --propagation slave bash -c '
    set -e
    root=$1
    shift
    for d in "$@"; do mount --bind "$root$d" "$d"; done' binds "$NODE_DIR/root" "${PRIVATE_DIRS[@]}"

  # cgroups: one subtree per node; the daemons in <subtree>/node, pods in <subtree>/kubepods.
  CGROUP=$(cgroup_path)
  echo "$CGROUP" >"$NODE_DIR/cgroup"
  CGROUP_DIRS=
  for d in $(cgroup_dirs); do
    mkdir -p "$d$CGROUP/node"
    CGROUP_DIRS="$CGROUP_DIRS $d$CGROUP/node"
  done
  # cgroup v1 cpuset: a new group starts with no CPUs; inherit the parent's.
  if [ -e /sys/fs/cgroup/cpuset/cpuset.cpus ]; then
    local path=/sys/fs/cgroup/cpuset part
    for part in ${CGROUP//\// } node; do
      path=$path/$part
      [ -s "$path/cpuset.cpus" ] || cat /sys/fs/cgroup/cpuset/cpuset.cpus >"$path/cpuset.cpus"
      [ -s "$path/cpuset.mems" ] || cat /sys/fs/cgroup/cpuset/cpuset.mems >"$path/cpuset.mems"
    done
  fi
  export CGROUP_DIRS
}

write_configs() {
  mkdir -p "$NODE_DIR/root/etc/cni/net.d" "$NODE_DIR/dns"
  cat >"$NODE_DIR/containerd.toml" <<EOF
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "/opt/containerd"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # This sandbox may not lower oom_score_adj (the kubelet asks -998 for sandboxes): never below
  # containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
EOF
  cat >"$NODE_DIR/root/etc/cni/net.d/10-nuvolaris.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "nuvolaris",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_SUBNET"}]], "routes": [{"dst": "0.0.0.0/0"}]}
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  : >"$NODE_DIR/resolv.conf"
  cat >"$NODE_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1 (hybrid); the kubelet refuses it unless told otherwise.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: $CGROUP
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
clusterDNS: ["$NODE_IP"]
clusterDomain: cluster.local
resolvConf: "$NODE_DIR/resolv.conf"
failSwapOn: false
registerWithTaints:
  - {key: "$TAINT_KEY", value: "true", effect: NoSchedule}
# A shared development disk may run nearly full: the node must not evict pods or delete the
# loaded images (they cannot be pulled again) because of other people's files.
evictionHard: {memory.available: "1Mi", nodefs.available: "1Mi", imagefs.available: "1Mi", nodefs.inodesFree: "1"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
maxPods: 40
serializeImagePulls: false
EOF
}

cmd_up() {
  if [ ! -s "$KUBECONFIG_FILE" ] || [ ! -s "$RUN/state.env" ]; then
    die "the control plane is not up: run tools/cluster/cluster.sh up first"
  fi
  [ "$(id -u)" -eq 0 ] || die "the real node needs root (namespaces, mounts, cgroups)"
  mkdir -p "$NODE_DIR"
  exec 9>"$RUN/node.lock"
  flock 9
  if healthy; then
    log "already up"
    return 0
  fi
  if [ -d "$NODE_DIR/pids" ] || ip netns list | grep -qw "$NETNS"; then
    log "found a stale or partial node; tearing it down first"
    stop_all
  fi
  local c
  for c in containerd runc ctr socat dnsmasq iptables conntrack nsenter unshare; do
    command -v "$c" >/dev/null || missing_packages=1
  done
  if [ -n "${missing_packages:-}" ] || [ ! -x /usr/lib/cni/bridge ]; then
    log "installing containerd, runc, CNI plugins, socat, dnsmasq, iptables, conntrack (Debian)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      containerd runc containernetworking-plugins socat dnsmasq-base iptables conntrack; } >&2 \
      || die "installing the node's Debian packages failed"
  fi
  bash "$ROOT/tools/cluster/cluster.sh" build-node >&2
  local cache
  cache=$(cluster_cache)
  local t0=$SECONDS
  # shellcheck disable=SC1091
  . "$RUN/state.env"
  API_ADVERTISED=$(kc get endpointslices -n default -l kubernetes.io/service-name=kubernetes \
    -o jsonpath='{.items[0].endpoints[0].addresses[0]}' 2>/dev/null || true)
  local api_target_port
  api_target_port=$(kc get endpointslices -n default -l kubernetes.io/service-name=kubernetes \
    -o jsonpath='{.items[0].ports[0].port}' 2>/dev/null || true)
  if [ -z "$API_ADVERTISED" ] || [ "$api_target_port" != "$API_PORT" ]; then
    die "the kubernetes Service has no endpoint on port $API_PORT (API server started with --endpoint-reconciler-type=none?): pods could not reach the API server"
  fi
  mkdir -p "$NODE_DIR/logs" "$NODE_DIR/pids"
  setup_namespaces
  write_configs

  # The API server, for the node's programs and its pods.
  local sock=$NODE_DIR/apiserver.sock
  rm -f "$sock"
  start apiserver-host socat "UNIX-LISTEN:$sock,fork,mode=600" "TCP:127.0.0.1:$API_PORT"
  wait_for 10 "the API server socket did not appear" apiserver-host test -S "$sock"
  start apiserver-node "${IN_NODE[@]}" socat "TCP-LISTEN:$API_PORT,fork,reuseaddr" "UNIX-CONNECT:$sock"

  start containerd "${IN_NODE[@]}" containerd --config "$NODE_DIR/containerd.toml"
  wait_for 60 "containerd did not answer" containerd \
    in_node ctr --address /run/containerd/containerd.sock version
  local images
  images=$(bash "$HERE/images.sh")
  in_node ctr --address /run/containerd/containerd.sock -n k8s.io images import "$images" >"$NODE_DIR/logs/import.log" 2>&1 \
    || die "importing $images failed; see $NODE_DIR/logs/import.log"

  start kubelet "${IN_NODE[@]}" "$cache/kubelet" --config="$NODE_DIR/kubelet.yaml" \
    --kubeconfig="$KUBECONFIG_FILE" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" \
    --node-labels="$TAINT_KEY=true,type=real" --v=1
  wait_for "$TIMEOUT" "the kubelet's node did not become Ready" kubelet node_ready

  start kube-proxy "${IN_NODE[@]}" "$cache/kube-proxy" --kubeconfig="$KUBECONFIG_FILE" \
    --hostname-override="$NODE_NAME" --proxy-mode=iptables --cluster-cidr="$POD_CIDR" \
    --conntrack-max-per-core=0 --metrics-bind-address=127.0.0.1:10249 \
    --healthz-bind-address=127.0.0.1:10256 --v=1
  wait_for 60 "kube-proxy did not become healthy" kube-proxy \
    in_node curl -fsS --max-time 2 http://127.0.0.1:10256/healthz

  # Cluster DNS: dnsmasq answers <service>.<namespace>.svc.cluster.local from one hosts file per
  # Service, kept by a watch on Services.
  start dnsmasq "${IN_NODE[@]}" dnsmasq --keep-in-foreground --no-resolv --no-hosts --user=root \
    --listen-address="$NODE_IP" --bind-interfaces --hostsdir="$NODE_DIR/dns" \
    --local=/cluster.local/ --log-facility=- --pid-file=
  start dns-records bash "$HERE/dns-records.sh" "$KUBECONFIG_FILE" "$NODE_DIR/dns"
  wait_for 30 "the cluster DNS did not resolve kubernetes.default" dnsmasq \
    in_node python3 "$HERE/dns-query.py" "$NODE_IP" kubernetes.default.svc.cluster.local

  cut -d' ' -f1 "$images.txt" >"$NODE_DIR/images"
  apply_policy
  touch "$NODE_DIR/ready"
  log "up in $((SECONDS - t0))s: node $NODE_NAME (network namespace $NETNS)"
}

# The admission policy that sends pods whose images were all loaded here to this node.
apply_policy() {
  local list
  list=$(sort -u "$NODE_DIR/images" | sed "s/.*/'&'/" | paste -sd, -)
  kc apply -f - >"$NODE_DIR/logs/policy.log" 2>&1 <<EOF || die "applying the admission policy failed; see $NODE_DIR/logs/policy.log"
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata:
  name: nuvolaris-real-node
spec:
  failurePolicy: Fail
  reinvocationPolicy: Never
  matchConstraints:
    resourceRules:
      - apiGroups: [""]
        apiVersions: ["v1"]
        operations: ["CREATE"]
        resources: ["pods"]
  matchConditions:
    - name: every-image-is-on-the-real-node
      expression: >-
        object.spec.containers.all(c, c.image in [$list]) &&
        (!has(object.spec.initContainers) || object.spec.initContainers.all(c, c.image in [$list]))
    - name: a-job-only-when-its-server-runs-there
      expression: >-
        !has(object.metadata.labels) || !('job-name' in object.metadata.labels) ||
        object.metadata.labels['job-name'] in [$JOBS_ON_NODE]
  mutations:
    - patchType: JSONPatch
      jsonPatch:
        expression: >-
          [
            has(object.spec.nodeSelector)
              ? JSONPatch{op: "add", path: "/spec/nodeSelector/" + jsonpatch.escapeKey("$TAINT_KEY"), value: "true"}
              : JSONPatch{op: "add", path: "/spec/nodeSelector", value: {"$TAINT_KEY": "true"}},
            has(object.spec.tolerations)
              ? JSONPatch{op: "add", path: "/spec/tolerations/-", value: Object.spec.tolerations{key: "$TAINT_KEY", operator: "Exists", effect: "NoSchedule"}}
              : JSONPatch{op: "add", path: "/spec/tolerations", value: [Object.spec.tolerations{key: "$TAINT_KEY", operator: "Exists", effect: "NoSchedule"}]}
          ]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata:
  name: nuvolaris-real-node
spec:
  policyName: nuvolaris-real-node
  matchResources:
    namespaceSelector:
      matchLabels:
        $TAINT_KEY: "true"
EOF
}

cmd_load() {
  [ -f "$NODE_DIR/ready" ] || die "the node is not up: run tools/node/node.sh up first"
  [ $# -gt 0 ] || die "usage: node.sh load ARCHIVE..."
  local archive
  exec 9>"$RUN/node.lock"
  flock 9
  for archive in "$@"; do
    [ -s "$archive" ] || die "no archive at $archive"
    in_node ctr --address /run/containerd/containerd.sock -n k8s.io images import "$archive" >>"$NODE_DIR/logs/import.log" 2>&1 \
      || die "importing $archive failed; see $NODE_DIR/logs/import.log"
    tar -xOf "$archive" index.json | grep -o '"io.containerd.image.name":"[^"]*"' | cut -d'"' -f4 >>"$NODE_DIR/images"
  done
  apply_policy
  log "images on $NODE_NAME: $(sort -u "$NODE_DIR/images" | tr '\n' ' ')"
}

cmd_alias() {
  [ -f "$NODE_DIR/ready" ] || die "the node is not up: run tools/node/node.sh up first"
  [ $# -eq 2 ] || die "usage: node.sh alias IMAGE REF"
  exec 9>"$RUN/node.lock"
  flock 9
  grep -qxF "$1" "$NODE_DIR/images" || die "$1 is not loaded on the node"
  in_node ctr --address /run/containerd/containerd.sock -n k8s.io images tag --force "$1" "$2" >/dev/null \
    || die "tagging $1 as $2 failed"
  echo "$2" >>"$NODE_DIR/images"
  apply_policy
  log "$2 is $1 on $NODE_NAME"
}

# Kill every process of the node's cgroup subtree (daemons, shims, containers) until none is left.
kill_cgroup() {
  local procs d CGROUP
  CGROUP=$(cgroup_path)
  [ -d "/sys/fs/cgroup/pids$CGROUP" ] || return 0
  for _ in $(seq 1 50); do
    procs=$(find "/sys/fs/cgroup/pids$CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
    [ -z "$procs" ] && break
    # shellcheck disable=SC2086
    kill -KILL $procs 2>/dev/null || true
    sleep 0.1
  done
  for d in $(cgroup_dirs); do
    [ -d "$d$CGROUP" ] || continue
    find "$d$CGROUP" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

stop_all() {
  local f pid
  rm -f "$NODE_DIR/ready"
  for f in "$NODE_DIR"/pids/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  kill_cgroup
  if [ -e "$MNTNS" ]; then umount "$MNTNS" 2>/dev/null || true; fi
  if mountpoint -q "$NODE_DIR/ns" 2>/dev/null; then umount "$NODE_DIR/ns" || true; fi
  # Deleting the namespace deletes the veth pair and the host's route to the node.
  if ip netns list | grep -qw "$NETNS"; then ip netns del "$NETNS" || true; fi
  ip link del "$HOST_LINK" 2>/dev/null || true
  if [ -s "$KUBECONFIG_FILE" ]; then
    kc delete node "$NODE_NAME" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    kc delete mutatingadmissionpolicybinding,mutatingadmissionpolicy nuvolaris-real-node \
      --ignore-not-found >/dev/null 2>&1 || true
  fi
  rm -rf "$NODE_DIR"
}

cmd_down() {
  [ -d "$NODE_DIR" ] || { log "nothing to stop"; return 0; }
  exec 9>"$RUN/node.lock"
  flock 9
  stop_all
  log "down"
}

cmd_status() {
  local c rc=0
  for c in apiserver-host apiserver-node containerd kubelet kube-proxy dnsmasq dns-records; do
    if alive "$c"; then
      printf '%-16s running (pid %s)\n' "$c" "$(cat "$NODE_DIR/pids/$c.pid")"
    else
      printf '%-16s stopped\n' "$c"
      rc=1
    fi
  done
  if node_ready; then printf '%-16s Ready\n' "$NODE_NAME"; else printf '%-16s not Ready\n' "$NODE_NAME"; rc=1; fi
  return $rc
}

case "${1:-}" in
  up) cmd_up ;;
  load)
    shift
    cmd_load "$@"
    ;;
  alias)
    shift
    cmd_alias "$@"
    ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 up|load ARCHIVE...|alias IMAGE REF|down|status" >&2
    exit 2
    ;;
esac
