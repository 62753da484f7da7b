"""Helpers for the tray and warmer tests: kubeconfigs, the ``kubewarm`` CLI, the store."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from tests.fixtures_core import EXEC_API, fake_plugin_argv, require

KUBEWARM = Path(sys.executable).parent / ("kubewarm.exe" if os.name == "nt" else "kubewarm")

# Tests that run the kubewarm-exec script (or sh, or POSIX signals) directly.
posix_only = pytest.mark.skipif(
    os.name != "posix",
    reason="other platform: drives the kubewarm-exec script directly (POSIX); Windows runs the"
    " shim as kubewarm.exe exec",
)
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="other platform: needs Linux (XDG autostart, X11 display, xdg-open)",
)


def write_config(
    path: Path,
    users: dict[str, list[str] | None],
    server: str = "https://127.0.0.1:9",
    ca_data: str = "",
    provide_cluster_info: bool = False,
) -> Path:
    """A kubeconfig with one cluster and one context per user (named like it). A user maps to
    its exec plugin argv, or None for a plain token user."""
    cluster: dict = {"server": server}
    if ca_data:
        cluster["certificate-authority-data"] = ca_data
    doc: dict = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": cluster}],
        "users": [],
        "contexts": [],
        "current-context": next(iter(users)),
    }
    for name, argv in users.items():
        if argv is None:
            body: dict = {"token": "static-test-token"}
        else:
            body = {
                "exec": {
                    "apiVersion": EXEC_API,
                    "command": argv[0],
                    "args": list(argv[1:]),
                    "interactiveMode": "IfAvailable",
                    "provideClusterInfo": provide_cluster_info,
                }
            }
        doc["users"].append({"name": name, "user": body})
        doc["contexts"].append({"name": name, "context": {"cluster": "test", "user": name}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# test kubeconfig\n" + yaml.safe_dump(doc, sort_keys=False))
    return path


def kubewarm(*args: str, env: dict, timeout: float = 60, check: bool = True):
    """Run the installed ``kubewarm`` console script."""
    require(KUBEWARM.exists(), "the kubewarm console script in the test venv")
    result = subprocess.run(
        [str(KUBEWARM), *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(f"kubewarm {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return result


def cred_files(env: dict) -> list[Path]:
    """The file store's credential entries."""
    directory = Path(env["KUBEWARM_CACHE_DIR"]) / "credentials"
    return sorted(directory.glob("*.cred")) if directory.exists() else []


def plugin_runs(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def bench_home(work: Path, contexts: Sequence[str], pinned: Sequence[str], ttl: float) -> dict:
    """A private HOME for the tray benchmarks: ``contexts`` with the fake plugin (tokens of
    ``ttl`` seconds, runs logged to ``work/plugin-runs.log``), wrapped, ``pinned`` pinned, the
    file store; returns the environment to start kubewarm in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBEWARM_", "KUBECONFIG"))}
    home = work / "home"
    home.mkdir()
    env.update(
        HOME=str(home),
        KUBEWARM_CACHE_DIR=str(work / "cache"),
        KUBEWARM_CONFIG_DIR=str(work / "config"),
        KUBEWARM_DATA_DIR=str(work / "data"),
        KUBEWARM_STORE="file",
        XDG_CONFIG_HOME=str(home / ".config"),
    )
    argv = fake_plugin_argv(ttl=ttl, log=work / "plugin-runs.log")
    write_config(home / ".kube" / "config", dict.fromkeys(contexts, argv))
    for args in (["inject"], ["pin", *pinned]):
        subprocess.run([str(KUBEWARM), *args], env=env, check=True, capture_output=True)
    return env
