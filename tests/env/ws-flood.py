#!/usr/bin/env python3
"""Opens --clients websocket connections to URL that never read a frame (each reads only its handshake answer,
with a small receive buffer), holds them --seconds, and prints how many the server upgraded, refused or closed.
For the status port's bounds test. Standard library only."""
import argparse
import base64
import os
import select
import socket
import time
import urllib.parse


def connect(url, protocol, timeout):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(timeout)
    sock.connect((url.hostname, url.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n"
                  % (url.path, url.hostname, url.port, key, protocol)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    return sock, head.startswith(b"HTTP/1.1 101")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("url")
    p.add_argument("--protocol", default="multiarch-status")
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--ready-file", help="created once every client has connected")
    args = p.parse_args()
    url = urllib.parse.urlparse(args.url)
    held, upgraded, refused = [], 0, 0
    for _ in range(args.clients):
        try:
            sock, ok = connect(url, args.protocol, 5)
        except OSError:
            refused += 1
            continue
        if ok:
            upgraded += 1
            held.append(sock)
        else:
            refused += 1
            sock.close()
    if args.ready_file:
        open(args.ready_file, "w").close()
    time.sleep(args.seconds)
    closed = 0
    open_socks = set(held)
    deadline = time.monotonic() + 5  # a dropped socket reads as closed once the frames queued before are read
    while open_socks and time.monotonic() < deadline:
        readable, _, _ = select.select(list(open_socks), [], [], 0.5)
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                closed += 1
                open_socks.discard(sock)
    for sock in held:
        sock.close()
    print("upgraded=%d refused=%d closed_by_server=%d" % (upgraded, refused, closed), flush=True)


if __name__ == "__main__":
    main()
