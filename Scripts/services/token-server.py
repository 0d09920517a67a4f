#!/usr/bin/env python3
"""A small Docker registry token server for fnrt's tests (loopback only).

Implements the token endpoint of the distribution token auth spec: GET
/token?service=...&scope=repository:NAME:ACTIONS. Valid Basic credentials get
the actions they ask for; anonymous callers get pull only (the anonymous token
flow of public registries); wrong credentials get 401. Tokens are ES256 JWTs
signed with the key whose certificate the registry trusts (key id in libtrust
form). Signing uses the openssl command, so no Python package is needed.
"""
import argparse, base64, hashlib, json, subprocess, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id(public_der: bytes) -> str:
    digest = hashlib.sha256(public_der).digest()[:30]
    s = base64.b32encode(digest).decode().rstrip("=")
    return ":".join(s[i:i + 4] for i in range(0, len(s), 4))


def der_ecdsa_to_raw(der: bytes) -> bytes:
    # SEQUENCE { INTEGER r, INTEGER s } -> r || s, 32 bytes each.
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        v = der[i + 2:i + 2 + n].lstrip(b"\x00")
        out += v.rjust(32, b"\x00")
        i += 2 + n
    return out


class Signer:
    def __init__(self, key_path):
        self.key_path = key_path
        pub = subprocess.run(["openssl", "ec", "-in", key_path, "-pubout", "-outform", "DER"],
                             check=True, capture_output=True).stdout
        self.kid = libtrust_key_id(pub)

    def token(self, issuer, service, subject, access):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "kid": self.kid}
        claims = {"iss": issuer, "sub": subject, "aud": service, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": str(uuid.uuid4()), "access": access}
        signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
        der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key_path], input=signing_input,
                             check=True, capture_output=True).stdout
        return signing_input.decode() + "." + b64url(der_ecdsa_to_raw(der))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--issuer", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--htpasswd-user", required=True)
    p.add_argument("--htpasswd-secret", required=True)
    args = p.parse_args()
    signer = Signer(args.key)
    expected = "Basic " + base64.b64encode(f"{args.htpasswd_user}:{args.htpasswd_secret}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlparse(self.path)
            if url.path != "/token":
                return self.reply(404, {"error": "not found"})
            query = parse_qs(url.query)
            auth = self.headers.get("Authorization")
            if auth is not None and auth != expected:
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "wrong user name or password"}]})
            access = []
            for scope in query.get("scope", []):
                parts = scope.split(":")
                if len(parts) < 3:
                    continue
                kind, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1].split(",")
                granted = actions if auth else [a for a in actions if a == "pull"]
                access.append({"type": kind, "name": name, "actions": granted})
            token = signer.token(args.issuer, query.get("service", [args.service])[0],
                                 args.htpasswd_user if auth else "", access)
            self.reply(200, {"token": token, "access_token": token, "expires_in": 300})

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *a):
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
