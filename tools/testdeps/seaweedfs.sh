#!/usr/bin/env bash
# Builds SeaweedFS' `weed` (master, volume, filer and S3 gateway in one binary, plus
# `weed shell`) from the Go module proxy into the testdeps cache, for
# tests/support/servers.rs: `Seaweedfs`. SeaweedFS' go.mod has a replace directive, so
# it is built through the wrapper module tools/testdeps/seaweedfs (go.mod + go.sum).
# The proxy serves only the head of its main branch: weed 4.53.
#
# Usage: tools/testdeps/seaweedfs.sh     prints the path of the weed binary
set -euo pipefail
SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6

TESTDEPS_NAME=seaweedfs
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dir="$TESTDEPS_CACHE/seaweedfs-$SEAWEEDFS_VERSION"

# The wrapper's go.mod pins the same version; the stamped commit shows in `weed version`.
testdeps_go_ensure "$dir/weed" github.com/seaweedfs/seaweedfs "$SEAWEEDFS_VERSION" \
  testdeps_go_build_wrapper "$dir/weed" "$TESTDEPS_DIR/seaweedfs" github.com/seaweedfs/seaweedfs/weed \
  "-X github.com/seaweedfs/seaweedfs/weed/util/version.COMMIT=${SEAWEEDFS_VERSION##*-}"
echo "$dir/weed"
