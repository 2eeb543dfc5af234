#!/usr/bin/env python3
"""Drives a headless Chromium over the DevTools protocol for the status page test: opens URL once, then prints the
text of the element --element every time it changes (no reload), until it holds --until or --seconds pass, and
saves a screenshot. Standard library only; the websocket framing is the minimum the protocol needs."""
import argparse
import base64
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request


class Socket:
    def __init__(self, url):
        rest = url.split("://", 1)[1]
        hostport, path = rest.split("/", 1)
        host, port = hostport.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        self.next_id = 0

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536
                                  else bytes([0x80 | 127]) + struct.pack(">Q", n))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def recv(self):
        b1, b2 = self.recv_exact(2)
        n = b2 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self.recv_exact(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self.recv_exact(8))[0]
        return self.recv_exact(n).decode(errors="replace")

    def call(self, method, **params):
        self.next_id += 1
        self.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.recv())
            if msg.get("id") == self.next_id:
                return msg.get("result", {})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--element", default="builds")
    p.add_argument("--until", required=True)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--screenshot", required=True)
    args = p.parse_args()
    profile = tempfile.mkdtemp(prefix="cdp-")
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    browser = subprocess.Popen(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-gpu-sandbox", "--in-process-gpu", "--remote-debugging-address=127.0.0.1",
                                "--remote-debugging-port=%d" % port, "--user-data-dir=" + profile, "--window-size=1100,500", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        targets = None
        while time.time() < deadline and not targets:
            try:
                targets = [t for t in json.load(urllib.request.urlopen("http://127.0.0.1:%d/json" % port)) if t["type"] == "page"]
            except OSError:
                time.sleep(0.3)
        if not targets:
            sys.exit("cdp-watch: chromium did not start")
        ws = Socket(targets[0]["webSocketDebuggerUrl"])
        ws.call("Page.enable")
        ws.call("Page.navigate", url=args.url)
        last, deadline = None, time.time() + args.seconds
        while time.time() < deadline:
            r = ws.call("Runtime.evaluate", expression="(document.getElementById(%s)||{}).innerText||''" % json.dumps(args.element),
                        returnByValue=True)
            text = r.get("result", {}).get("value", "")
            if text != last:
                print(json.dumps(text), flush=True)
                last = text
            if args.until in text:
                break
            time.sleep(0.3)
        shot = ws.call("Page.captureScreenshot", format="png")
        with open(args.screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
        subprocess.run(["rm", "-rf", profile])


if __name__ == "__main__":
    main()
