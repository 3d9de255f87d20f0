#!/usr/bin/env bash
# Installs nginx from Debian (1.22 on bookworm) when missing, for
# tests/support/servers.rs: `nginx_check` (`nginx -t`) and `Nginx` (a server in a
# temp prefix on 127.0.0.1). The package's own service is not used.
#
# Usage: tools/testdeps/nginx.sh     prints the path of the nginx binary
set -euo pipefail
NGINX_PACKAGE=nginx

TESTDEPS_NAME=nginx
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bin=/usr/sbin/nginx

if [ ! -x "$bin" ]; then
  testdeps_check_only "no $bin"
  testdeps_apt_install "$NGINX_PACKAGE"
  [ -x "$bin" ] || testdeps_die "$NGINX_PACKAGE installed but no $bin"
  # Where the package starts its system service (port 80), stop it: tests run their own.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
    systemctl stop nginx || true
  fi
fi
echo "$bin"
