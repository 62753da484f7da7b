"""A user's own ``exec.env`` is part of its identity: two kubeconfig files, each with a user
``admin`` running the same plugin with the same args, ``ACCOUNT=a`` in one and ``ACCOUNT=b`` in
the other. After ``kubewarm inject``, cluster b must never be sent account a's token (it was:
kubectl sets exec.env in the plugin's environment, where the shim took it for the shell's).
Real kubectl against the TLS test API server; changing the value never serves the old token."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from tests.fixtures_core import EXEC_API, TESTS, kubectl_path, run_kubectl
from tests.tray_helpers import kubewarm, posix_only

pytestmark = posix_only
ENV_PLUGIN = TESTS / "env_plugin.py"


def _config(path: Path, server, log: Path, account: str) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "c",
                "cluster": {"server": server.url, "certificate-authority-data": server.ca_data_b64},
            }
        ],
        "users": [
            {
                "name": "admin",
                "user": {
                    "exec": {
                        "apiVersion": EXEC_API,
                        "command": sys.executable,
                        "args": ["-I", str(ENV_PLUGIN), str(log), "ACCOUNT", "900"],
                        "env": [{"name": "ACCOUNT", "value": account}],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": "admin", "context": {"cluster": "c", "user": "admin"}}],
        "current-context": "admin",
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _runs(log: Path) -> list[list[str]]:
    return [line.split(" ", 1) for line in log.read_text().splitlines()] if log.exists() else []


def test_exec_env_values_select_different_credentials(kw_env, api_server, tmp_path):
    log = tmp_path / "accounts.log"
    config_a = _config(tmp_path / "a.yaml", api_server, log, "a")
    config_b = _config(tmp_path / "b.yaml", api_server, log, "b")
    kubewarm("inject", "--kubeconfig", str(config_a), env=kw_env)
    kubewarm("inject", "--kubeconfig", str(config_b), env=kw_env)
    assert "--exec-env=ACCOUNT" in config_a.read_text()
    kubectl = kubectl_path("1.33")
    for config in (config_a, config_b, config_a, config_b):
        result = run_kubectl(kubectl, config, env=kw_env)
        assert result.returncode == 0, result.stderr
    runs = _runs(log)
    assert [account for account, _ in runs] == ["a", "b"]  # one run each, then hits
    tokens = {account: token for account, token in runs}
    assert tokens["a"] != tokens["b"]
    # a changed value is another identity: the plugin runs again
    config_b.write_text(config_b.read_text().replace("value: b", "value: c"))
    assert run_kubectl(kubectl, config_b, env=kw_env).returncode == 0
    assert [account for account, _ in _runs(log)] == ["a", "b", "c"]
    kubewarm("restore", "--kubeconfig", str(config_a), env=kw_env)
    assert "--exec-env" not in config_a.read_text()


def test_status_flags_a_wrapped_user_whose_exec_env_names_are_not_declared(
    kw_env, api_server, tmp_path
):
    log = tmp_path / "accounts.log"
    config = _config(tmp_path / "a.yaml", api_server, log, "a")
    kubewarm("inject", "--kubeconfig", str(config), env=kw_env)
    text = config.read_text()
    older = "".join(line for line in text.splitlines(True) if "--exec-env=" not in line)
    assert older != text
    config.write_text(older)  # as an older kubewarm wrapped it
    status = kubewarm("status", "--kubeconfig", str(config), env=kw_env, check=False)
    assert "exec.env names (ACCOUNT)" in status.stdout + status.stderr
    kubewarm("inject", "--kubeconfig", str(config), env=kw_env)
    assert config.read_text() == text  # repaired to exactly what inject writes
