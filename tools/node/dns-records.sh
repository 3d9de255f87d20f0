#!/usr/bin/env bash
# The real node's cluster DNS records: one dnsmasq hosts file per Service with a cluster IP,
# "<ip> <name>.<namespace>.svc.cluster.local", kept up to date by a watch on Services
# (dnsmasq rereads its --hostsdir on every change). Started by tools/node/node.sh.
#
#   dns-records.sh KUBECONFIG DIR
set -uo pipefail
kubeconfig=$1
dir=$2
while :; do
  kubectl --kubeconfig "$kubeconfig" get services --all-namespaces --watch --output-watch-events \
    -o jsonpath='{.type} {.object.metadata.namespace} {.object.metadata.name} {.object.spec.clusterIP}{"\n"}' |
    while read -r type namespace name ip; do
      file=$dir/$namespace.$name
      if [ "$type" = DELETED ] || [ -z "$ip" ] || [ "$ip" = None ]; then
        rm -f "$file"
      else
        # written beside the directory and renamed into it: dnsmasq never reads half a file
        printf '%s %s.%s.svc.cluster.local\n' "$ip" "$name" "$namespace" >"$dir.tmp"
        mv "$dir.tmp" "$file"
      fi
    done
  # The watch ended (API server restart or timeout): list and watch again.
  sleep 1
done
