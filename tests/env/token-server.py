#!/usr/bin/python3
"""Test token server for a registry configured with token auth (the distribution token specification).

GET /token?service=S&scope=repository:NAME:ACTIONS... with HTTP Basic credentials, or POST /token with an
OAuth2 refresh_token grant, answers {"token", "access_token", "expires_in"}: an ES256 JWT whose header carries
the signing certificate (x5c) that the registry trusts through its rootcertbundle. Wrong credentials get 401.
Every request is logged as "METHOD SCOPES STATUS" to --log. Loopback only; stops after --lifetime seconds.
Signing uses the openssl command line, so nothing beyond Python's standard library is needed.
"""
import argparse
import base64
import http.server
import json
import subprocess
import threading
import time
import urllib.parse
import uuid


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der_to_raw(sig):
    """Turns an ECDSA DER signature (SEQUENCE of r, s) into the 64-byte r||s form JWS uses."""
    assert sig[0] == 0x30
    pos = 2 if sig[1] < 0x80 else 2 + (sig[1] & 0x7F)
    out = b""
    for _ in range(2):
        assert sig[pos] == 0x02
        n = sig[pos + 1]
        value = sig[pos + 2:pos + 2 + n].lstrip(b"\x00")
        out += value.rjust(32, b"\x00")
        pos += 2 + n
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--key", required=True, help="PEM EC P-256 private key")
    ap.add_argument("--cert", required=True, help="PEM certificate of that key (the registry's rootcertbundle)")
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--refresh-token", required=True)
    ap.add_argument("--log", default="/dev/null")
    ap.add_argument("--host", default="127.0.0.1", help="the address to listen on (the registry's own host)")
    ap.add_argument("--lifetime", type=float, default=900)
    args = ap.parse_args()

    der = subprocess.run(["openssl", "x509", "-in", args.cert, "-outform", "DER"], check=True, capture_output=True).stdout
    header = b64url(json.dumps({"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(der).decode()]}).encode())
    log = open(args.log, "a", buffering=1)
    lock = threading.Lock()

    def token_for(scopes, subject):
        now = int(time.time())
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) >= 3 and parts[0] == "repository":
                access.append({"type": "repository", "name": ":".join(parts[1:-1]), "actions": parts[-1].split(",")})
        claims = {"iss": args.issuer, "sub": subject, "aud": args.service, "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": str(uuid.uuid4()), "access": access}
        signing_input = header + "." + b64url(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", args.key], input=signing_input.encode(), check=True,
                             capture_output=True).stdout
        return signing_input + "." + b64url(der_to_raw(sig))

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def answer(self, status, body, scopes):
            with lock:
                log.write("%s %s %d\n" % (self.command, " ".join(scopes) or "-", status))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="token"')
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            q = urllib.parse.parse_qs(url.query)
            scopes = q.get("scope", [])
            auth = self.headers.get("Authorization", "")
            expected = "Basic " + base64.b64encode(("%s:%s" % (args.user, args.password)).encode()).decode()
            if url.path != "/token" or q.get("service", [""])[0] != args.service:
                return self.answer(400, {"error": "bad request"}, scopes)
            if auth != expected:
                return self.answer(401, {"error": "unauthorized"}, scopes)
            tok = token_for(scopes, args.user)
            self.answer(200, {"token": tok, "access_token": tok, "expires_in": 300}, scopes)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            scopes = form.get("scope", [])
            if form.get("grant_type", [""])[0] != "refresh_token" or form.get("refresh_token", [""])[0] != args.refresh_token:
                return self.answer(401, {"error": "invalid_grant"}, scopes)
            tok = token_for(scopes, args.user)
            self.answer(200, {"access_token": tok, "expires_in": 300, "refresh_token": args.refresh_token}, scopes)

    server = http.server.ThreadingHTTPServer((args.host, 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Timer(args.lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
