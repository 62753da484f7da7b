"""A token the API server rejects is not served again (issue 2, item 10)."""

from __future__ import annotations

import pytest

from tests.fixtures_core import (
    KUBECTL_VERSIONS,
    fake_plugin_argv,
    kubectl_path,
    plugin_runs,
    run_kubectl,
    shim_command,
    write_kubeconfig,
)
from tests.shim_helpers import exec_info, run_shim, token_of


def _kubeconfig(tmp_path, api_server, argv, user="alice"):
    return write_kubeconfig(
        tmp_path / "config",
        api_server,
        {
            user: {
                "command": shim_command(),
                "args": argv,
                "env": [{"name": "KUBEWARM_USER", "value": user}],
            }
        },
    )


def _last_ok_token(api_server) -> str:
    return [r["token"] for r in api_server.request_log() if r["status"] == 200][-1]


@pytest.mark.parametrize(
    "version", [*KUBECTL_VERSIONS, None], ids=[*KUBECTL_VERSIONS, "dispatcher"]
)
def test_rejected_token_is_refreshed_and_the_next_command_works(
    version, api_server, kw_env, tmp_path, plugin_log
):
    kubectl = kubectl_path(version)
    kubeconfig = _kubeconfig(tmp_path, api_server, fake_plugin_argv(log=plugin_log))
    assert run_kubectl(kubectl, kubeconfig, env=kw_env).returncode == 0
    assert plugin_runs(plugin_log) == 1
    api_server.revoke(_last_ok_token(api_server))  # e.g. the IAM mapping changed server-side

    run_kubectl(kubectl, kubeconfig, env=kw_env)  # 401, client-go asks the shim again
    after = run_kubectl(kubectl, kubeconfig, env=kw_env)
    assert after.returncode == 0, after.stderr
    assert plugin_runs(plugin_log) == 2  # one refresh, no loop


@pytest.mark.parametrize(
    "version", [*KUBECTL_VERSIONS, None], ids=[*KUBECTL_VERSIONS, "dispatcher"]
)
def test_no_false_alarms_in_normal_use(version, api_server, kw_env, tmp_path, plugin_log):
    kubectl = kubectl_path(version)
    kubeconfig = _kubeconfig(tmp_path, api_server, fake_plugin_argv(log=plugin_log))
    for _ in range(4):
        result = run_kubectl(kubectl, kubeconfig, env=kw_env)
        assert result.returncode == 0, result.stderr
    assert plugin_runs(plugin_log) == 1  # the dispatcher's two asks per command included


def test_credential_served_on_a_miss_and_asked_for_again_is_refreshed(kw_env, plugin_log):
    """The slow path records what it served too: the same caller asking again right after a
    miss means the API server refused the brand-new credential."""
    argv = fake_plugin_argv(log=plugin_log)
    info = exec_info()
    miss = run_shim(argv, kw_env, KUBERNETES_EXEC_INFO=info)  # our process is the caller
    assert miss.returncode == 0 and plugin_runs(plugin_log) == 1
    again = run_shim(argv, kw_env, KUBERNETES_EXEC_INFO=info, KUBEWARM_DEBUG="1")
    assert again.returncode == 0
    assert b"rejected" in again.stderr
    assert token_of(again.stdout) != token_of(miss.stdout)
    assert plugin_runs(plugin_log) == 2
    other = run_shim(argv, kw_env, own_parent=True, KUBERNETES_EXEC_INFO=info)
    assert other.stdout == again.stdout  # the refreshed one is cached and served to the next
    assert plugin_runs(plugin_log) == 2


@pytest.mark.parametrize("version", [KUBECTL_VERSIONS[0], KUBECTL_VERSIONS[-1]])
def test_token_rejected_right_after_a_miss_is_refreshed_for_the_next_command(
    version, api_server, kw_env, tmp_path, plugin_log
):
    """On a cold cache the plugin returns a token the API server refuses: client-go asks the
    shim again after the 401 (the command itself fails: client-go does not retry it); the
    shim refreshes then, so the next command works without running the plugin."""
    kubectl = kubectl_path(version)
    argv = fake_plugin_argv("rejectedfirst", log=plugin_log)
    kubeconfig = _kubeconfig(tmp_path, api_server, argv)
    first = run_kubectl(kubectl, kubeconfig, env={**kw_env, "KUBEWARM_DEBUG": "1"})
    assert first.returncode != 0 and "Unauthorized" in first.stderr
    assert "rejected (same process asked again" in first.stderr
    assert plugin_runs(plugin_log) == 2
    after = run_kubectl(kubectl, kubeconfig, env=kw_env)
    assert after.returncode == 0, after.stderr
    assert plugin_runs(plugin_log) == 2
