#!/usr/bin/env bash
# The README's first command: the operator end to end on the local control plane.
#
#   tools/dev.sh        build what is missing, start the control plane, install the CRDs, run the
#                       operator (`cargo run`) against it, apply deploy/samples/minimal.yaml and
#                       wait until wsk/controller is Ready; the operator keeps running afterwards
#   tools/dev.sh down   stop the operator and the control plane
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUN=.cluster
export KUBECONFIG=$PWD/$RUN/kubeconfig
say() { printf 'dev: %s\n' "$*" >&2; }

stop_operator() {
  if [ -s "$RUN/operator.pid" ]; then
    kill "$(cat "$RUN/operator.pid")" 2>/dev/null || true
    rm -f "$RUN/operator.pid"
  fi
}

if [ "${1:-}" = "down" ]; then
  stop_operator
  bash tools/cluster/cluster.sh down
  exit 0
fi

bash tools/cluster/cluster.sh build
bash tools/cluster/cluster.sh up
say "installing the CRDs"
kubectl apply --server-side -f deploy/crds/crds.yaml >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/whisks.nuvolaris.org >/dev/null

say "building and starting the operator (log: $RUN/operator.log)"
cargo build --quiet
stop_operator
cargo run --quiet -- run --listen 127.0.0.1:0 >"$RUN/operator.log" 2>&1 &
echo $! >"$RUN/operator.pid"

say "applying deploy/samples/minimal.yaml"
kubectl create namespace nuvolaris --dry-run=client -o yaml | kubectl apply -f - >/dev/null
start=$(date +%s)
kubectl apply -f deploy/samples/minimal.yaml
if ! kubectl -n nuvolaris wait --for=condition=Ready wsk/controller --timeout=300s; then
  say "wsk/controller did not become Ready; operator log:"
  tail -n 40 "$RUN/operator.log" >&2
  exit 1
fi
say "Ready after $(( $(date +%s) - start )) s"
kubectl -n nuvolaris get wsk/controller
kubectl -n nuvolaris get wsk/controller -o jsonpath='{.status.whisk_create}{"\n"}'
kubectl -n nuvolaris get pods,statefulsets,jobs,services,ingresses
say "the operator keeps running (pid $(cat "$RUN/operator.pid")); stop everything with: bash tools/dev.sh down"
