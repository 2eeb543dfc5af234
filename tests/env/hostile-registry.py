#!/usr/bin/python3
"""A registry that misbehaves on purpose, for the bad-input tests of `multiarch-controller index`. Loopback only.

Each repository /v2/SCENARIO/app/ answers in one broken way (see SCENARIOS); anything not broken by the scenario
behaves like a small registry: a per-arch OCI image manifest and its config blob by digest, manifest PUTs stored
and read back. GET /scenarios returns {SCENARIO: source digest}, the digest to pass as --source. PUTs that were
accepted are listed by GET /accepted. Prints its port as its first line; stops after --lifetime seconds.
"""
import argparse
import hashlib
import http.server
import json
import threading

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image(config_bytes):
    """An image manifest (bytes) whose config is config_bytes."""
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                       "config": {"mediaType": OCI_CONFIG, "digest": digest(config_bytes), "size": len(config_bytes)},
                       "layers": [{"mediaType": LAYER, "digest": "sha256:" + "1" * 64, "size": 32}]}).encode()


GOOD_CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
GOOD = image(GOOD_CONFIG)
BAD_CONFIG = b"\x00\x01 this is not JSON"
HUGE_CONFIG = b'{"architecture":"amd64","os":"linux","pad":"' + b"x" * (9 * 1024 * 1024) + b'"}'
TOO_MANY = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
    {"mediaType": OCI_MANIFEST, "digest": "sha256:%064x" % i, "size": 100, "platform": {"os": "linux", "architecture": "amd64"}}
    for i in range(300)]}).encode()
NESTED = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
    {"mediaType": OCI_INDEX, "digest": digest(b"{}"), "size": 2, "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()

# scenario -> (the source manifest body, its content type, its config blob)
SCENARIOS = {
    "oversized": (b'{"schemaVersion":2,"pad":"' + b" " * (5 * 1024 * 1024) + b'"}', OCI_MANIFEST, GOOD_CONFIG),
    "truncated": (GOOD[: len(GOOD) // 2], OCI_MANIFEST, GOOD_CONFIG),
    "html": (b"<html><body>Welcome to nginx!</body></html>", "text/html", GOOD_CONFIG),
    "empty": (b"", OCI_MANIFEST, GOOD_CONFIG),
    "config-not-json": (image(BAD_CONFIG), OCI_MANIFEST, BAD_CONFIG),
    "config-huge": (image(HUGE_CONFIG), OCI_MANIFEST, HUGE_CONFIG),
    "config-missing": (image(b'{"missing":true}'), OCI_MANIFEST, None),
    "index-too-many": (TOO_MANY, OCI_INDEX, GOOD_CONFIG),
    "nested-index": (NESTED, OCI_INDEX, GOOD_CONFIG),
    "negotiate": (GOOD, OCI_MANIFEST, GOOD_CONFIG),
    "no-realm": (GOOD, OCI_MANIFEST, GOOD_CONFIG),
    "token-html": (GOOD, OCI_MANIFEST, GOOD_CONFIG),
    "token-empty": (GOOD, OCI_MANIFEST, GOOD_CONFIG),
    "token-crlf": (GOOD, OCI_MANIFEST, GOOD_CONFIG),
    "realm-elsewhere": (GOOD, OCI_MANIFEST, GOOD_CONFIG),
    "put-400": (GOOD, OCI_MANIFEST, GOOD_CONFIG),
    "redirect-loop": (GOOD, OCI_MANIFEST, GOOD_CONFIG),
    "short-body": (GOOD, OCI_MANIFEST, GOOD_CONFIG),
    "500-html": (GOOD, OCI_MANIFEST, GOOD_CONFIG),
    "push-silent": (GOOD, OCI_MANIFEST, GOOD_CONFIG),
}


def make_handler(port):
    stored = {}
    accepted = []
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def answer(self, code, body=b"", ctype="application/json", headers=None):
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def challenge(self, scenario):
            if scenario == "negotiate":
                return "Negotiate"
            if scenario == "no-realm":
                return 'Bearer service="hostile"'
            if scenario in ("token-html", "token-empty", "token-crlf"):
                return 'Bearer realm="http://127.0.0.1:%d/token/%s",service="hostile"' % (port, scenario)
            if scenario == "realm-elsewhere":
                # another host (all of 127/8 is this machine's loopback): the credentials must not follow it in clear
                return 'Bearer realm="http://127.0.0.2:%d/token/%s",service="hostile"' % (port, scenario)
            return None

        def handle_any(self):
            path = self.path.split("?")[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if path == "/scenarios":
                return self.answer(200, json.dumps({k: digest(v[0]) for k, v in SCENARIOS.items()}).encode())
            if path == "/accepted":
                with lock:
                    return self.answer(200, json.dumps(accepted).encode())
            if path.startswith("/token/"):
                if path.endswith("token-html"):
                    return self.answer(200, b"<html>login here</html>", "text/html")
                if path.endswith("token-crlf"):
                    return self.answer(200, json.dumps({"token": "abc\r\nX-Injected: yes"}).encode())
                if path.endswith("realm-elsewhere"):
                    return self.answer(200, json.dumps({"token": "from-elsewhere"}).encode())
                return self.answer(200, b"{}")
            if path == "/v2/":
                return self.answer(200, b"{}")
            parts = path.split("/")  # "", "v2", SCENARIO, "app", KIND, REF
            if len(parts) != 6 or parts[1] != "v2" or parts[2] not in SCENARIOS:
                return self.answer(404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"no such repository"}]}')
            scenario, kind, ref = parts[2], parts[4], parts[5]
            body_src, ctype, config = SCENARIOS[scenario]
            challenge = self.challenge(scenario)
            if challenge:
                return self.answer(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                                   headers={"WWW-Authenticate": challenge})
            if scenario == "redirect-loop":
                return self.answer(307, headers={"Location": self.path})
            if scenario == "500-html":
                return self.answer(500, b"<html><h1>Internal Server Error</h1></html>", "text/html")
            if kind == "manifests" and self.command == "PUT":
                if scenario == "put-400":
                    return self.answer(400, b'{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid: the hostile registry says no"}]}')
                with lock:
                    if scenario != "push-silent":
                        stored[(scenario, ref)] = (body, self.headers.get("Content-Type", ""))
                    accepted.append("%s:%s" % (scenario, ref))
                return self.answer(201, headers={"Docker-Content-Digest": digest(body), "Location": self.path})
            if kind == "manifests":
                with lock:
                    if (scenario, ref) in stored:
                        data, mt = stored[(scenario, ref)]
                        return self.answer(200, data, mt, {"Docker-Content-Digest": digest(data)})
                if ref != digest(body_src):
                    return self.answer(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
                if scenario == "short-body":
                    # promises more than it sends, then closes the connection
                    self.send_response(200)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body_src) + 1000))
                    self.end_headers()
                    self.wfile.write(body_src[:20])
                    self.close_connection = True
                    return None
                return self.answer(200, body_src, ctype, {"Docker-Content-Digest": digest(body_src)})
            if kind == "blobs" and config is not None and ref == digest(config):
                return self.answer(200, config, "application/octet-stream", {"Docker-Content-Digest": ref})
            return self.answer(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}')

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lifetime", type=float, default=600)
    args = ap.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), None)
    server.handle_error = lambda request, client_address: None  # clients that give up on a broken answer are expected
    server.RequestHandlerClass = make_handler(server.server_address[1])
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Timer(args.lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
