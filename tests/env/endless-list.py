#!/usr/bin/python3
"""An API server that never ends a LIST, for the bounded-list tests of kube/: GET .../same answers one item and
always the continue token it was sent ("again" at first); GET .../growing answers a new token every page. Plain
HTTP on 127.0.0.1; prints its port as its first line; stops after --lifetime seconds."""
import argparse
import http.server
import json
import socket
import threading
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        cont = urllib.parse.parse_qs(url.query).get("continue", [""])[0]
        if url.path.endswith("/same"):
            token = cont or "again"
        else:
            token = str(int(cont or "0") + 1)
        body = json.dumps({"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1", "continue": token},
                           "items": [{"metadata": {"name": "x" + token}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lifetime", type=float, default=120)
    args = ap.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Timer(args.lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
