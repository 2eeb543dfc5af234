#!/usr/bin/env python3
"""A forward HTTP proxy like a corporate one, for the real builds: CONNECT tunnels (https://) and absolute-URI
requests (http://), only to hosts given with --allow; logs "METHOD HOST:PORT" per request to --log. Listens on one
address and stops after --max-seconds."""
import argparse
import http.client
import http.server
import select
import socket
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"}
BODY_MAX = 1024 * 1024 * 1024


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def note(self, where):
        with self.server.log_lock, open(self.server.log, "a", encoding="utf-8") as f:
            f.write("%s %s\n" % (self.command, where))

    def allowed(self, host):
        if host in self.server.allow:
            return True
        self.send_error(403, "not an allowed host")
        return False

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        self.note(self.path)
        if not self.allowed(host):
            return
        try:
            upstream = socket.create_connection((host, int(port)), timeout=30)
        except OSError:
            self.send_error(502)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.tunnel(self.connection, upstream)

    def tunnel(self, a, b):
        deadline = time.time() + 600
        try:
            while time.time() < deadline:
                ready, _, _ = select.select([a, b], [], [], 30)
                if not ready:
                    break
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            pass
        finally:
            b.close()

    def forward(self):
        url = urllib.parse.urlsplit(self.path)
        self.note("%s:%s" % (url.hostname, url.port or 80))
        if url.scheme != "http" or not self.allowed(url.hostname):
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, BODY_MAX)) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
        try:
            conn.request(self.command, url.path + ("?" + url.query if url.query else ""), body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError:
            self.send_error(502)
            return
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward

    def log_message(self, fmt, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--listen", required=True, help="HOST:PORT")
    ap.add_argument("--allow", action="append", default=[], help="a host the proxy may reach (repeatable)")
    ap.add_argument("--log", required=True)
    ap.add_argument("--max-seconds", type=float, default=1800)
    args = ap.parse_args()
    host, _, port = args.listen.rpartition(":")
    server = http.server.ThreadingHTTPServer((host, int(port)), Proxy)
    server.allow, server.log, server.log_lock = set(args.allow), args.log, threading.Lock()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    time.sleep(args.max_seconds)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
