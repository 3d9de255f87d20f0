#!/usr/bin/env bash
# Installs redis-server (Debian package) when missing, so that
# `cargo test --test setup_redis` can start a real server. The test itself
# starts and stops its own redis-server on a free loopback port; this script
# only makes sure the binary exists (CI and fresh machines).
#
# Usage: tools/testdeps/redis.sh            install if missing, print version
set -euo pipefail

if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "redis-server missing and not root: run 'sudo apt-get install -y redis-server'" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends redis-server
    # The package starts a system service on 6379 on some setups; the tests do
    # not need it (they run their own instance), so stop it when systemd is there.
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
        systemctl stop redis-server || true
    fi
fi
redis-server --version
