#!/usr/bin/env bash
# Local Kubernetes control plane for development, tests and benchmarks.
#
#   cluster.sh build   build etcd, kube-apiserver, kube-controller-manager,
#                      kube-scheduler and kwok from the Go module proxy into $CACHE
#                      (skipped when the cached binaries already report the right versions)
#   cluster.sh up      start the control plane on 127.0.0.1 (idempotent)
#   cluster.sh down    stop it (and the real node, if one runs) and remove its data
#   cluster.sh status  show what is running
#   cluster.sh build-node   build kubelet and kube-proxy for the real node (tools/node/node.sh),
#                      from the same module, cached beside the others
#   cluster.sh cache-dir    print the directory of the cached binaries
#
# Everything runtime lives in <repo>/.cluster (git-ignored); the admin kubeconfig
# is <repo>/.cluster/kubeconfig. etcd data lives on /dev/shm (tmpfs) when available.
set -euo pipefail

K8S_VERSION=1.36.3
ETCD_VERSION=3.6.13
KWOK_VERSION=0.8.0

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${NUVOLARIS_CLUSTER_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/nuvolaris-cluster/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION}
RUN=${NUVOLARIS_CLUSTER_DIR:-$ROOT/.cluster}
KUBECONFIG_FILE=$RUN/kubeconfig
NODES=${NUVOLARIS_CLUSTER_NODES:-3}
# Generous: the first start on a busy 2-core machine can be slow.
TIMEOUT=${NUVOLARIS_CLUSTER_TIMEOUT:-120}
# Start order; `down` stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

# Binaries are built offline-safe: a dependency that needs a newer Go must fail
# loudly instead of downloading a toolchain; nothing needs cgo.
export GOTOOLCHAIN=local CGO_ENABLED=0

