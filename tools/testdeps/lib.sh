# Shared helpers for the tools/testdeps/<name>.sh scripts (sourced, not run).
#
# Every server the tests start is installed or built into
#   $NUVOLARIS_TESTDEPS_CACHE/<name>-<version>/   (default ~/.cache/nuvolaris-testdeps)
# OUTSIDE the repository, keyed by version: a warm run only checks that the cached
# binary reports the pinned version and prints its path (stdout); progress goes to stderr.

TESTDEPS_CACHE=${NUVOLARIS_TESTDEPS_CACHE:-${HOME:-/root}/.cache/nuvolaris-testdeps}
TESTDEPS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Built offline-safe, like tools/cluster: a module that needs a newer Go fails loudly
# instead of downloading a toolchain; none of these servers needs cgo.
export GOTOOLCHAIN=local CGO_ENABLED=0

# NUVOLARIS_TESTDEPS_CHECK_ONLY=1: only check and print the path, never install or build
# (what tests/support/servers.rs uses, so that a test fails fast with the command to run).
testdeps_check_only() {
  [ -n "${NUVOLARIS_TESTDEPS_CHECK_ONLY:-}" ] || return 0
  printf 'testdeps %s: not installed (%s): run tools/testdeps/%s.sh\n' \
    "${TESTDEPS_NAME:-?}" "$1" "${TESTDEPS_NAME:-?}" >&2
  exit 3
}

testdeps_log() { printf 'testdeps %s: %s\n' "${TESTDEPS_NAME:-?}" "$*" >&2; }
testdeps_die() { printf 'testdeps %s: ERROR: %s\n' "${TESTDEPS_NAME:-?}" "$*" >&2; exit 1; }

# testdeps_go_built BINARY MODULE VERSION: BINARY was built from MODULE at VERSION (the module
# version Go embeds in every binary, as the main module or a dependency of a wrapper)
# and, when TESTDEPS_GO_MAIN is set, from that main package.
testdeps_go_built() {
  local bin=$1 module=$2 version=$3 out
  [ -x "$bin" ] && command -v go >/dev/null || return 1
  out=$(go version -m "$bin" 2>/dev/null) || return 1
  [[ "$out" == *$'\t'"$module"$'\t'"$version"[$'\t\n']* ]] || return 1
  [ -z "${TESTDEPS_GO_MAIN:-}" ] || [[ "$out" == *$'\tpath\t'"$TESTDEPS_GO_MAIN"$'\n'* ]]
}

testdeps_need_go() {
  command -v go >/dev/null || testdeps_die "go is not installed (need go >= 1.26 to build $TESTDEPS_NAME)"
}

# testdeps_go_install DEST_DIR PACKAGE@VERSION [LDFLAGS]: `go install` a main package from the
# Go module proxy with its own go.mod/go.sum (no replace directives allowed there).
testdeps_go_install() {
  local dest=$1 pkg=$2 ldflags=${3:-}
  testdeps_need_go
  mkdir -p "$dest"
  (cd "$dest" && GOBIN="$dest" GOFLAGS=-buildvcs=false nice -n 10 go install -p 2 -trimpath \
    -ldflags "-s -w $ldflags" "$pkg") || testdeps_die "go install $pkg failed"
}

# testdeps_go_build_wrapper DEST_BINARY WRAPPER_MODULE_DIR PACKAGE [LDFLAGS [TAGS]]: build a main package
# through a committed wrapper module (tools/testdeps/<name>/go.mod + go.sum), for
# modules whose go.mod has replace directives that `go install pkg@version` refuses.
testdeps_go_build_wrapper() {
  local dest=$1 wrapper=$2 pkg=$3 ldflags=${4:-} tags=${5:-}
  testdeps_need_go
  mkdir -p "$(dirname "$dest")"
  (cd "$wrapper" && GOFLAGS="-buildvcs=false -mod=readonly" nice -n 10 go build -p 2 -trimpath -tags "$tags" \
    -ldflags "-s -w $ldflags" -o "$dest.tmp" "$pkg") || testdeps_die "go build $pkg failed"
  mv -f "$dest.tmp" "$dest"
}

# testdeps_go_ensure BINARY MODULE VERSION BUILD_COMMAND...: run the build unless BINARY is already
# built from MODULE@VERSION, then check it is.
testdeps_go_ensure() {
  local bin=$1 module=$2 version=$3 t0=$SECONDS
  shift 3
  testdeps_go_built "$bin" "$module" "$version" && return 0
  testdeps_check_only "no $bin built from $module $version"
  testdeps_log "building $module $version (cold build, see tools/testdeps/README.md)"
  "$@"
  testdeps_go_built "$bin" "$module" "$version" || testdeps_die "$bin is not built from $module $version"
  testdeps_log "built $bin in $((SECONDS - t0))s"
}

# testdeps_apt_install PACKAGE...: apt-get install (when not root: fail with the command to run).
testdeps_apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    testdeps_die "$* missing and not root: run 'sudo apt-get install -y $*'"
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || testdeps_die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "$@" >&2 || testdeps_die "apt-get install $* failed"
}
