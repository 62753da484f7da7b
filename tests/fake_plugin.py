"""A test exec-credential plugin with every behaviour a real one can show.

    python fake_plugin.py [--mode MODE] [--ttl SECONDS] [--sleep SECONDS] [--log FILE]

Modes: ``token`` (default), ``noexpiry``, ``cert``, ``garbage``, ``empty``, ``wrongkind``,
``wrongversion``, ``expired``, ``fail`` (stderr message, exit 3), ``prompt`` (asks for a code
on stderr, reads stdin; answers a token only for code 123456), ``login`` (fails like an expired
SSO session), ``validfail`` (prints a valid credential, then exits 1, like a wrapper whose
cleanup step failed), ``rejectedfirst`` (the first run logged in ``--log`` gets a token the
test API server rejects, later runs good ones). Each run appends ``<pid> <unix time> <mode>``
to ``--log``; tokens are signed with ``KUBEWARM_TEST_TOKEN_SECRET`` so the test API server
accepts them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from api_server import mint_test_token

PEM = "-----BEGIN {0}-----\nMIIBkubewarmtest\n-----END {0}-----\n"


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="token")
    parser.add_argument("--ttl", type=float, default=900)
    parser.add_argument("--sleep", type=float, default=0)
    parser.add_argument("--log")
    parser.add_argument("--control", help="JSON file overriding mode/sleep, read at each run")
    args = parser.parse_args()
    child_pid = ""
    if args.control and os.path.exists(args.control):
        with open(args.control, encoding="utf-8") as fh:
            control = json.load(fh)
        args.mode = control.get("mode", args.mode)
        args.sleep = control.get("sleep", args.sleep)
        if control.get("child"):  # like aws-vault running aws: a grandchild of the shim
            import subprocess

            child_pid = str(subprocess.Popen(["sleep", str(control["child"])]).pid)
    if args.log:
        with open(args.log, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {time.time():.3f} {args.mode} {child_pid}\n")
    if args.sleep:
        time.sleep(args.sleep)
    info = json.loads(os.environ.get("KUBERNETES_EXEC_INFO") or "{}")
    api_version = info.get("apiVersion", "client.authentication.k8s.io/v1beta1")
    now = time.time()
    expiry = int(now + args.ttl)
    secret = os.environ.get("KUBEWARM_TEST_TOKEN_SECRET", "no-secret")
    if args.mode == "rejectedfirst" and args.log:
        with open(args.log, encoding="utf-8") as fh:
            if len(fh.read().splitlines()) == 1:  # this run is the first one logged
                secret = "not-" + secret
    token = mint_test_token(secret, expiry, uuid.uuid4().hex[:12])
    status: dict = {"token": token, "expirationTimestamp": _stamp(expiry)}
    mode = args.mode
    if mode == "fail":
        sys.stderr.write("fake-plugin: AccessDenied: not authorized to get a token\n")
        return 3
    if mode == "login":
        sys.stderr.write("Error loading SSO Token: Token has expired and refresh failed\n")
        return 255
    if mode == "garbage":
        sys.stdout.write("<html>502 Bad Gateway</html>\n")
        return 0
    if mode == "empty":
        return 0
    if mode == "prompt":
        sys.stderr.write("MFA code: ")
        sys.stderr.flush()
        if sys.stdin.readline().strip() != "123456":
            sys.stderr.write("fake-plugin: wrong MFA code\n")
            return 4
    if mode == "noexpiry":
        status = {"token": mint_test_token(secret, int(now + 86400), uuid.uuid4().hex[:12])}
    if mode == "cert":
        status = {
            "clientCertificateData": PEM.format("CERTIFICATE"),
            "clientKeyData": PEM.format("PRIVATE KEY"),
            "expirationTimestamp": _stamp(expiry),
        }
    if mode == "expired":
        status["expirationTimestamp"] = _stamp(now - 60)
    doc = {"kind": "ExecCredential", "apiVersion": api_version, "spec": {}, "status": status}
    if mode == "wrongkind":
        doc["kind"] = "Secret"
    if mode == "wrongversion":
        doc["apiVersion"] = "client.authentication.k8s.io/v1alpha1"
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    if mode == "validfail":
        sys.stdout.flush()
        sys.stderr.write("fake-plugin: could not write the token cache\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