log() { printf 'cluster: %s\n' "$*" >&2; }
die() { printf 'cluster: ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------

# First line of `BINARY --version` (captured, not piped into `grep -q`, which
# would SIGPIPE the binary and fail under pipefail).
version_of() {
  local out
  out=$("$1" --version 2>/dev/null) || return 1
  printf '%s\n' "${out%%$'\n'*}"
}

k8s_ok() {
  local b bins=("$@")
  [ $# -gt 0 ] || bins=(kube-apiserver kube-controller-manager kube-scheduler)
  for b in "${bins[@]}"; do
    [ -x "$CACHE/$b" ] || return 1
    [ "$(version_of "$CACHE/$b")" = "Kubernetes v$K8S_VERSION" ] || return 1
  done
}
etcd_ok() { [ -x "$CACHE/etcd" ] && [[ "$(version_of "$CACHE/etcd")" == "etcd Version: $ETCD_VERSION" ]]; }
kwok_ok() { [ -x "$CACHE/kwok" ] && [[ "$(version_of "$CACHE/kwok")" == "kwok version v$KWOK_VERSION "* ]]; }
stages_ok() { [ -s "$CACHE/kwok-stages.yaml" ] && [ -s "$CACHE/storage-class.yaml" ]; }

need_go() { command -v go >/dev/null || die "go is not installed (need go >= 1.26 to build $1)"; }

# go_build_k8s CMD...: build k8s.io/kubernetes/cmd/CMD... from the k8s wrapper module into $CACHE.
go_build_k8s() {
  # Stamp the version like k8s' hack/lib/version.sh, otherwise /version reports v0.0.0.
  local ldf="-s -w" p minor=${K8S_VERSION#*.} cmds=()
  minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldf="$ldf -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  for p in "$@"; do cmds+=("k8s.io/kubernetes/cmd/$p"); done
  (cd "$HERE/k8s" && go build -p 2 -trimpath -ldflags "$ldf" -o "$CACHE/" "${cmds[@]}") \
    || die "building $* failed"
}

# The real node's programs (tools/node/node.sh): only built when a real node is wanted.
cmd_build_node() {
  mkdir -p "$CACHE"
  if k8s_ok kubelet kube-proxy; then
    log "kubelet/kube-proxy v$K8S_VERSION cached in $CACHE"
    return 0
  fi
  local t0=$SECONDS
  log "building kubelet, kube-proxy v$K8S_VERSION"
  need_go kubernetes
  go_build_k8s kubelet kube-proxy
  k8s_ok kubelet kube-proxy || die "built kubelet/kube-proxy do not report v$K8S_VERSION"
  log "kubelet/kube-proxy built in $((SECONDS - t0))s"
}

cmd_build() {
  mkdir -p "$CACHE"
  local t0=$SECONDS
  if k8s_ok; then
    log "kube-apiserver/kube-controller-manager/kube-scheduler v$K8S_VERSION cached in $CACHE"
  else
    log "building kube-apiserver, kube-controller-manager, kube-scheduler v$K8S_VERSION (cold: ~6 min on 2 cores)"
    need_go kubernetes
    go_build_k8s kube-apiserver kube-controller-manager kube-scheduler
    k8s_ok || die "built kubernetes binaries do not report v$K8S_VERSION"
  fi
  if etcd_ok; then
    log "etcd $ETCD_VERSION cached"
  else
    log "building etcd $ETCD_VERSION"
    need_go etcd
    (cd "$HERE/etcd" && go build -p 2 -trimpath -ldflags "-s -w" -o "$CACHE/etcd" .) \
      || die "building etcd failed"
    etcd_ok || die "built etcd does not report $ETCD_VERSION"
  fi
  if kwok_ok; then
    log "kwok v$KWOK_VERSION cached"
  else
    log "building kwok v$KWOK_VERSION"
    need_go kwok
    # `go install pkg@version` ignores the current module and uses kwok's own go.sum.
    (cd "$CACHE" && GOBIN="$CACHE" GOFLAGS= go install -trimpath -ldflags "-s -w" \
      "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION") || die "building kwok failed"
    kwok_ok || die "built kwok does not report v$KWOK_VERSION"
  fi
  if ! stages_ok; then
    need_go "the kwok stage files"
    # kwok's own stage definitions come from its module source (not committed here).
    local dir
    dir=$(cd "$CACHE" && GOFLAGS= go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" \
      | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -d "$dir/kustomize/stage" ] || die "kwok v$KWOK_VERSION module source not found (go mod download failed?)"
    local s f out="$CACHE/kwok-stages.yaml.tmp"
    : >"$out"
    for s in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
      pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete \
      volume/fast/pvc-provision volume/fast/pv-bind volume/fast/pvc-delete volume/fast/pv-delete; do
      f="$dir/kustomize/stage/$s.yaml"
      [ -f "$f" ] || die "kwok stage $s missing in $dir"
      { echo '---'; cat "$f"; } >>"$out"
    done
    mv "$out" "$CACHE/kwok-stages.yaml"
    cp "$dir/kustomize/stage/volume/fast/storage-class.yaml" "$CACHE/storage-class.yaml"
    chmod u+w "$CACHE/kwok-stages.yaml" "$CACHE/storage-class.yaml"
  fi
  log "build done in $((SECONDS - t0))s; binaries in $CACHE"
}

# ---------------------------------------------------------------------------
# helpers for up/down/status
# ---------------------------------------------------------------------------

pid_of() { [ -s "$RUN/pids/$1.pid" ] && cat "$RUN/pids/$1.pid"; }
# running PID: the process exists and is not a zombie (our daemons are reparented
# to PID 1, which may reap them late; `kill -0` succeeds on zombies).
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}
# alive NAME: the recorded pid is running and is still our binary (not a reused pid).
alive() {
  local pid
  pid=$(pid_of "$1") || return 1
  running "$pid" || return 1
  # " (deleted)": the binary was rebuilt while the process kept running.
  case "$(readlink "/proc/$pid/exe" 2>/dev/null)" in
    "$CACHE/$1" | "$CACHE/$1 (deleted)") return 0 ;;
    *) return 1 ;;
  esac
}

# A free TCP port on 127.0.0.1 (chosen by the kernel when python3 is there, else
# a random unused one per `ss`), different from the ones already handed out.
PORTS_TAKEN=" "
free_port() {
  local port
  while :; do
    if command -v python3 >/dev/null 2>&1; then
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    else
      port=$((20000 + RANDOM % 30000))
      [ -z "$(ss -Htln "sport = :$port" 2>/dev/null)" ] || continue
    fi
    case "$PORTS_TAKEN" in *" $port "*) continue ;; esac
    PORTS_TAKEN="$PORTS_TAKEN$port "
    echo "$port"
    return 0
  done
}

