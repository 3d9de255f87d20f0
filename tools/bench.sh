#!/usr/bin/env bash
# Figures of the operator on the local control plane (printed; nothing is asserted):
#   - time from `kubectl apply` of a CR (default: the minimal sample) to Ready=True
#   - API writes of the install, and during a reconcile with nothing to change (target 0)
#   - operator RSS idle, peak during the install, and after it
#   - offline render of the same CR (cargo bench --bench render)
# Uses the release binary; starts the control plane if needed and leaves it as it found it.
# Usage: tools/bench.sh [CR.yaml]   e.g. deploy/samples/enterprise.yaml
set -euo pipefail
cr=${1:-deploy/samples/minimal.yaml}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUN=.cluster
export KUBECONFIG=$PWD/$RUN/kubeconfig
say() { printf 'bench: %s\n' "$*" >&2; }

bash tools/cluster/cluster.sh build >/dev/null
was_up=1; bash tools/cluster/cluster.sh status >/dev/null 2>&1 || was_up=0
bash tools/cluster/cluster.sh up >/dev/null
cargo build --release --quiet
kubectl apply --server-side --force-conflicts -f deploy/crds/crds.yaml >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/whisks.nuvolaris.org >/dev/null

ns=bench-$RANDOM
kubectl create namespace "$ns" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/release/nuvolaris-operator run --namespace "$ns" --listen "127.0.0.1:$port" >"$RUN/bench-operator.log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  [ "$was_up" = 1 ] || bash tools/cluster/cluster.sh down >/dev/null 2>&1 || true
}
trap cleanup EXIT

metric() { curl -s "127.0.0.1:$port/metrics" | awk -v m="$1" '$1 ~ "^"m { s += $2 } END { print s + 0 }'; }
rss_kib() { awk -v f="$1" '$1 == f":" { print $2 }' "/proc/$pid/status"; }

until curl -sf "127.0.0.1:$port/readyz" >/dev/null; do
  kill -0 "$pid" 2>/dev/null || { say "operator exited; log:"; cat "$RUN/bench-operator.log" >&2; exit 1; }
  sleep 0.2
done
idle=$(rss_kib VmRSS)

sed "s/namespace: nuvolaris/namespace: $ns/" "$cr" >"$RUN/bench-cr.yaml"
start=$(date +%s.%N)
kubectl apply -f "$RUN/bench-cr.yaml" >/dev/null
kubectl -n "$ns" wait --for=condition=Ready wsk/controller --timeout=300s >/dev/null
ready=$(date +%s.%N)
install_writes=$(metric nuvolaris_operator_api_writes_total)
peak=$(rss_kib VmHWM)

# a reconcile with nothing to change: poke the CR (an annotation is not a spec change)
before_reconciles=$(metric nuvolaris_operator_reconciles_total)
before_writes=$(metric nuvolaris_operator_api_writes_total)
kubectl -n "$ns" annotate wsk/controller bench/poke="$(date +%s)" --overwrite >/dev/null
until [ "$(metric nuvolaris_operator_reconciles_total)" -gt "$before_reconciles" ]; do sleep 0.1; done
noop_writes=$(( $(metric nuvolaris_operator_api_writes_total) - before_writes ))
after=$(rss_kib VmRSS)

printf 'FIGURES (release build, kwok control plane, 2 shared cores)\n'
printf '  apply of %s -> Ready=True: %.2f s\n' "$cr" "$(python3 -c "print($ready - $start)")"
printf '  API writes of the install: %s; during a no-op reconcile: %s\n' "$install_writes" "$noop_writes"
printf '  operator RSS: idle %s MiB, peak during install %s MiB, after %s MiB\n' \
  "$(( idle / 1024 ))" "$(( peak / 1024 ))" "$(( after / 1024 ))"
cargo bench --quiet --bench render 2>/dev/null | sed 's/^/  /'
