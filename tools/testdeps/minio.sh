#!/usr/bin/env bash
# Builds the MinIO server from the Go module proxy into the testdeps cache, so tests
# can start a real S3 + MinIO-admin server (tests/support/servers.rs: `Minio`).
# MinIO publishes no semver tags and the proxy serves only the head of its (now
# source-only) main branch: RELEASE.2025-10-15T17-29-55Z plus 7 bug fixes and README edits.
#
# Usage: tools/testdeps/minio.sh     prints the path of the minio binary
set -euo pipefail
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MINIO_COMMIT=7aac2a2c5b7c882e68c1ce017d8256be2feea27f

TESTDEPS_NAME=minio
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dir="$TESTDEPS_CACHE/minio-$MINIO_VERSION"

# The commit id makes `minio --version` say what it is built from.
testdeps_go_ensure "$dir/minio" github.com/minio/minio "$MINIO_VERSION" \
  testdeps_go_install "$dir" "github.com/minio/minio@$MINIO_VERSION" \
  "-X github.com/minio/minio/cmd.CommitID=$MINIO_COMMIT -X github.com/minio/minio/cmd.ShortCommitID=${MINIO_COMMIT:0:12}"
echo "$dir/minio"