kc() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }

api_ready() {
  [ -s "$RUN/state.env" ] || return 1
  # shellcheck disable=SC1091
  . "$RUN/state.env"
  curl -fsS --max-time 5 --cacert "$RUN/pki/ca.crt" "https://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1
}

healthy() {
  local c
  for c in "${COMPONENTS[@]}"; do alive "$c" || return 1; done
  [ -s "$KUBECONFIG_FILE" ] && [ -f "$RUN/ready" ] && api_ready
}

# wait_for SECONDS WHAT LOGNAME CMD...: poll CMD until it succeeds.
wait_for() {
  local limit=$1 what=$2 logname=$3
  shift 3
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$logname" ] && ! alive "$logname"; then
      die "$logname exited while waiting for $what; see $RUN/logs/$logname.log"$'\n'"$(tail -n 15 "$RUN/logs/$logname.log" 2>/dev/null)"
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "$what within ${limit}s; see $RUN/logs/${logname:-kube-apiserver}.log"
    sleep 0.2
  done
}

# start NAME ARGS...: run the binary in its own session/process group, logs to a file.
start() {
  local name=$1
  shift
  # setsid: own process group, so `down` can signal the whole group. fd 9 (the
  # lock) is closed so a daemon never holds the lock after this script exits.
  setsid "$CACHE/$name" "$@" </dev/null >"$RUN/logs/$name.log" 2>&1 9>&- &
  echo $! >"$RUN/pids/$name.pid"
}

gen_pki() {
  local p=$RUN/pki ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  mkdir -p "$p"
  {
    openssl req -x509 "${ec[@]}" -keyout "$p/ca.key" -out "$p/ca.crt" -days 30 -subj "/CN=nuvolaris-test-ca"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' >"$p/apiserver.ext"
    openssl req "${ec[@]}" -keyout "$p/apiserver.key" -out "$p/apiserver.csr" -subj "/CN=kube-apiserver"
    openssl x509 -req -in "$p/apiserver.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
      -days 30 -out "$p/apiserver.crt" -extfile "$p/apiserver.ext"
    printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n' >"$p/client.ext"
    openssl req "${ec[@]}" -keyout "$p/admin.key" -out "$p/admin.csr" -subj "/O=system:masters/CN=admin"
    openssl x509 -req -in "$p/admin.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
      -days 30 -out "$p/admin.crt" -extfile "$p/client.ext"
    openssl genrsa -out "$p/sa.key" 2048
    openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub"
  } >"$RUN/logs/pki.log" 2>&1 || die "generating PKI with openssl failed; see $RUN/logs/pki.log"
}

