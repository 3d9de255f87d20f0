#!/usr/bin/env bash
# Images the real node needs besides the operator's, built from Debian packages without a
# container engine (tools/image/oci.py) and cached outside the repo, keyed by version:
#
#   nuvolaris.local/pause:1        the pod sandbox process (tools/node/pause.c, static)
#   nuvolaris.local/redis:<ver>    Debian's redis-server with its shared libraries, bash-static as
#                                  /bin/sh, uid 1001 and /bitnami/redis/data, so that it runs
#                                  under the operator's Redis StatefulSet (made for bitnami's image)
#
#   tools/node/images.sh     prints the archive path; <archive>.txt lists "ref digest sizes"
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
log() { printf 'node-images: %s\n' "$*" >&2; }
die() { printf 'node-images: ERROR: %s\n' "$*" >&2; exit 1; }

need_deb() {
  local file=$1 package=$2
  [ -e "$file" ] && return 0
  [ "$(id -u)" -eq 0 ] || die "$file missing: install the Debian package $package"
  log "installing $package"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >&2 \
    || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >&2; } \
    || die "cannot install $package"
}
need_deb /usr/bin/redis-server redis-server
need_deb /usr/bin/bash-static bash-static
need_deb /usr/bin/musl-gcc musl-tools

redis_version=$(dpkg-query -W -f '${Version}' redis-server) || die "redis-server is not a Debian package here"
# An image tag allows [A-Za-z0-9_.-]: drop the epoch, map the rest.
REDIS_TAG=$(printf '%s' "${redis_version#*:}" | tr -c 'A-Za-z0-9_.-' '-')
PAUSE_TAG=1
KEY=pause-$PAUSE_TAG-$(sha256sum "$HERE/pause.c" | cut -c1-12)-redis-$REDIS_TAG-$(sha256sum "$HERE/images.sh" "$ROOT/tools/image/oci.py" | sha256sum | cut -c1-12)
CACHE=${NUVOLARIS_TESTDEPS_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/nuvolaris-testdeps}/node-images-$KEY
ARCHIVE=$CACHE/node-images.oci.tar
if [ -s "$ARCHIVE" ] && [ -s "$ARCHIVE.txt" ]; then
  echo "$ARCHIVE"
  exit 0
fi
mkdir -p "$CACHE"
musl-gcc -static -Os -s -o "$CACHE/pause" "$HERE/pause.c" || die "building pause failed"

# redis-server and the shared objects it loads, at the paths the loader looks for them.
entries=()
add_file() { entries+=("{\"path\": \"${1#/}\", \"src\": \"$(readlink -f "$1")\", \"mode\": ${2:-420}}"); }
add_file /usr/bin/redis-server 493
while read -r lib; do
  add_file "$lib" 493
done < <(ldd /usr/bin/redis-server | grep -o '/[^ ]*' | sort -u)
printf 'root:x:0:0:root:/root:/sbin/nologin\nredis:x:1001:0:redis:/bitnami/redis:/sbin/nologin\n' >"$CACHE/passwd"
printf 'root:x:0:\n' >"$CACHE/group"
entries+=(
  '{"path": "bin/sh", "src": "/usr/bin/bash-static", "mode": 493}'
  "{\"path\": \"etc/passwd\", \"src\": \"$CACHE/passwd\"}"
  "{\"path\": \"etc/group\", \"src\": \"$CACHE/group\"}"
  '{"path": "bitnami/redis/data", "type": "dir", "uid": 1001, "gid": 0, "mode": 509}'
  '{"path": "tmp", "type": "dir", "mode": 1023}'
)
redis_layer=$(IFS=,; echo "${entries[*]}")

python3 "$ROOT/tools/image/oci.py" "$ARCHIVE.tmp" >"$ARCHIVE.txt.tmp" <<EOF2
{
  "layers": {
    "pause": [{"path": "pause", "src": "$CACHE/pause", "mode": 493}],
    "redis": [$redis_layer]
  },
  "images": [
    {"ref": "nuvolaris.local/pause:$PAUSE_TAG", "layers": ["pause"],
     "config": {"Entrypoint": ["/pause"], "User": "65535:65535"}},
    {"ref": "nuvolaris.local/redis:$REDIS_TAG", "layers": ["redis"],
     "config": {"Cmd": ["redis-server"], "User": "1001:0", "Env": ["PATH=/usr/bin:/bin"],
                "WorkingDir": "/bitnami/redis/data", "ExposedPorts": {"6379/tcp": {}}}}
  ]
}
EOF2
mv "$ARCHIVE.txt.tmp" "$ARCHIVE.txt"
mv "$ARCHIVE.tmp" "$ARCHIVE"
log "built $(cut -d' ' -f1 "$ARCHIVE.txt" | tr '\n' ' ')"
echo "$ARCHIVE"
