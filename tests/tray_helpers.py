"""Helpers for the tray and warmer tests: kubeconfigs, the ``kubewarm`` CLI, the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.fixtures_core import EXEC_API, require

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
