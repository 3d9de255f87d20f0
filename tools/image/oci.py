#!/usr/bin/env python3
"""Writes an OCI image archive (an OCI image layout in a tar) without a container engine.

Reads a JSON description on stdin and writes one archive holding one or more images that may
share layers. Everything is deterministic: entries sorted, owners and modes explicit, mtimes 0,
gzip without a timestamp, so the same inputs give the same digests.

    {
      "layers": {
        "<name>": [
          {"path": "nuvolaris-operator", "src": "/abs/file", "mode": 493},
          {"path": "home/nuvolaris", "type": "dir", "uid": 1001, "gid": 0, "mode": 509},
          {"path": "bin/sh", "type": "symlink", "target": "bash"}
        ]
      },
      "images": [
        {"ref": "registry/name:tag", "layers": ["<name>", ...], "config": {<OCI image config "config" object>}}
      ]
    }

Entries default to uid 0, gid 0, mode 0644 (files) / 0755 (dirs). The archive loads with
`ctr images import`, `podman load` and `skopeo copy oci-archive:...`; each image is named by the
`io.containerd.image.name` and `org.opencontainers.image.ref.name` annotations of the index.

Usage: oci.py OUT.tar < description.json   (prints one line per image: ref, digest, sizes)
"""

import gzip
import hashlib
import io
import json
import sys
import tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def fail(message):
    sys.stderr.write(f"oci.py: {message}\n")
    sys.exit(1)


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_info(entry, kind):
    info = tarfile.TarInfo(entry["path"].strip("/"))
    info.uid = entry.get("uid", 0)
    info.gid = entry.get("gid", 0)
    info.uname = info.gname = ""
    info.mtime = 0
    info.type = kind
    info.mode = entry.get("mode", 0o755 if kind == tarfile.DIRTYPE else 0o644)
    return info


def layer_tar(entries):
    """The uncompressed layer: parent directories added, entries sorted by path."""
    by_path = {}
    for entry in entries:
        path = entry["path"].strip("/")
        if not path:
            fail(f"empty path in {entry}")
        by_path[path] = entry
        parts = path.split("/")
        for i in range(1, len(parts)):
            by_path.setdefault("/".join(parts[:i]), {"path": "/".join(parts[:i]), "type": "dir"})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(by_path):
            entry = by_path[path]
            kind = entry.get("type", "file")
            if kind == "dir":
                tar.addfile(tar_info(entry, tarfile.DIRTYPE))
            elif kind == "symlink":
                info = tar_info(entry, tarfile.SYMTYPE)
                info.linkname = entry["target"]
                info.mode = 0o777
                tar.addfile(info)
            elif kind == "file":
                try:
                    with open(entry["src"], "rb") as f:
                        data = f.read()
                except OSError as e:
                    fail(f"cannot read {entry['src']} for /{path}: {e}")
                info = tar_info(entry, tarfile.REGTYPE)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                fail(f"unknown entry type {kind!r} for /{path}")
    return buf.getvalue()


def gzip_bytes(data):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def main():
    if len(sys.argv) != 2:
        fail("usage: oci.py OUT.tar < description.json")
    out = sys.argv[1]
    try:
        desc = json.load(sys.stdin)
    except json.JSONDecodeError as e:
        fail(f"invalid description: {e}")

    blobs = {}  # digest -> bytes

    def blob(data):
        digest = sha256(data)
        blobs[digest] = data
        return digest

    layers = {}  # name -> (descriptor, diff_id, uncompressed size)
    for name, entries in desc["layers"].items():
        raw = layer_tar(entries)
        packed = gzip_bytes(raw)
        layers[name] = (
            {"mediaType": OCI_LAYER, "digest": blob(packed), "size": len(packed)},
            sha256(raw),
            len(raw),
        )

    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    report = []
    for image in desc["images"]:
        try:
            used = [layers[n] for n in image["layers"]]
        except KeyError as e:
            fail(f"image {image['ref']} names unknown layer {e}")
        config = {
            "architecture": "amd64",
            "os": "linux",
            "created": "1970-01-01T00:00:00Z",
            "config": image["config"],
            "rootfs": {"type": "layers", "diff_ids": [diff_id for _, diff_id, _ in used]},
            "history": [
                {"created": "1970-01-01T00:00:00Z", "created_by": f"tools/image: layer {n}"}
                for n in image["layers"]
            ],
        }
        config_bytes = canonical(config)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": blob(config_bytes), "size": len(config_bytes)},
            "layers": [d for d, _, _ in used],
        }
        manifest_bytes = canonical(manifest)
        digest = blob(manifest_bytes)
        index["manifests"].append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": digest,
                "size": len(manifest_bytes),
                "platform": {"architecture": "amd64", "os": "linux"},
                "annotations": {
                    "io.containerd.image.name": image["ref"],
                    "org.opencontainers.image.ref.name": image["ref"],
                },
            }
        )
        compressed = sum(d["size"] for d, _, _ in used)
        uncompressed = sum(size for _, _, size in used)
        report.append(f"{image['ref']} {digest} compressed={compressed} uncompressed={uncompressed}")

    with tarfile.open(out, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def add(path, data):
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))

        add("oci-layout", canonical({"imageLayoutVersion": "1.0.0"}))
        add("index.json", canonical(index))
        for digest in sorted(blobs):
            add("blobs/sha256/" + digest.split(":", 1)[1], blobs[digest])
    print("\n".join(report))


if __name__ == "__main__":
    main()
