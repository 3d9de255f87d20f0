#!/usr/bin/env bash
# Builds `promtool` (Prometheus' config and rule checker) from the Go module proxy into
# the testdeps cache, so tests can run `promtool check config|rules` on what the operator
# renders. v2.43.1 (module v0.43.1) is the Prometheus the original deploys. Prometheus'
# go.mod has replace directives, so it is built through the wrapper module
# tools/testdeps/prometheus.
#
# Usage: tools/testdeps/promtool.sh     prints the path of the promtool binary
set -euo pipefail
PROMETHEUS_VERSION=v0.43.1

TESTDEPS_NAME=promtool
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dir="$TESTDEPS_CACHE/promtool-$PROMETHEUS_VERSION"

testdeps_go_ensure "$dir/promtool" github.com/prometheus/prometheus "$PROMETHEUS_VERSION" \
  testdeps_go_build_wrapper "$dir/promtool" "$TESTDEPS_DIR/prometheus" \
  github.com/prometheus/prometheus/cmd/promtool \
  "-X github.com/prometheus/common/version.Version=2.43.1"
echo "$dir/promtool"
