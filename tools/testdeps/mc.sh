#!/usr/bin/env bash
# Builds MinIO's client `mc` from the Go module proxy into the testdeps cache, so tests
# can check what the operator did to a MinIO server with the admin commands the
# original runs (`mc admin user add`, `mc admin policy create/attach`, `mc mb`):
# tests/support/servers.rs `Minio::mc`. Test tool only, not part of the operator.
# The proxy serves only this head of mc's main branch (after RELEASE.2025-02-21).
# Cheap after minio.sh: most of its packages are already in the Go build cache.
#
# Usage: tools/testdeps/mc.sh     prints the path of the mc binary
set -euo pipefail
MC_VERSION=v0.0.0-20250313080218-cf909e1063a9

TESTDEPS_NAME=mc
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dir="$TESTDEPS_CACHE/mc-$MC_VERSION"

testdeps_go_ensure "$dir/mc" github.com/minio/mc "$MC_VERSION" \
  testdeps_go_install "$dir" "github.com/minio/mc@$MC_VERSION"
echo "$dir/mc"
