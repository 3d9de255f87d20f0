#!/usr/bin/env bash
# Builds the operator's container images without a container engine (`task image`).
#
#   tools/image/build.sh            static release binary + OCI archive; prints the archive path
#
# The archive (target/image/nuvolaris-operator-<version>.oci.tar) holds two images that share
# their first layer:
#   $IMAGE_REPO:<version>       the binary (static), CA certificates, /etc/passwd; runs as 65532
#                               `nuvolaris-operator run` (what deploy/operator uses)
#   $IMAGE_REPO:<version>-ops   plus bash (Debian's bash-static) and /home/nuvolaris/run.sh, so that
#                               the `ops` CLI's StatefulSet (`bash -c ./run.sh`, uid 1001) runs it
# It loads with `ctr images import`, `podman load` or `skopeo copy oci-archive:…`. The Dockerfile
# builds the same two images (`docker build .` and `docker build --target ops .`).
#
# The binary is linked statically against musl (as in the Dockerfile). When the musl target cannot
# be installed (rustup offline), it is linked statically against glibc (`+crt-static`) instead: the
# operator resolves no host names through NSS (the API server is reached by IP; setup Jobs resolve
# service names through the cluster DNS, which glibc's built-in `dns` source handles).
#
# Environment: IMAGE_REPO (ghcr.io/nuvolaris/nuvolaris-operator), IMAGE_TAG (the crate version),
# IMAGE_OUT (target/image), IMAGE_PROFILE (release; the test command uses `dev`: the in-cluster
# tests need the behaviour, not the optimisations, and a dev build of the static binary takes a
# fraction of the release build's time on 2 cores).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

log() { printf 'image: %s\n' "$*" >&2; }
die() { printf 'image: ERROR: %s\n' "$*" >&2; exit 1; }

VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$VERSION" ] || die "no version in Cargo.toml"
IMAGE_REPO=${IMAGE_REPO:-ghcr.io/nuvolaris/nuvolaris-operator}
IMAGE_TAG=${IMAGE_TAG:-$VERSION}
OUT=${IMAGE_OUT:-$ROOT/target/image}
BASH_STATIC=/usr/bin/bash-static
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

# Debian packages the image takes files from, installed when missing (as root).
need_deb() {
  local file=$1 package=$2
  [ -e "$file" ] && return 0
  [ "$(id -u)" -eq 0 ] || die "$file missing: install the Debian package $package"
  log "installing $package"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >&2 \
    || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >&2; } \
    || die "cannot install $package"
}

# The Rust target for a static binary: musl when available, else glibc with crt-static.
TARGET=x86_64-unknown-linux-musl
if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET" \
  && ! rustup target add "$TARGET" >&2; then
  log "the musl target cannot be installed; linking statically against glibc instead"
  TARGET=x86_64-unknown-linux-gnu
  export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static"
fi
if [ "$TARGET" = x86_64-unknown-linux-musl ]; then
  need_deb /usr/bin/musl-gcc musl-tools # C parts of `ring`
fi
need_deb "$BASH_STATIC" bash-static
need_deb "$CA_BUNDLE" ca-certificates

PROFILE=${IMAGE_PROFILE:-release}
case "$PROFILE" in
  dev) PROFILE_DIR=debug ;;
  *) PROFILE_DIR=$PROFILE ;;
esac
t0=$SECONDS
log "cargo build --profile $PROFILE --target $TARGET"
cargo build --profile "$PROFILE" --locked --target "$TARGET" >&2 || die "cargo build failed"
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/$TARGET/$PROFILE_DIR/nuvolaris-operator
# A static binary has no program interpreter.
if readelf -l "$BIN" 2>/dev/null | grep -q 'program interpreter'; then
  die "$BIN is dynamically linked"
fi
log "binary built in $((SECONDS - t0))s: $(du -h "$BIN" | cut -f1) ($TARGET, static)"

mkdir -p "$OUT"
ARCHIVE=$OUT/nuvolaris-operator-$IMAGE_TAG.oci.tar
python3 "$HERE/oci.py" "$ARCHIVE.tmp" >"$OUT/images.txt" <<EOF
{
  "layers": {
    "operator": [
      {"path": "nuvolaris-operator", "src": "$BIN", "mode": 493},
      {"path": "etc/passwd", "src": "$HERE/passwd"},
      {"path": "etc/group", "src": "$HERE/group"},
      {"path": "etc/ssl/certs/ca-certificates.crt", "src": "$CA_BUNDLE"}
    ],
    "ops": [
      {"path": "bin/bash", "src": "$BASH_STATIC", "mode": 493},
      {"path": "home/nuvolaris/run.sh", "src": "$HERE/run.sh", "mode": 493}
    ]
  },
  "images": [
    {
      "ref": "$IMAGE_REPO:$IMAGE_TAG",
      "layers": ["operator"],
      "config": {
        "User": "65532:65532",
        "Entrypoint": ["/nuvolaris-operator"],
        "Cmd": ["run"],
        "Env": ["PATH=/bin", "SSL_CERT_FILE=$CA_BUNDLE"],
        "WorkingDir": "/",
        "ExposedPorts": {"8080/tcp": {}},
        "Labels": {"org.opencontainers.image.title": "nuvolaris-operator", "org.opencontainers.image.version": "$VERSION"}
      }
    },
    {
      "ref": "$IMAGE_REPO:$IMAGE_TAG-ops",
      "layers": ["operator", "ops"],
      "config": {
        "User": "1001:0",
        "Entrypoint": ["/home/nuvolaris/run.sh"],
        "Env": ["PATH=/bin", "SSL_CERT_FILE=$CA_BUNDLE", "HOME=/home/nuvolaris"],
        "WorkingDir": "/home/nuvolaris",
        "ExposedPorts": {"8080/tcp": {}},
        "Labels": {"org.opencontainers.image.title": "nuvolaris-operator (ops CLI variant)", "org.opencontainers.image.version": "$VERSION"}
      }
    }
  ]
}
EOF
mv "$ARCHIVE.tmp" "$ARCHIVE"
while read -r ref _ compressed uncompressed; do
  log "$ref: ${compressed#compressed=} bytes compressed, ${uncompressed#uncompressed=} uncompressed"
done <"$OUT/images.txt"
echo "$ARCHIVE"
