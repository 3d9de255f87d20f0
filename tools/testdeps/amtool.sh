#!/usr/bin/env bash
# Builds `amtool` (Alertmanager's config checker) from the Go module proxy into the
# testdeps cache, so tests can run `amtool check-config` on what the operator renders.
# v0.25.0 is the Alertmanager the original deploys.
#
# Usage: tools/testdeps/amtool.sh     prints the path of the amtool binary
set -euo pipefail
ALERTMANAGER_VERSION=v0.25.0

TESTDEPS_NAME=amtool
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dir="$TESTDEPS_CACHE/amtool-$ALERTMANAGER_VERSION"

testdeps_go_ensure "$dir/amtool" github.com/prometheus/alertmanager "$ALERTMANAGER_VERSION" \
  testdeps_go_install "$dir" "github.com/prometheus/alertmanager/cmd/amtool@$ALERTMANAGER_VERSION" \
  "-X github.com/prometheus/common/version.Version=${ALERTMANAGER_VERSION#v}"
echo "$dir/amtool"
