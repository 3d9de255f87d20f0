#!/usr/bin/env bash
# Builds FerretDB (a MongoDB wire-protocol server on PostgreSQL) from the Go module
# proxy into the testdeps cache, for tests/support/servers.rs: `Ferretdb`.
# v1.24.2 is the last v1 release: FerretDB v2 needs the DocumentDB PostgreSQL extension,
# which Debian does not package; v1 runs on plain PostgreSQL (the original deploys 1.6.0).
# FerretDB's own cmd/ferretdb panics at start when built from the module proxy (it wants
# the version.txt its release build generates), so the binary is the small main of the
# wrapper module tools/testdeps/ferretdb (main.go, go.mod, go.sum), which runs the same
# server through FerretDB's embeddable package.
# The sqlite handler is left out (-tags ferretdb_no_sqlite): it is the slowest part of
# the build and the tests use the postgresql handler only.
#
# Usage: tools/testdeps/ferretdb.sh     prints the path of the ferretdb binary
set -euo pipefail
FERRETDB_VERSION=v1.24.2

TESTDEPS_NAME=ferretdb
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dir="$TESTDEPS_CACHE/ferretdb-$FERRETDB_VERSION"

TESTDEPS_GO_MAIN=nuvolaris.org/testdeps/ferretdb
testdeps_go_ensure "$dir/ferretdb" github.com/FerretDB/FerretDB "$FERRETDB_VERSION" \
  testdeps_go_build_wrapper "$dir/ferretdb" "$TESTDEPS_DIR/ferretdb" . "" ferretdb_no_sqlite
echo "$dir/ferretdb"
