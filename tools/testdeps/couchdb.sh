#!/usr/bin/env bash
# Installs pouchdb-server (a CouchDB-protocol server on Node.js) into a cache
# directory OUTSIDE the repository, keyed by version, so that
# `cargo test --test setup_couchdb` can start a real CouchDB-protocol server.
# Idempotent: a second run only prints the path.
#
# Usage: tools/testdeps/couchdb.sh    prints the path of the pouchdb-server binary
# Env:   NUVOLARIS_TESTDEPS_CACHE     cache root (default $HOME/.cache/nuvolaris-testdeps)
#        POUCHDB_SERVER_VERSION       version to install (default 4.2.0)
set -euo pipefail

version="${POUCHDB_SERVER_VERSION:-4.2.0}"
cache="${NUVOLARIS_TESTDEPS_CACHE:-$HOME/.cache/nuvolaris-testdeps}"
dir="$cache/pouchdb-server-$version"
bin="$dir/node_modules/.bin/pouchdb-server"

if [ ! -x "$bin" ]; then
    command -v npm >/dev/null 2>&1 || { echo "npm is required (apt-get install -y npm)" >&2; exit 1; }
    mkdir -p "$dir"
    # A private package.json keeps npm from walking up into another project.
    [ -f "$dir/package.json" ] || echo '{"name":"nuvolaris-testdeps","private":true}' > "$dir/package.json"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "pouchdb-server@$version" >&2
fi
echo "$bin"
