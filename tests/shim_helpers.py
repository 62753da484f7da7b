"""Helpers for running ``kubewarm-exec`` directly, as kubectl would."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.fixtures_core import EXEC_API, shim_command


def exec_info(
    server: str = "", ca: str = "", interactive: bool = False, api_version: str = EXEC_API
) -> str:
    """``KUBERNETES_EXEC_INFO`` as client-go writes it (compact JSON, spec.interactive last)."""
    spec = {}
    if server:
        spec["cluster"] = {"server": server, "certificate-authority-data": ca, "config": None}
    spec["interactive"] = interactive
    doc = {"kind": "ExecCredential", "apiVersion": api_version, "spec": spec}
    return json.dumps(doc, separators=(",", ":"))


def run_shim(
    argv: list[str],
    env: dict,
    *,
    stdin: str | None = None,
    timeout: float = 60,
    own_parent: bool = False,
    **extra_env: str,
) -> subprocess.CompletedProcess:
    """Run the installed shim with ``argv``; ``extra_env`` entries are added to ``env``.

    With ``own_parent`` the shim's parent is a fresh ``sh`` rather than this test process:
    like a new kubectl process, so that asking twice is not taken for a rejected token.
    """
    prefix = ["/bin/sh", "-c", '"$@"; exit $?', "sh"] if own_parent else []
    return subprocess.run(
        [*prefix, shim_command(), *argv],
        env={**env, **extra_env},
        input=(stdin or "").encode(),
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def token_of(stdout: bytes) -> str:
    status = json.loads(stdout)["status"]
    return status.get("token") or status.get("clientCertificateData", "")


def store_files(env: dict) -> list[Path]:
    directory = Path(env["KUBEWARM_CACHE_DIR"]) / "credentials"
    return sorted(directory.glob("*.cred")) if directory.exists() else []


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    """Poll ``predicate`` until it returns something truthy or ``timeout`` seconds pass;
    returns its last value (bounded in time)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def imports_of_a_hit(env: dict, argv: list[str]) -> set[str]:
    """Module names a warm hit imports, read from ``python -X importtime -I -S`` running the
    hit path the way the installed ``kubewarm-exec`` does (also from an editable checkout).
    Seeds the cache first, from a fresh parent process."""
    import sys

    from kubewarm.engine.cache.credentials import bootstrap_code

    assert run_shim(argv, env, own_parent=True).returncode == 0
    code = bootstrap_code("from kubewarm.engine.hotpath import main;main()")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-I", "-S", "-c", code, *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
