"""The shim under real kubectl (1.27–1.33 and gcloud's dispatcher) against the TLS test server."""

from __future__ import annotations

import pytest

from tests.api_server import AWS_ENV, AWS_GET_TOKEN_ARGS
from tests.fixtures_core import (
    KUBECTL_VERSIONS,
    aws_command,
    fake_plugin_argv,
    kubectl_path,
    plugin_runs,
    run_kubectl,
    shim_command,
    write_kubeconfig,
)


def _wrapped(argv: list[str], user: str = "alice") -> dict:
    return {
        "command": shim_command(),
        "args": argv,
        "env": [{"name": "KUBEWARM_USER", "value": user}],
    }


@pytest.mark.parametrize("version", KUBECTL_VERSIONS)
def test_versioned_kubectl_runs_plugin_once_then_hits(
    version, api_server, kw_env, tmp_path, plugin_log
):
    kubeconfig = write_kubeconfig(
        tmp_path / "config", api_server, {"alice": _wrapped(fake_plugin_argv(log=plugin_log))}
    )
    kubectl = kubectl_path(version)
    for _ in range(3):
        result = run_kubectl(kubectl, kubeconfig, env=kw_env)
        assert result.returncode == 0, result.stderr
        assert "kubewarm-test" in result.stdout
    assert plugin_runs(plugin_log) == 1


def test_aws_eks_get_token_through_dispatcher(api_server, kw_env, tmp_path):
    env = {**kw_env, **AWS_ENV}
    argv = [aws_command(), *AWS_GET_TOKEN_ARGS]
    kubeconfig = write_kubeconfig(tmp_path / "config", api_server, {"eks": _wrapped(argv, "eks")})
    for _ in range(2):
        result = run_kubectl(kubectl_path(None), kubeconfig, env=env)
        assert result.returncode == 0, result.stderr
