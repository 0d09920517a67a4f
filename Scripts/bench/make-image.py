#!/usr/bin/env python3
"""Writes an OCI image layout holding one image of N layers of random
(incompressible) bytes, for the pull and unpack benchmarks.

usage: make-image.py DIR REF --layers 5 --layer-mib 48 [--files-per-layer 1]
                     [--small-files 0 --small-size 4096] [--gzip] [--seed 1]
"""
import argparse, hashlib, io, json, os, random, tarfile, time, zlib


def blob(root, data, media_type):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(root, "blobs", "sha256", digest)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("ref")
    p.add_argument("--layers", type=int, default=5)
    p.add_argument("--layer-mib", type=int, default=48)
    p.add_argument("--files-per-layer", type=int, default=1)
    p.add_argument("--small-files", type=int, default=0, help="small files per layer, besides the large ones")
    p.add_argument("--small-size", type=int, default=4096)
    p.add_argument("--gzip", action="store_true", help="gzip the layers (level 1)")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(os.path.join(a.dir, "blobs", "sha256"), exist_ok=True)
    layers, diff_ids = [], []
    per_file = a.layer_mib * (1 << 20) // a.files_per_layer
    for n in range(a.layers):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            d = tarfile.TarInfo(f"layer{n}")
            d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 1700000000
            tar.addfile(d)
            for i in range(a.files_per_layer):
                data = rng.randbytes(per_file)
                info = tarfile.TarInfo(f"layer{n}/file{i}.bin")
                info.size, info.mode, info.mtime = len(data), 0o644, 1700000000
                tar.addfile(info, io.BytesIO(data))
            for i in range(a.small_files):
                if i % 100 == 0:
                    d = tarfile.TarInfo(f"layer{n}/small{i // 100}")
                    d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 1700000000
                    tar.addfile(d)
                data = rng.randbytes(a.small_size)
                info = tarfile.TarInfo(f"layer{n}/small{i // 100}/f{i}.txt")
                info.size, info.mode, info.mtime = len(data), 0o644, 1700000000
                tar.addfile(info, io.BytesIO(data))
        data = buf.getvalue()
        diff_ids.append("sha256:" + hashlib.sha256(data).hexdigest())
        if a.gzip:
            c = zlib.compressobj(1, zlib.DEFLATED, 31)
            layers.append(blob(a.dir, c.compress(data) + c.flush(), "application/vnd.oci.image.layer.v1.tar+gzip"))
        else:
            layers.append(blob(a.dir, data, "application/vnd.oci.image.layer.v1.tar"))
    config = {"architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
              "config": {"Cmd": ["/bin/true"]}, "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cfg = blob(a.dir, json.dumps(config, sort_keys=True).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": layers}
    m = blob(a.dir, json.dumps(manifest, sort_keys=True).encode(), "application/vnd.oci.image.manifest.v1+json")
    m["annotations"] = {"org.opencontainers.image.ref.name": a.ref}
    with open(os.path.join(a.dir, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    index_path = os.path.join(a.dir, "index.json")
    index = {"schemaVersion": 2, "manifests": []}
    if os.path.exists(index_path):
        index = json.load(open(index_path))
    index["manifests"] = [x for x in index["manifests"] if x.get("annotations", {}).get("org.opencontainers.image.ref.name") != a.ref] + [m]
    with open(index_path, "w") as f:
        json.dump(index, f)
    print(m["digest"])


if __name__ == "__main__":
    main()
