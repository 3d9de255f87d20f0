#!/bin/bash
# Entry point for the `ops` CLI's operator StatefulSet, which runs `bash -c ./run.sh --verbose`
# in /home/nuvolaris as uid 1001 (`bash -c` makes "--verbose" its $0, so this script usually gets
# no arguments; run directly, `--verbose` turns on debug logs).
#
# The CLI's roles grant the operator's resources only in its own namespace (Role
# nuvolaris-operator-role), so the operator watches that namespace, as the original did
# (`kopf run -n nuvolaris`). They grant no Leases: leader election stays off.
set -euo pipefail
namespace=nuvolaris
token_namespace=/var/run/secrets/kubernetes.io/serviceaccount/namespace
if [ -r "$token_namespace" ]; then
  namespace=$(<"$token_namespace")
fi
args=()
for arg in "$@"; do
  case "$arg" in
    --verbose) export RUST_LOG=${RUST_LOG:-nuvolaris_operator=debug,info} ;;
    *) args+=("$arg") ;;
  esac
done
exec /nuvolaris-operator run --namespace "${WATCH_NAMESPACE:-$namespace}" ${args[@]+"${args[@]}"}
