#!/usr/bin/env python3
"""A minimal websocket client for the tests: connects to URL with a subprotocol and prints each text message it
receives on one line, until --count messages, one holding --until, or --seconds pass; says on stderr when the server
closed the connection. Standard library only."""
import argparse
import base64
import os
import socket
import struct
import sys
import time
import urllib.parse


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--protocol", default="")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--until", help="stop after a message holding this text")
    args = p.parse_args()
    url = urllib.parse.urlparse(args.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=args.seconds)
    key = base64.b64encode(os.urandom(16)).decode()
    request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % (url.path or "/", url.hostname, url.port, key))
    if args.protocol:
        request += "Sec-WebSocket-Protocol: %s\r\n" % args.protocol
    sock.sendall((request + "\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            sys.exit("ws-client: no upgrade: the server closed the connection")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        sys.exit("ws-client: no upgrade: " + head.decode(errors="replace").splitlines()[0])
    deadline = time.time() + args.seconds
    received = 0
    while received < args.count and time.time() < deadline:
        sock.settimeout(max(0.1, deadline - time.time()))
        try:
            b1, b2 = read_exact(sock, 2)
        except socket.timeout:
            break
        except EOFError:
            print("ws-client: the server closed the connection", file=sys.stderr, flush=True)
            break
        length = b2 & 0x7F
        if length == 126:
            length = struct.unpack(">H", read_exact(sock, 2))[0]
        elif length == 127:
            length = struct.unpack(">Q", read_exact(sock, 8))[0]
        payload = read_exact(sock, length)
        if b1 & 0x0F == 0x1:
            text = payload.decode()
            print(text, flush=True)
            received += 1
            if args.until and args.until in text:
                break
        elif b1 & 0x0F == 0x8:
            print("ws-client: the server sent a close frame", file=sys.stderr, flush=True)
            break
    sock.close()


if __name__ == "__main__":
    main()
