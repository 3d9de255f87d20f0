#!/usr/bin/env bash
# Installs PostgreSQL from Debian (the distribution's supported major: 15 on bookworm)
# when missing, for tests/support/servers.rs: `Postgres` (initdb + postgres in a temp
# dir, scram-sha-256 password auth on 127.0.0.1; run as the `postgres` user when root,
# since postgres refuses to run as root). Also brings psql and pg_isready.
#
# Usage: tools/testdeps/postgres.sh     prints the directory of the server binaries
set -euo pipefail
POSTGRES_PACKAGE=postgresql

TESTDEPS_NAME=postgres
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Debian installs each major under /usr/lib/postgresql/<major>/bin; take the newest.
bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_isready" ] && [ -x "$d/psql" ] \
    && printf '%s\n' "$d"
}

if ! bindir >/dev/null; then
  testdeps_check_only "no /usr/lib/postgresql/*/bin/postgres"
  testdeps_apt_install "$POSTGRES_PACKAGE"
  bindir >/dev/null || testdeps_die "$POSTGRES_PACKAGE installed but no /usr/lib/postgresql/*/bin/postgres"
fi
bindir
