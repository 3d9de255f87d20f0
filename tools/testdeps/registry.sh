#!/usr/bin/env bash
# Builds the CNCF distribution registry (`registry`, the server of the registry:3
# image the original deploys) from the Go module proxy into the testdeps cache, for
# tests/support/servers.rs: `Registry` (filesystem storage, htpasswd auth).
#
# Usage: tools/testdeps/registry.sh     prints the path of the registry binary
set -euo pipefail
REGISTRY_VERSION=v3.0.0

TESTDEPS_NAME=registry
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dir="$TESTDEPS_CACHE/registry-$REGISTRY_VERSION"

testdeps_go_ensure "$dir/registry" github.com/distribution/distribution/v3 "$REGISTRY_VERSION" \
  testdeps_go_install "$dir" "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION"
echo "$dir/registry"
