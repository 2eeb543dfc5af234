#!/usr/bin/python3
"""A registry that misbehaves on purpose, for the bad-input tests of `multiarch-controller index`. Loopback only.

Each repository /v2/SCENARIO/app/ answers in one broken way (see SCENARIOS); anything not broken by the scenario
behaves like a small registry: a per-arch OCI image manifest and its config blob by digest, manifest PUTs stored
and read back. GET /scenarios returns {SCENARIO: source digest}, the digest to pass as --source. PUTs that were
accepted are listed by GET /accepted. The copy scenarios also answer on 127.0.0.2 (another host to the client) and
list their requests, with whether each carried Authorization, at GET /seen; with --tls-cert the same registry is
served over TLS too (the target of location-downgrade). Prints its port (and the TLS one) as its first line;
stops after --lifetime seconds.
"""
import argparse
import hashlib
import http.server
import json
import ssl
import threading
import time

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

# the copy scenarios: the source is read from 127.0.0.2 (another host), so the index command copies its blobs into
# the target on 127.0.0.1; their layer is real (LAYER_BYTES) or lies about its size
LAYER_BYTES = b"L" * (64 * 1024)
COPY_IMAGE = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                         "config": {"mediaType": OCI_CONFIG, "digest": digest(GOOD_CONFIG), "size": len(GOOD_CONFIG)},
                         "layers": [{"mediaType": LAYER, "digest": digest(LAYER_BYTES), "size": len(LAYER_BYTES)}]}).encode()
SMALL_LAYER = b"S" * 32
OVERSIZED_IMAGE = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                              "config": {"mediaType": OCI_CONFIG, "digest": digest(GOOD_CONFIG), "size": len(GOOD_CONFIG)},
                              "layers": [{"mediaType": LAYER, "digest": digest(SMALL_LAYER), "size": 32}]}).encode()
COPY_SCENARIOS = ("blob-oversized", "blob-drip", "location-elsewhere", "location-downgrade")

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
    "blob-oversized": (OVERSIZED_IMAGE, OCI_MANIFEST, GOOD_CONFIG),  # a layer declared as 32 bytes sends 8 MiB
    "blob-drip": (COPY_IMAGE, OCI_MANIFEST, GOOD_CONFIG),  # the layer comes at 2 KiB a second
    "location-elsewhere": (COPY_IMAGE, OCI_MANIFEST, GOOD_CONFIG),  # the upload Location is on 127.0.0.2
    "location-downgrade": (COPY_IMAGE, OCI_MANIFEST, GOOD_CONFIG),  # pushed over TLS, the Location is plain HTTP
}


def make_handler(port):
    stored = {}
    accepted = []
    seen = []  # the requests of the copy scenarios: [host, method, path, whether they carried Authorization]
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

        def copy_scenario(self, scenario, kind, ref, body):
            """The copy scenarios: the source side on 127.0.0.2, the target side (Basic auth) on 127.0.0.1."""
            here = self.server.server_address[0]
            with lock:
                seen.append([here, self.command, self.path.split("?")[0], "Authorization" in self.headers])
            if here == "127.0.0.1" and scenario == "location-elsewhere" and "Authorization" not in self.headers:
                return self.answer(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"login"}]}',
                                   headers={"WWW-Authenticate": 'Basic realm="hostile"'})
            body_src, ctype, config = SCENARIOS[scenario]
            if kind == "uploads" and self.command == "POST":
                return self.answer(202, headers={"Location": "http://127.0.0.2:%d/v2/%s/app/uploads/u1" % (port, scenario)})
            if kind == "uploads" and self.command == "PUT":
                return self.answer(201, headers={"Docker-Content-Digest": digest(body)})
            if kind == "manifests" and self.command == "PUT":
                with lock:
                    stored[(scenario, ref)] = (body, self.headers.get("Content-Type", ""))
                    accepted.append("%s:%s" % (scenario, ref))
                return self.answer(201, headers={"Docker-Content-Digest": digest(body)})
            if kind == "manifests":
                with lock:
                    if (scenario, ref) in stored:
                        data, mt = stored[(scenario, ref)]
                        return self.answer(200, data, mt, {"Docker-Content-Digest": digest(data)})
                if here == "127.0.0.2" and ref == digest(body_src):
                    return self.answer(200, body_src, ctype, {"Docker-Content-Digest": ref})
                return self.answer(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
            if kind == "blobs" and here == "127.0.0.2" and self.command == "GET":
                return self.send_blob(scenario, ref, config)
            return self.answer(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}')

        def send_blob(self, scenario, ref, config):
            if ref == digest(config):
                return self.answer(200, config, "application/octet-stream", {"Docker-Content-Digest": ref})
            if scenario == "blob-oversized" and ref == digest(SMALL_LAYER):
                # declared as 32 bytes in the manifest; sends 8 MiB with no length, until the client hangs up
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                self.close_connection = True
                for _ in range(128):
                    self.wfile.write(b"X" * 65536)
                return None
            if ref != digest(LAYER_BYTES):
                return self.answer(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}')
            if scenario == "blob-drip":
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(LAYER_BYTES)))
                self.end_headers()
                self.close_connection = True
                for i in range(0, len(LAYER_BYTES), 2048):
                    self.wfile.write(LAYER_BYTES[i:i + 2048])
                    self.wfile.flush()
                    time.sleep(1)
                return None
            return self.answer(200, LAYER_BYTES, "application/octet-stream", {"Docker-Content-Digest": ref})

        def handle_any(self):
            path = self.path.split("?")[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = path.split("/")
            if len(parts) >= 5 and parts[1] == "v2" and parts[2] in COPY_SCENARIOS:
                kind, ref = parts[4], (parts[5] if len(parts) > 5 else "")
                if kind == "blobs" and ref == "uploads":
                    kind = "uploads"  # POST /v2/S/app/blobs/uploads/; the PUT goes to the Location, /v2/S/app/uploads/ID
                try:
                    return self.copy_scenario(parts[2], kind, ref, body)
                except (BrokenPipeError, ConnectionResetError):
                    return None
            if path == "/seen":
                with lock:
                    return self.answer(200, json.dumps(seen).encode())
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
    ap.add_argument("--tls-cert", help="also serve over TLS on 127.0.0.1 with this certificate (and --tls-key); its "
                    "port is printed after the plain one, on the same line")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), None)
    server.handle_error = lambda request, client_address: None  # clients that give up on a broken answer are expected
    server.RequestHandlerClass = make_handler(server.server_address[1])
    server.daemon_threads = True
    # the same registry on 127.0.0.2, another host to the client: the copy scenarios' sources and upload Location
    other = http.server.ThreadingHTTPServer(("127.0.0.2", server.server_address[1]), server.RequestHandlerClass)
    other.handle_error = server.handle_error
    other.daemon_threads = True
    threading.Thread(target=other.serve_forever, daemon=True).start()
    servers = [other]
    ports = [str(server.server_address[1])]
    if args.tls_cert:
        tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), server.RequestHandlerClass)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        tls.socket = context.wrap_socket(tls.socket, server_side=True)
        tls.handle_error = server.handle_error
        tls.daemon_threads = True
        threading.Thread(target=tls.serve_forever, daemon=True).start()
        servers.append(tls)
        ports.append(str(tls.server_address[1]))
    print(" ".join(ports), flush=True)
    threading.Timer(args.lifetime, lambda: [s.shutdown() for s in servers + [server]]).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
