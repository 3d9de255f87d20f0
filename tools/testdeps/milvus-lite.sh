#!/usr/bin/env bash
# Installs milvus-lite (an embedded Milvus server shipped as a PyPI wheel) into a venv in
# the testdeps cache (keyed by both versions), for tests/support/servers.rs: `MilvusLite`. It serves Milvus' gRPC
# API only: see tools/testdeps/README.md for what that covers.
#
# Usage: tools/testdeps/milvus-lite.sh     prints the path of the venv's python
set -euo pipefail
MILVUS_LITE_VERSION=3.2.2
# milvus-lite's gRPC server imports its protocol stubs from pymilvus (not a declared
# dependency); pymilvus is also the client the readiness check uses.
PYMILVUS_VERSION=3.0.2

TESTDEPS_NAME=milvus-lite
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
version="$MILVUS_LITE_VERSION-pymilvus-$PYMILVUS_VERSION"
dir="$TESTDEPS_CACHE/milvus-lite-$version"
py="$dir/venv/bin/python"
stamp="$dir/installed"

# The stamp is written last, after the package imports: a broken install is redone.
if [ "$(cat "$stamp" 2>/dev/null)" != "$version" ]; then
  testdeps_check_only "no $stamp"
  command -v python3 >/dev/null || testdeps_die "python3 is required"
  testdeps_log "installing milvus-lite $MILVUS_LITE_VERSION into $dir/venv"
  rm -rf "$dir"
  mkdir -p "$dir"
  python3 -m venv "$dir/venv" || testdeps_die "python3 -m venv failed (apt-get install python3-venv)"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check \
    "milvus-lite==$MILVUS_LITE_VERSION" "pymilvus==$PYMILVUS_VERSION" >&2 \
    || testdeps_die "pip install milvus-lite==$MILVUS_LITE_VERSION pymilvus==$PYMILVUS_VERSION failed"
  "$py" -c 'import milvus_lite.adapter.grpc.server, pymilvus' || testdeps_die "milvus_lite does not import"
  echo "$version" >"$stamp"
fi
echo "$py"
