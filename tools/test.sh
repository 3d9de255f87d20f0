#!/usr/bin/env bash
# The project's test command: build the local control plane (cached), start it,
# run the whole test suite against it, and always stop it again.
# Extra arguments are passed to `cargo test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Real servers the setup tests talk to (installed when missing, cached outside the repo).
bash tools/testdeps/redis.sh >/dev/null
bash tools/testdeps/couchdb.sh >/dev/null
bash tools/cluster/cluster.sh build
# The operator's image and the real node's programs, for tests/in_cluster.rs.
bash tools/image/build.sh >/dev/null
bash tools/cluster/cluster.sh build-node
trap 'bash tools/cluster/cluster.sh down || echo "test.sh: cluster down failed" >&2' EXIT
bash tools/cluster/cluster.sh up
bash tools/node/node.sh up

set +e
# lib, bins and integration tests (benches are measured by `cargo bench`, not run as tests)
cargo test "$@"
status=$?
set -e
if [ "$status" -ne 0 ]; then
  echo "test.sh: cargo test failed (exit $status); control plane logs are in .cluster/logs until teardown" >&2
  tail -n 20 .cluster/logs/*.log >&2 || true
fi
exit "$status"
