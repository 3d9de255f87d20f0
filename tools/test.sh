#!/usr/bin/env bash
# The project's test command: build the local control plane (cached), start it,
# run the whole test suite against it, and always stop it again.
# Extra arguments are passed to `cargo test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Real servers the setup tests talk to (installed when missing, cached outside the repo).
bash tools/testdeps/redis.sh >/dev/null
bash tools/testdeps/couchdb.sh >/dev/null
# The Python environment of the whisk-system action tests (the runtime's libraries, pytest).
bash tools/testdeps/python-actions.sh >/dev/null
# The other protocols' servers (tools/testdeps/README.md); the Go builds run in sequence.
for dep in postgres nginx kafka milvus-lite minio mc seaweedfs ferretdb registry promtool amtool; do
  bash "tools/testdeps/$dep.sh" >/dev/null
done
bash tools/cluster/cluster.sh build
# The operator's image and the real node's programs, for tests/in_cluster.rs.
IMAGE_PROFILE=dev bash tools/image/build.sh >/dev/null
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
