#!/usr/bin/python3
"""Fault-injecting HTTP proxy for registry tests, on loopback only.

Forwards every request to --upstream (plain HTTP) and logs "METHOD PATH STATUS" per request to --log.
Faults are taken in order from --faults, a comma-separated list of KIND[xCOUNT][@PATH_SUBSTRING]:
  503      answer 503 Service Unavailable
  429      answer 429 Too Many Requests with Retry-After: 1
  reset    close the connection without answering (TCP reset)
  slow     wait 2 s, then forward (logged as "slow:STATUS")
  corrupt  forward a GET, then flip one byte of its response body
Each fault hits the next COUNT (default 1) requests whose path contains PATH_SUBSTRING (default: any).
With --delay-ms N every request waits N ms before it is forwarded, as if the registry were that far away.
Request bodies may come with Content-Length or chunked (as skopeo and buildah send blob uploads).
Prints the port it listens on as its first line. Stops after --lifetime seconds (default 600).
"""
import argparse
import http.client
import http.server
import socket
import struct
import sys
import threading
import time

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization"}


class Faults:
    def __init__(self, spec):
        self.lock = threading.Lock()
        self.items = []
        for part in filter(None, (p.strip() for p in spec.split(","))):
            kind, _, path = part.partition("@")
            kind, _, count = kind.partition("x")
            if kind not in ("503", "429", "reset", "slow", "corrupt"):
                raise SystemExit("fault-proxy: unknown fault kind %r" % kind)
            self.items.append([kind, int(count or 1), path])

    def take(self, method, path):
        with self.lock:
            for item in self.items:
                # a body can only be corrupted on a GET: other requests leave the fault for later
                if item[1] > 0 and item[2] in path and (item[0] != "corrupt" or method == "GET"):
                    item[1] -= 1
                    return item[0]
        return None


def make_handler(upstream, faults, log, delay_s):
    host, port = upstream.rsplit(":", 1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # a request line that is not HTTP (a TLS hello) gets a status line, so clients that try TLS first (docker
        # manifest) see an HTTP answer and fall back to plain HTTP
        default_request_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def setup(self):
            super().setup()
            # answers go out as written: no Nagle wait on top of the client's delayed ACK
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def record(self, status):
            with log_lock:
                log.write("%s %s %s\n" % (self.command, self.path, status))
                log.flush()

        def read_body(self):
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def relay(self):
            body = self.read_body()
            fault = faults.take(self.command, self.path)
            if fault == "reset":
                self.record("reset")
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            if fault in ("503", "429"):
                self.record(fault)
                self.send_response(int(fault))
                if fault == "429":
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if fault == "slow":
                time.sleep(2)
            if delay_s:
                time.sleep(delay_s)
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # a header sent more than once (docker sends one Accept per media type) is joined, not overwritten
            headers = {}
            for k, v in self.headers.items():
                if k.lower() not in HOP_BY_HOP:
                    headers[k] = headers[k] + ", " + v if k in headers else v
            conn.request(self.command, self.path, body=body if (body or self.command in ("PUT", "POST", "PATCH")) else None,
                         headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if fault == "corrupt" and data:
                data = bytes([data[0] ^ 0x20]) + data[1:]
            self.record("slow:%d" % resp.status if fault == "slow" else resp.status)
            self.send_response(resp.status)
            # a HEAD answer keeps the upstream's Content-Length: it gives the size of what a GET would send
            length = resp.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(data))
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", length)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            conn.close()

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = relay

    log_lock = threading.Lock()
    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the plain-HTTP registry")
    ap.add_argument("--faults", default="", help="the fault plan, see above")
    ap.add_argument("--log", default="/dev/null", help="where to log one line per request")
    ap.add_argument("--lifetime", type=float, default=600)
    ap.add_argument("--delay-ms", type=float, default=0, help="wait this long before forwarding each request")
    args = ap.parse_args()
    log = open(args.log, "a", buffering=1)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args.upstream, Faults(args.faults), log, args.delay_ms / 1000))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Timer(args.lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
