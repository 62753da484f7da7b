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