write_kubeconfig() {
  local b64="base64 -w0" tmp=$KUBECONFIG_FILE.tmp
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: nuvolaris-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $($b64 <"$RUN/pki/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $($b64 <"$RUN/pki/admin.crt")
    client-key-data: $($b64 <"$RUN/pki/admin.key")
contexts:
- name: nuvolaris-local
  context:
    cluster: nuvolaris-local
    user: admin
current-context: nuvolaris-local
EOF
  chmod 600 "$tmp"
  mv "$tmp" "$KUBECONFIG_FILE"
}

fake_nodes_yaml() {
  local i
  for i in $(seq 1 "$NODES"); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: kwok-node-$i
    type: kwok
EOF
  done
}

# All fake nodes Ready and without taints (KCM's node-lifecycle controller removes
# the not-ready taint that admission puts on every new node).
nodes_ready() {
  local out
  out=$(kc get nodes -l type=kwok -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{" "}{.spec.taints}{"\n"}{end}') || return 1
  [ "$(printf '%s\n' "$out" | grep -c ' True $')" -eq "$NODES" ]
}

# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------

cmd_up() {
  mkdir -p "$RUN"
  # Serialize concurrent callers (parallel test processes): only one starts the cluster.
  exec 9>"$RUN/lock"
  flock 9
  if healthy; then
    log "already up (kubeconfig: $KUBECONFIG_FILE)"
    return 0
  fi
  if [ -d "$RUN/pids" ]; then
    log "found a stale or partial control plane; tearing it down first"
    stop_all
  fi
  command -v kubectl >/dev/null || die "kubectl is not installed"
  command -v openssl >/dev/null || die "openssl is not installed"
  command -v curl >/dev/null || die "curl is not installed"
  cmd_build
  local t0=$SECONDS
  mkdir -p "$RUN/logs" "$RUN/pids"

  # Not $(free_port): a subshell would lose PORTS_TAKEN.
  local v
  for v in ETCD_PORT ETCD_PEER_PORT API_PORT KCM_PORT SCHED_PORT KWOK_PORT; do
    free_port >"$RUN/port.tmp"
    read -r "${v?}" <"$RUN/port.tmp"
  done
  rm -f "$RUN/port.tmp"
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    ETCD_DATA=$(mktemp -d /dev/shm/nuvolaris-etcd.XXXXXX)
  else
    ETCD_DATA=$RUN/etcd-data
    mkdir -p "$ETCD_DATA"
  fi
  cat >"$RUN/state.env" <<EOF
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
API_PORT=$API_PORT
KCM_PORT=$KCM_PORT
SCHED_PORT=$SCHED_PORT
KWOK_PORT=$KWOK_PORT
ETCD_DATA=$ETCD_DATA
EOF
  gen_pki
  write_kubeconfig
  local pki=$RUN/pki
  # kube-apiserver derives its advertise address from the default route and refuses
  # to start without one (e.g. in an isolated network namespace). Then advertise a
  # documentation-range address (never dialled) and skip the endpoint reconciler,
  # which would reject a loopback address.
  local advertise=()
  if command -v ip >/dev/null 2>&1 && [ -z "$(ip -4 route show default 2>/dev/null)" ]; then
    log "no default route; kube-apiserver advertises 192.0.2.10 with --endpoint-reconciler-type=none"
    advertise=(--advertise-address=192.0.2.10 --endpoint-reconciler-type=none)
  fi

  start etcd --name=default --data-dir="$ETCD_DATA" --unsafe-no-fsync=true \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="default=http://127.0.0.1:$ETCD_PEER_PORT" \
    --quota-backend-bytes=4294967296
  wait_for 60 "etcd failed to become healthy" etcd \
    curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"

  start kube-apiserver \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --secure-port="$API_PORT" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --authorization-mode=RBAC --allow-privileged=true \
    --kubelet-preferred-address-types=InternalIP \
    --profiling=false \
    --max-requests-inflight=0 --max-mutating-requests-inflight=0 --enable-priority-and-fairness=false \
    ${advertise[@]+"${advertise[@]}"}
  wait_for "$TIMEOUT" "kube-apiserver failed to become ready (/readyz)" kube-apiserver api_ready

  local common=(--kubeconfig="$KUBECONFIG_FILE" --authentication-kubeconfig="$KUBECONFIG_FILE"
    --authorization-kubeconfig="$KUBECONFIG_FILE" --bind-address=127.0.0.1 --leader-elect=false
    --kube-api-qps=1000 --kube-api-burst=1000)
  start kube-controller-manager "${common[@]}" --secure-port="$KCM_PORT" \
    --controllers='*' --root-ca-file="$pki/ca.crt" --service-account-private-key-file="$pki/sa.key" \
    --use-service-account-credentials=false \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --node-monitor-grace-period=60s
  start kube-scheduler "${common[@]}" --secure-port="$SCHED_PORT"
  start kwok --kubeconfig="$KUBECONFIG_FILE" --config="$CACHE/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds=40 --cidr=10.244.0.0/16 --node-ip=127.0.0.1 \
    --server-address="127.0.0.1:$KWOK_PORT"

  wait_for 60 "kube-controller-manager failed to become healthy" kube-controller-manager \
    curl -fsSk --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz"
  wait_for 60 "kube-scheduler failed to become healthy" kube-scheduler \
    curl -fsSk --max-time 2 "https://127.0.0.1:$SCHED_PORT/healthz"
  wait_for 60 "kwok failed to become healthy" kwok \
    curl -fsS --max-time 2 "http://127.0.0.1:$KWOK_PORT/healthz"

  fake_nodes_yaml | kc apply -f - >"$RUN/logs/setup.log" 2>&1 \
    || die "creating fake nodes failed; see $RUN/logs/setup.log"
  kc apply -f "$CACHE/storage-class.yaml" >>"$RUN/logs/setup.log" 2>&1 \
    || die "creating the default StorageClass failed; see $RUN/logs/setup.log"
  wait_for 60 "fake nodes did not become Ready and untainted" kwok nodes_ready
  wait_for 60 "the default ServiceAccount did not appear" kube-controller-manager \
    kc -n default get serviceaccount default
  touch "$RUN/ready"
  log "up in $((SECONDS - t0))s: https://127.0.0.1:$API_PORT (kubeconfig: $KUBECONFIG_FILE)"
}

# stop NAME: SIGTERM the process group, then SIGKILL after 10 s.
stop_one() {
  local name=$1 pid i
  pid=$(pid_of "$name") || return 0
  if alive "$name"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
      running "$pid" || break
      sleep 0.1
    done
    if running "$pid"; then
      log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$RUN/pids/$name.pid"
}

stop_all() {
  local i etcd_data=
  rm -f "$RUN/ready"
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop_one "${COMPONENTS[i]}"; done
  if [ -s "$RUN/state.env" ]; then
    etcd_data=$(sed -n 's/^ETCD_DATA=//p' "$RUN/state.env")
  fi
  case "$etcd_data" in
    /dev/shm/nuvolaris-etcd.* | "$RUN"/*) rm -rf "$etcd_data" ;;
  esac
  # Keep $RUN/lock: waiters hold it open; removing it would break the mutual exclusion.
  rm -rf "$RUN/pids" "$RUN/pki" "$RUN/logs" "$RUN/state.env" "$KUBECONFIG_FILE" "$RUN/etcd-data"
}

cmd_down() {
  [ -d "$RUN" ] || { log "nothing to stop"; return 0; }
  # The real node first: it needs the API server to deregister.
  if [ -d "$RUN/node" ]; then bash "$ROOT/tools/node/node.sh" down || log "stopping the real node failed"; fi
  exec 9>"$RUN/lock"
  flock 9
  stop_all
  log "down"
}

cmd_status() {
  local c pid rc=0
  for c in "${COMPONENTS[@]}"; do
    if alive "$c"; then
      pid=$(pid_of "$c")
      printf '%-24s running (pid %s)\n' "$c" "$pid"
    else
      printf '%-24s stopped\n' "$c"
      rc=1
    fi
  done
  if api_ready; then
    printf '%-24s ready at https://127.0.0.1:%s\n' "apiserver /readyz" "$API_PORT"
    printf '%-24s %s\n' kubeconfig "$KUBECONFIG_FILE"
    kc get nodes 2>/dev/null || true
  else
    printf '%-24s not ready\n' "apiserver /readyz"
    rc=1
  fi
  if [ -d "$RUN/node" ]; then bash "$ROOT/tools/node/node.sh" status || rc=1; fi
  return $rc
}

case "${1:-}" in
  build) cmd_build ;;
  build-node) cmd_build_node ;;
  cache-dir) echo "$CACHE" ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 build|build-node|up|down|status|cache-dir" >&2
    exit 2
    ;;
esac
