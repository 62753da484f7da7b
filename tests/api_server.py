"""A small HTTPS Kubernetes API stand-in that accepts only tokens it can verify.

Accepted bearer tokens:
- ``kwtest.<expiry>.<nonce>.<hmac>`` minted by ``tests/fake_plugin.py`` with the shared secret
  in ``KUBEWARM_TEST_TOKEN_SECRET``, until ``expiry``;
- ``k8s-aws-v1.<base64url presigned STS URL>`` from the real ``aws eks get-token``: the SigV4
  signature is verified with the static test key pair, the date must be within 15 minutes
  and ``x-k8s-aws-id`` must be signed.
Anything else, an expired token, or a token revoked through ``POST /_test/revoke`` gets 401.
Every request is appended to a JSON-lines log (path, status, token fingerprint: never the token).

Run: ``python tests/api_server.py --cert C --key K --log L --port-file P``, or ``launch()``
(a self-signed certificate made with openssl, then this server in a child process).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

AWS_TEST_KEY_ID = "AKIAKUBEWARMTEST0001"
AWS_TEST_SECRET = "kubewarm/test/secret/key/not/a/real/one/0000"
# What a real `aws eks get-token` needs to run offline and mint tokens this server accepts.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": AWS_TEST_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": AWS_TEST_SECRET,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent/kubewarm-test/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/kubewarm-test/credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}
AWS_GET_TOKEN_ARGS = ("--region", "us-east-1", "eks", "get-token", "--cluster-name",
                      "kubewarm-test", "--output", "json")  # fmt: skip
VERSION = {
    "major": "1",
    "minor": "30",
    "gitVersion": "v1.30.0-kubewarm-test",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.22.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def mint_test_token(secret: str, expiry: int, nonce: str) -> str:
    body = f"{expiry}.{nonce}"
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return f"kwtest.{body}.{mac}"


def check_test_token(token: str, secret: str, now: float) -> str:
    """'' when valid, else why not."""
    parts = token.split(".")
    if len(parts) != 4:
        return "malformed kwtest token"
    expiry, nonce, mac = parts[1], parts[2], parts[3]
    want = hmac.new(secret.encode(), f"{expiry}.{nonce}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, mac):
        return "bad signature"
    if int(expiry) <= now:
        return "expired"
    return ""


def _sign(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def check_aws_token(token: str, now: float) -> str:
    """Verify an ``aws eks get-token`` token's presigned GetCallerIdentity URL (SigV4)."""
    raw = token[len("k8s-aws-v1.") :]
    try:
        url = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except ValueError:
        return "undecodable aws token"
    parsed = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
    single = {k: v[0] for k, v in query.items()}
    if single.get("Action") != "GetCallerIdentity":
        return "not GetCallerIdentity"
    credential = single.get("X-Amz-Credential", "")
    key_id, _, scope = credential.partition("/")
    if key_id != AWS_TEST_KEY_ID:
        return "unknown access key"
    signed_headers = single.get("X-Amz-SignedHeaders", "")
    if "x-k8s-aws-id" not in signed_headers.split(";"):
        return "cluster id not signed"
    amz_date = single.get("X-Amz-Date", "")
    try:
        when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return "bad X-Amz-Date"
    if now - when.timestamp() > 15 * 60 or when.timestamp() - now > 300:
        return "expired"
    # Canonical request of a presigned GET signing host and x-k8s-aws-id; the cluster name is
    # not in the URL, so each test cluster name is tried.
    canonical_query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted((k, v) for k, vs in query.items() for v in vs)
        if k != "X-Amz-Signature"
    )
    date, region, service, _ = scope.split("/", 3)
    k_date = _sign(("AWS4" + AWS_TEST_SECRET).encode(), date)
    k_signing = _sign(_sign(_sign(k_date, region), service), "aws4_request")
    for cluster_name in SIGNED_CLUSTERS:
        headers = f"host:{parsed.netloc}\nx-k8s-aws-id:{cluster_name}\n"
        for payload in ("UNSIGNED-PAYLOAD", hashlib.sha256(b"").hexdigest()):
            canonical = "\n".join(
                ["GET", parsed.path or "/", canonical_query, headers, signed_headers, payload]
            )
            digest = hashlib.sha256(canonical.encode()).hexdigest()
            to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, digest])
            signature = hmac.new(k_signing, to_sign.encode(), hashlib.sha256).hexdigest()
            if hmac.compare_digest(signature, single.get("X-Amz-Signature", "")):
                return ""
    return "bad signature"


SIGNED_CLUSTERS = ("kubewarm-test", "kubewarm-test-2")


class State:
    def __init__(self, secret: str, log_path: str) -> None:
        self.secret = secret
        self.log_path = log_path
        self.revoked: set[str] = set()
        self.lock = threading.Lock()

    def log(self, record: dict) -> None:
        with self.lock, open(self.log_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


class Handler(BaseHTTPRequestHandler):
    state: State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # quiet
        return

    def _send(self, status: int, doc: dict) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authenticate(self) -> tuple[str, str]:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return "", "no bearer token"
        token = header[len("Bearer ") :].strip()
        now = time.time()
        if fingerprint(token) in self.state.revoked:
            return token, "revoked"
        if token.startswith("kwtest."):
            return token, check_test_token(token, self.state.secret, now)
        if token.startswith("k8s-aws-v1."):
            return token, check_aws_token(token, now)
        return token, "unknown token kind"

    def do_GET(self) -> None:
        token, problem = self._authenticate()
        path = urllib.parse.urlsplit(self.path).path
        status = 401 if problem else (200 if path == "/version" else 404)
        self.state.log(
            {
                "t": time.time(),
                "method": "GET",
                "path": self.path,
                "status": status,
                "token": fingerprint(token) if token else "",
                "why": problem,
            }
        )
        if problem:
            self._send(
                401,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "message": "Unauthorized",
                    "reason": "Unauthorized",
                    "code": 401,
                },
            )
        elif path == "/version":
            self._send(200, VERSION)
        else:
            self._send(
                404,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "reason": "NotFound",
                    "code": 404,
                },
            )

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        if self.path == "/_test/revoke":
            self.state.revoked.add(body.strip())
            self._send(200, {"revoked": body.strip()})
        else:
            self._send(404, {})


def launch(
    work: Path, env: dict | None = None, max_seconds: float = 3000
) -> tuple[subprocess.Popen, str, Path, Path]:
    """Start the server on 127.0.0.1 with a fresh self-signed certificate in ``work``.

    Returns (process, https URL, CA certificate file, request log); the caller ends the process.
    The token secret comes from ``KUBEWARM_TEST_TOKEN_SECRET`` in ``env`` (or ours).
    """
    cert, key = work / "cert.pem", work / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj",
         "/CN=kubewarm-test-apiserver", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    log, port_file = work / "requests.jsonl", work / "port"
    port_file.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, __file__, "--cert", str(cert), "--key", str(key), "--log", str(log),
         "--port-file", str(port_file), "--max-seconds", str(max_seconds)],
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("test API server did not start")
        time.sleep(0.05)
    return proc, f"https://127.0.0.1:{port_file.read_text().strip()}", cert, log


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    args = parser.parse_args()
    secret = os.environ["KUBEWARM_TEST_TOKEN_SECRET"]
    Handler.state = State(secret, args.log)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    # Bounded life: the server stops by itself even if a test run is killed.
    threading.Timer(args.max_seconds, server.shutdown).start()
    server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
