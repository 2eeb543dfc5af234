#!/usr/bin/python3
"""Pushes one small single-platform OCI image per platform to a registry, straight over the distribution API.

Usage: bench/push-images.py REGISTRY REPOSITORY PLATFORM... [--user U --password P] [--cafile CA] [--tls]
Prints "PLATFORM DIGEST" per image. Each image has one layer (a gzipped tar holding one file) and a config
naming its os, architecture and variant, so every tool sees a real per-arch image.
"""
import argparse
import base64
import gzip
import hashlib
import http.client
import io
import json
import ssl
import tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry:
    def __init__(self, host, tls, cafile, user, password):
        self.host, self.tls = host, tls
        self.ctx = ssl.create_default_context(cafile=cafile) if tls else None
        self.auth = {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()} if user else {}

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPSConnection(self.host, context=self.ctx, timeout=30) if self.tls else \
            http.client.HTTPConnection(self.host, timeout=30)
        conn.request(method, path, body=body, headers={**self.auth, **(headers or {})})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if resp.status >= 400:
            raise SystemExit("push-images: %s %s: HTTP %d %s" % (method, path, resp.status, data[:200]))
        return resp, data

    def blob(self, repo, data):
        d = digest(data)
        resp, _ = self.request("POST", "/v2/%s/blobs/uploads/" % repo)
        location = resp.getheader("Location")
        if location.startswith("http"):
            location = "/" + location.split("/", 3)[3]
        sep = "&" if "?" in location else "?"
        self.request("PUT", "%s%sdigest=%s" % (location, sep, d), data, {"Content-Type": "application/octet-stream"})
        return {"mediaType": "", "digest": d, "size": len(data)}


def layer_for(platform):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        text = ("hello from %s\n" % platform).encode()
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime = len(text), 0
        tar.addfile(info, io.BytesIO(text))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), digest(tar_bytes)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("registry")
    ap.add_argument("repository")
    ap.add_argument("platforms", nargs="+")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--cafile")
    ap.add_argument("--user")
    ap.add_argument("--password")
    args = ap.parse_args()
    reg = Registry(args.registry, args.tls, args.cafile, args.user, args.password)
    for platform in args.platforms:
        parts = platform.split("/")
        layer, diff_id = layer_for(platform)
        config = {"architecture": parts[1], "os": parts[0], "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                  "config": {"Cmd": ["/hello.txt"]}}
        if len(parts) > 2:
            config["variant"] = parts[2]
        config_bytes = json.dumps(config, sort_keys=True).encode()
        layer_desc = reg.blob(args.repository, layer)
        layer_desc["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
        config_desc = reg.blob(args.repository, config_bytes)
        config_desc["mediaType"] = "application/vnd.oci.image.config.v1+json"
        manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_desc, "layers": [layer_desc]}).encode()
        tag = "src-" + platform.replace("/", "-")
        reg.request("PUT", "/v2/%s/manifests/%s" % (args.repository, tag), manifest, {"Content-Type": OCI_MANIFEST})
        print(platform, digest(manifest), flush=True)


if __name__ == "__main__":
    main()
