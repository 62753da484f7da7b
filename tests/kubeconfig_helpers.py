"""Helpers for the kubeconfig tests: the corpus, kubectl-written kubeconfigs, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures_core import BIN, EXEC_API, kubectl_path

CORPUS = Path(__file__).resolve().parent / "kubeconfigs"
SHIM = "/opt/kubewarm/bin/kubewarm-exec"


def corpus_files() -> list[Path]:
    """Every hand-written kubeconfig in tests/kubeconfigs (multi/ included)."""
    return sorted(p for p in CORPUS.rglob("*.yaml"))


def read_exact(path: Path) -> str:
    """A file's text with its line endings untouched."""
    return path.read_bytes().decode("utf-8")


def kubectl() -> Path:
    """A versioned kubectl: gcloud's dispatcher runs the current context's plugin even for
    ``kubectl config`` commands, which these tests do not want."""
    return kubectl_path("1.33")


def kubectl_config(path: Path, *args: str) -> None:
    """``kubectl --kubeconfig PATH config ARGS...`` (the real one), checked."""
    result = subprocess.run(
        [str(kubectl()), "--kubeconfig", str(path), "config", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def kubectl_view(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(kubectl()), "--kubeconfig", str(path), "config", "view", "--raw", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def kubectl_generated(directory: Path) -> dict[str, Path]:
    """Kubeconfigs written by the real ``kubectl config set-cluster / set-credentials
    --exec-command ... / set-context`` in the shapes users get from it."""
    directory.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}

    path = made.setdefault("exec-args-env", directory / "exec-args-env")
    kubectl_config(path, "set-cluster", "c", "--server=https://127.0.0.1:6443")
    kubectl_config(
        path,
        "set-credentials",
        "eks",
        "--exec-command=aws",
        f"--exec-api-version={EXEC_API}",
        "--exec-arg=--region",
        "--exec-arg=us-east-1",
        "--exec-arg=eks",
        "--exec-arg=get-token",
        "--exec-arg=--cluster-name",
        "--exec-arg=prod",
        "--exec-env=AWS_PROFILE=prod",
    )
    kubectl_config(path, "set-context", "eks", "--cluster=c", "--user=eks")
    kubectl_config(path, "use-context", "eks")

    path = made.setdefault("exec-bare", directory / "exec-bare")
    kubectl_config(path, "set-cluster", "c", "--server=https://127.0.0.1:6443")
    kubectl_config(
        path,
        "set-credentials",
        "gke",
        "--exec-command=gke-gcloud-auth-plugin",
        "--exec-api-version=client.authentication.k8s.io/v1",
        "--exec-provide-cluster-info=true",
        "--exec-interactive-mode=Never",
    )
    kubectl_config(path, "set-context", "gke", "--cluster=c", "--user=gke")

    path = made.setdefault("mixed-users", directory / "mixed-users")
    kubectl_config(path, "set-cluster", "c", "--server=https://127.0.0.1:6443")
    kubectl_config(path, "set-credentials", "tok", "--token=not-a-real-token")
    kubectl_config(
        path,
        "set-credentials",
        "oidc",
        "--exec-command=kubectl",
        f"--exec-api-version={EXEC_API}",
        "--exec-arg=oidc-login",
        "--exec-arg=get-token",
        "--exec-arg=--oidc-issuer-url=https://issuer.example.com",
    )
    kubectl_config(
        path, "set-credentials", "basic", "--username=admin", "--password=not-a-real-password"
    )
    for user in ("tok", "oidc", "basic"):
        kubectl_config(path, "set-context", user, "--cluster=c", f"--user={user}")
    kubectl_config(path, "use-context", "oidc")

    # a plugin inside the kubeconfig's directory: kubectl writes its path relative to it
    path = made.setdefault("relative-command", directory / "relative" / "config")
    path.parent.mkdir(exist_ok=True)
    plugin = path.parent / "bin" / "my-plugin"
    kubectl_config(path, "set-cluster", "c", "--server=https://127.0.0.1:6443")
    kubectl_config(
        path,
        "set-credentials",
        "rel",
        f"--exec-command={plugin}",
        f"--exec-api-version={EXEC_API}",
        "--exec-arg=token",
    )
    kubectl_config(path, "set-context", "rel", "--cluster=c", "--user=rel")
    return made


@pytest.fixture
def kw_data(kw_env, tmp_path, monkeypatch) -> dict:
    """``kw_env`` plus a private data dir (where the launcher and backups go)."""
    data = tmp_path / "data"
    monkeypatch.setenv("KUBEWARM_DATA_DIR", str(data))
    return {**kw_env, "KUBEWARM_DATA_DIR": str(data)}


def run_cli(*args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    """The installed ``kubewarm`` command line, captured."""
    command = BIN / "kubewarm"
    argv = [str(command)] if command.exists() else [sys.executable, "-m", "kubewarm.tray.cli"]
    return subprocess.run(
        [*argv, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def as_other_user(argv: list[str]) -> list[str]:
    """``argv`` run as an unprivileged user (root ignores file modes), or unchanged."""
    if sys.platform == "win32" or os.getuid() != 0:
        return argv
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
