"""Core fixtures: isolated kubewarm dirs, the TLS test API server, the test plugin, kubectl.

Real components only: the versioned kubectl binaries beside the ``kubectl`` on PATH (gcloud's
dispatcher), the real ``aws eks get-token`` from awscli, our own HTTPS API server.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.api_server import launch

TESTS = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
FAKE_PLUGIN = TESTS / "fake_plugin.py"
KUBECTL_VERSIONS = ("1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33")
EXEC_API = "client.authentication.k8s.io/v1beta1"

# Shared by the test plugin (which signs tokens) and the API server (which checks them).
os.environ.setdefault("KUBEWARM_TEST_TOKEN_SECRET", secrets.token_hex(16))


def require(condition: bool, what: str) -> None:
    """Skip when a real component is missing: an error under CI (see conftest), except on
    macOS and Windows runners, where the Linux-only components (gcloud's versioned kubectl
    binaries, /bin/sh shims, gnome-keyring) belong to the Linux job."""
    if not condition:
        if not sys.platform.startswith("linux"):
            pytest.skip(f"other platform: needs {what}, which the Linux test machine provides")
        pytest.skip(f"needs {what}")


def kill_pid(pid: int, timeout: float = 5.0) -> None:
    """Terminate a process we started (TERM, then KILL after ``timeout``)."""
    if sys.platform == "win32":  # TerminateProcess: no SIGKILL, no waitpid(WNOHANG) there
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                finished, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                finished = pid if not _alive(pid) else 0
            if finished:
                return
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def kw_env(tmp_path, monkeypatch):
    """A private HOME, cache and config dir for kubewarm; returns the environment to pass on."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KUBEWARM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KUBEWARM_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("KUBEWARM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KUBEWARM_STORE", "file")
    for name in ("KUBEWARM_DEBUG", "KUBERNETES_EXEC_INFO", "KUBEWARM_USER", "KUBECONFIG"):
        monkeypatch.delenv(name, raising=False)
    # Housekeeping "just ran": a shim miss must not start it behind a test's back (the tests
    # of housekeeping itself remove this stamp).
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "housekeeping").touch()
    return dict(os.environ)


class ApiServer:
    """Handle on the running test API server."""

    def __init__(self, url: str, ca_file: Path, log: Path, pid: int) -> None:
        self.url = url
        self.ca_file = ca_file
        self.ca_data_b64 = base64.b64encode(ca_file.read_bytes()).decode()
        self.log = log
        self.pid = pid

    def request_log(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def revoke(self, token_fingerprint: str) -> None:
        """Make the server answer 401 for a token (by its 16-hex fingerprint)."""
        import ssl
        import urllib.request

        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        req = urllib.request.Request(
            self.url + "/_test/revoke", data=token_fingerprint.encode(), method="POST"
        )
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            resp.read()


@pytest.fixture(scope="session")
def api_server(tmp_path_factory):
    """The HTTPS test API server on 127.0.0.1 (self-signed CA, session-wide)."""
    require(shutil.which("openssl") is not None, "openssl")
    proc, url, cert, log = launch(tmp_path_factory.mktemp("apiserver"))
    try:
        yield ApiServer(url, cert, log, proc.pid)
    finally:
        kill_pid(proc.pid)


@pytest.fixture
def plugin_log(tmp_path) -> Path:
    """A file the test plugin appends one line to per run."""
    return tmp_path / "plugin-runs.log"


def plugin_runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def fake_plugin_argv(
    mode: str = "token",
    ttl: float = 900,
    sleep: float = 0,
    log: Path | None = None,
    control: Path | None = None,
) -> list[str]:
    """argv of the test plugin (run by this venv's python)."""
    argv = [sys.executable, str(FAKE_PLUGIN), "--mode", mode, "--ttl", str(ttl)]
    if sleep:
        argv += ["--sleep", str(sleep)]
    if log is not None:
        argv += ["--log", str(log)]
    if control is not None:
        argv += ["--control", str(control)]
    return argv


@pytest.fixture(name="fake_plugin_argv")
def _fake_plugin_argv_fixture():
    return fake_plugin_argv


def kubectl_dir() -> Path | None:
    found = shutil.which("kubectl")
    return Path(os.path.realpath(found)).parent if found else None


def kubectl_path(version: str | None = None) -> Path:
    """A versioned kubectl (``1.27`` … ``1.33``), or gcloud's dispatcher with None."""
    directory = kubectl_dir()
    require(directory is not None, "kubectl on PATH")
    assert directory is not None  # require() skipped or failed otherwise; tells pyright
    exe = ".exe" if os.name == "nt" else ""
    path = directory / (f"kubectl.{version}{exe}" if version else f"kubectl{exe}")
    require(path.exists(), f"{path.name} beside the kubectl on PATH")
    return path


def shim_command() -> str:
    """``kubewarm-exec`` exactly as pip put it on this venv's PATH."""
    path = BIN / ("kubewarm-exec.exe" if os.name == "nt" else "kubewarm-exec")
    require(path.exists(), "kubewarm-exec installed in the test venv (pip install .)")
    return str(path)


def aws_command() -> str:
    path = BIN / ("aws.cmd" if os.name == "nt" else "aws")
    require(path.exists(), "awscli installed in the test venv")
    return str(path)


def write_kubeconfig(
    path: Path, server: ApiServer, users: dict[str, dict], provide_cluster_info: bool = False
) -> Path:
    """A kubeconfig with one cluster, and one context per user (named like the user).

    ``users`` maps a user name to its exec block (command, args, env ...).
    """
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "test",
                "cluster": {"server": server.url, "certificate-authority-data": server.ca_data_b64},
            }
        ],
        "users": [],
        "contexts": [],
        "current-context": next(iter(users)),
    }
    for name, exec_block in users.items():
        block = {
            "apiVersion": EXEC_API,
            "interactiveMode": "IfAvailable",
            "provideClusterInfo": provide_cluster_info,
            **exec_block,
        }
        doc["users"].append({"name": name, "user": {"exec": block}})
        doc["contexts"].append({"name": name, "context": {"cluster": "test", "user": name}})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_kubectl(
    kubectl: Path, kubeconfig: Path, *args: str, env: dict | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    """``kubectl --kubeconfig K get --raw /version`` (or ``args``), captured."""
    argv = [str(kubectl), "--kubeconfig", str(kubeconfig), *(args or ("get", "--raw", "/version"))]
    return subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
