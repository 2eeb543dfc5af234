#!/usr/bin/env python3
"""A Git server for the real builds: Git's smart HTTP protocol (`git http-backend`) over plain HTTP, serving the
bare repositories under --root, on one address for a bounded time. Logs one line per request to --log."""
import argparse
import http.server
import os
import subprocess
import sys
import threading
import time
import urllib.parse

BODY_MAX = 64 * 1024 * 1024


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        self.backend()

    def do_POST(self):
        self.backend()

    def backend(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > BODY_MAX:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        env = {
            "GIT_PROJECT_ROOT": self.server.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        }
        if self.headers.get("Content-Encoding") == "gzip":
            env["HTTP_CONTENT_ENCODING"] = "gzip"
        proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, timeout=120, check=False)
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").split("\r\n"):
            if not line:
                continue
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            else:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        with self.server.log_lock, open(self.server.log, "a", encoding="utf-8") as f:
            f.write("%s %s %d\n" % (self.command, url.path, status))

    def log_message(self, fmt, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--listen", required=True, help="HOST:PORT")
    ap.add_argument("--root", required=True, help="the folder of bare repositories")
    ap.add_argument("--log", required=True)
    ap.add_argument("--max-seconds", type=float, default=1800)
    args = ap.parse_args()
    host, _, port = args.listen.rpartition(":")
    server = http.server.ThreadingHTTPServer((host, int(port)), Handler)
    server.root, server.log, server.log_lock = args.root, args.log, threading.Lock()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    time.sleep(args.max_seconds)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
