"""Issue 12 item 5: a wrapped user whose plugin is missing still shows the kubeconfig's
``installHint`` through the real kubectl; ``inject`` warns about it, ``status`` flags it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests import kubeconfig_helpers
from tests.fixtures_core import EXEC_API, fake_plugin_argv, kubectl_path, run_kubectl
from tests.kubeconfig_helpers import run_cli

kw_data = kubeconfig_helpers.kw_data  # fixture: kw_env plus a private data dir

pytestmark = pytest.mark.real

PLUGIN = "kubewarm-test-absent-plugin"
HINT = "kubewarm-test-absent-plugin is required.\nInstall it with: apt install absent-plugin"


def _config(path: Path, server) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server.url,
                      "certificate-authority-data": server.ca_data_b64}}],
        "users": [
            {"name": "oidc", "user": {"exec": {
                "apiVersion": EXEC_API, "command": PLUGIN, "args": ["get-token"],
                "installHint": HINT, "interactiveMode": "Never",
            }}},
            {"name": "other", "user": {"exec": {
                "apiVersion": EXEC_API, "command": PLUGIN, "args": ["other"],
                "installHint": "not this one", "interactiveMode": "Never",
            }}},
        ],
        "contexts": [{"name": "oidc", "context": {"cluster": "c", "user": "oidc"}},
                     {"name": "other", "context": {"cluster": "c", "user": "other"}}],
        "current-context": "oidc",
    }  # fmt: skip
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_kubectl_shows_the_install_hint_of_a_wrapped_user(api_server, kw_data, tmp_path):
    config = _config(tmp_path / "config", api_server)
    original = config.read_bytes()
    kubectl = kubectl_path("1.33")
    before = run_kubectl(kubectl, config, env=kw_data)
    assert before.returncode != 0 and HINT in before.stderr, "what kubectl says unwrapped"

    injected = run_cli("inject", "--kubeconfig", str(config), env=kw_data)
    assert injected.returncode == 0, injected.stderr
    assert "wrapped 2 users" in injected.stdout
    warnings = [line for line in injected.stderr.splitlines() if "is not on PATH" in line]
    assert len(warnings) == 2 and all(f"plugin {PLUGIN!r}" in w for w in warnings), injected.stderr
    assert "user 'oidc'" in warnings[0] and "apt install absent-plugin" in warnings[0]

    # kubectl --kubeconfig FILE: the shim finds the file on kubectl's command line
    after = run_kubectl(kubectl, config, env=kw_data)
    assert after.returncode != 0
    assert f"kubewarm: cannot run plugin '{PLUGIN}'" in after.stderr
    assert "client-go credential plugin that is not installed" in after.stderr
    assert HINT in after.stderr and "not this one" not in after.stderr, after.stderr

    # $KUBECONFIG, no flag; and the other user's own hint
    env = {**kw_data, "KUBECONFIG": str(config)}
    argv = [str(kubectl), "--context", "other", "get", "--raw", "/version"]
    other = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert other.returncode != 0 and "not this one" in other.stderr and HINT not in other.stderr

    status = run_cli("status", "--kubeconfig", str(config), env=kw_data)
    assert status.returncode == 0, status.stderr  # wrapped: a missing plugin is flagged only
    row = next(line for line in status.stdout.splitlines() if " oidc " in line)
    assert f"{PLUGIN} (missing)" in row
    assert f"user 'oidc' ({config} line 9): plugin {PLUGIN!r} is not installed" in status.stdout
    assert "  Install it with: apt install absent-plugin" in status.stdout

    restored = run_cli("restore", "--kubeconfig", str(config), env=kw_data)
    assert restored.returncode == 0 and config.read_bytes() == original


def test_a_plugin_on_path_draws_no_warning(kw_data, tmp_path):
    plugin = fake_plugin_argv()
    config = tmp_path / "config"
    config.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "users": [{"name": "u", "user": {"exec": {
            "apiVersion": EXEC_API, "command": plugin[0], "args": plugin[1:],
            "installHint": HINT}}}],
        "contexts": [{"name": "u", "context": {"cluster": "c", "user": "u"}}],
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
    }))  # fmt: skip
    injected = run_cli("inject", "--kubeconfig", str(config), env=kw_data)
    assert injected.returncode == 0 and "not on PATH" not in injected.stderr, injected.stderr
    status = run_cli("status", "--kubeconfig", str(config), env=kw_data)
    assert "(missing)" not in status.stdout and "not installed" not in status.stdout
