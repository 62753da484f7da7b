"""End to end with the real kubectl: a kubeconfig written by ``kubectl config``, wrapped by
``kubewarm inject``, used by kubectl against the TLS test API server, then restored."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests import kubeconfig_helpers
from tests.fixtures_core import (
    EXEC_API,
    fake_plugin_argv,
    kubectl_path,
    plugin_runs,
    run_kubectl,
)
from tests.kubeconfig_helpers import kubectl_config, kubectl_view, run_cli

kw_data = kubeconfig_helpers.kw_data  # fixture: kw_env plus a private data dir

pytestmark = pytest.mark.real


def _kubectl_written(path: Path, server, plugin: list[str], provide_cluster_info: bool) -> Path:
    kubectl_config(
        path,
        "set-cluster",
        "test",
        f"--server={server.url}",
        f"--certificate-authority={server.ca_file}",
        "--embed-certs=true",
    )
    kubectl_config(
        path,
        "set-credentials",
        "alice",
        f"--exec-command={plugin[0]}",
        f"--exec-api-version={EXEC_API}",
        *(f"--exec-arg={a}" for a in plugin[1:]),
        "--exec-env=AWS_PROFILE=alice-profile",
        f"--exec-provide-cluster-info={'true' if provide_cluster_info else 'false'}",
    )
    kubectl_config(path, "set-context", "alice", "--cluster=test", "--user=alice")
    kubectl_config(path, "use-context", "alice")
    return path


@pytest.mark.parametrize("provide_cluster_info", [False, True], ids=["plain", "cluster-info"])
@pytest.mark.parametrize("version", ["1.33", None], ids=["kubectl-1.33", "dispatcher"])
def test_inject_kubectl_through_shim_status_restore(
    api_server, kw_data, tmp_path, plugin_log, provide_cluster_info, version
):
    kubectl = kubectl_path(version)
    config = _kubectl_written(
        tmp_path / "config", api_server, fake_plugin_argv(log=plugin_log), provide_cluster_info
    )
    original = config.read_bytes()

    result = run_cli("inject", "--kubeconfig", str(config), env=kw_data)
    assert result.returncode == 0, result.stderr
    assert "wrapped 1 user in 1 file" in result.stdout
    launcher = str(Path(kw_data["KUBEWARM_DATA_DIR"]) / "bin" / "kubewarm-exec")
    view = kubectl_view(config)
    assert view.returncode == 0 and launcher in view.stdout

    requests_before = len(api_server.request_log())
    for _ in range(3):
        got = run_kubectl(kubectl, config, env=kw_data)
        assert got.returncode == 0, got.stderr
        assert "kubewarm-test" in got.stdout
    assert plugin_runs(plugin_log) == 1, "the shim answered every call after the first"
    assert len(list((Path(kw_data["KUBEWARM_CACHE_DIR"]) / "credentials").glob("*.cred"))) == 1
    assert len(api_server.request_log()) > requests_before

    # status computes the very key the shim used for kubectl (argv, env, KUBERNETES_EXEC_INFO)
    status = run_cli("status", "--kubeconfig", str(config), env=kw_data)
    assert status.returncode == 0, status.stderr
    row = next(line for line in status.stdout.splitlines() if " alice " in line)
    assert row.startswith("*")
    assert "python" in row and " yes " in row and "cached, expires in 1" in row, status.stdout

    result = run_cli("restore", "--kubeconfig", str(config), env=kw_data)
    assert result.returncode == 0, result.stderr
    assert config.read_bytes() == original
    got = run_kubectl(kubectl, config, env=kw_data)
    assert got.returncode == 0, got.stderr
    assert plugin_runs(plugin_log) > 1, "after restore kubectl runs the plugin itself again"


def test_relative_plugin_path_still_found_through_the_shim(
    api_server, kw_data, tmp_path, plugin_log
):
    directory = tmp_path / "kube"
    plugin = directory / "bin" / "my-plugin"
    plugin.parent.mkdir(parents=True)
    argv = fake_plugin_argv(log=plugin_log)
    plugin.write_text("#!/bin/sh\nexec " + " ".join(f"'{a}'" for a in argv) + ' "$@"\n')
    plugin.chmod(0o755)
    config = _kubectl_written(directory / "config", api_server, [str(plugin)], False)
    assert "command: bin/my-plugin" in config.read_text(), "kubectl writes it relative"
    original = config.read_bytes()
    assert run_cli("inject", "--kubeconfig", str(config), env=kw_data).returncode == 0
    other_cwd = tmp_path / "elsewhere"
    other_cwd.mkdir()
    for _ in range(2):
        got = run_kubectl(kubectl_path("1.33"), config, env={**kw_data, "PWD": str(other_cwd)})
        assert got.returncode == 0, got.stderr
    assert plugin_runs(plugin_log) == 1
    assert run_cli("restore", "--kubeconfig", str(config), env=kw_data).returncode == 0
    assert config.read_bytes() == original


def test_corpus_file_with_comments_works_with_kubectl_after_inject(api_server, kw_data, tmp_path):
    log = tmp_path / "runs.log"
    argv = fake_plugin_argv(log=log)
    text = (
        "# my clusters\napiVersion: v1\nkind: Config\n"
        "clusters:\n  - name: test   # the test server\n    cluster:\n"
        f"      server: '{api_server.url}'\n"
        f"      certificate-authority-data: {api_server.ca_data_b64}\n"
        "contexts:\n  - {name: t, context: {cluster: test, user: u}}\n"
        "current-context: t\n"
        "users:\n  - name: u\n    user:\n      exec:\n"
        f"        apiVersion: {EXEC_API}\n"
        f"        command: {sys.executable}   # the test venv\n"
        f"        args: [{', '.join(repr(a) for a in argv[1:])}]\n"
        "        env: null\n"
        "# end\n"
    )
    config = tmp_path / "config"
    config.write_text(text)
    assert run_cli("inject", "--kubeconfig", str(config), env=kw_data).returncode == 0
    assert "# kubewarm restore:" in config.read_text()
    for _ in range(2):
        got = run_kubectl(kubectl_path("1.27"), config, env=kw_data)
        assert got.returncode == 0, got.stderr
    assert plugin_runs(log) == 1
    assert run_cli("restore", "--kubeconfig", str(config), env=kw_data).returncode == 0
    assert config.read_text() == text
