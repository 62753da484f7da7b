"""Changing what selects an identity never serves another identity's credential (item 1)."""

from __future__ import annotations

import pytest
from kubewarm.engine.core import key as cache_key

from tests.fixtures_core import fake_plugin_argv, plugin_runs
from tests.shim_helpers import exec_info, run_shim, store_files, token_of

NAMES = cache_key.identity_env_names("")
BASE_ARGV = ["aws", "--region", "eu-west-1", "eks", "get-token", "--cluster-name", "prod"]


def key(argv=BASE_ARGV, **env):
    return cache_key.compute(list(argv), env, cache_key.identity_env_names(env.pop("_extra", "")))


# Written out, not read from the code: dropping a variable from IDENTITY_ENV must fail here.
IDENTITY_VARIABLES = (
    "KUBEWARM_USER",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_VAULT",
    "AWS_ACCESS_KEY_ID",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_STS_REGIONAL_ENDPOINTS",
    "CLOUDSDK_CONFIG",
    "CLOUDSDK_CORE_ACCOUNT",
    "CLOUDSDK_CORE_PROJECT",
    "CLOUDSDK_ACTIVE_CONFIG_NAME",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AZURE_CONFIG_DIR",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
)


@pytest.mark.parametrize("name", IDENTITY_VARIABLES)
def test_every_identity_variable_changes_the_key(name):
    assert key(**{name: "a"}) != key(**{name: "b"}) != key()
    assert key(**{name: ""}) != key()  # set-but-empty is not unset


def test_required_identity_variables_are_covered():
    required = {
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ROLE_ARN",
        "AWS_VAULT",
        "AWS_ACCESS_KEY_ID",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "CLOUDSDK_CONFIG",
        "CLOUDSDK_CORE_ACCOUNT",
        "CLOUDSDK_ACTIVE_CONFIG_NAME",
        "AZURE_CONFIG_DIR",
        "KUBEWARM_USER",
    }
    assert required <= set(NAMES)


def test_argv_changes_the_key_and_cannot_be_confused_by_joining():
    assert key(["aws", "eks", "get-token", "--cluster-name", "a"]) != key(
        ["aws", "eks", "get-token", "--cluster-name", "b"]
    )
    assert key(["a b", "c"]) != key(["a", "b c"])
    assert key(["ab"]) != key(["a", "b"])


def test_user_added_names_join_the_key():
    assert key(_extra="MY_TENANT", MY_TENANT="x") != key(_extra="MY_TENANT", MY_TENANT="y")
    assert key(MY_TENANT="x") == key(MY_TENANT="y")  # not an identity unless named


def test_cluster_and_api_version_change_the_key_but_interactive_does_not():
    one = exec_info(server="https://a.example:443", ca="Q0Ex")
    assert key(KUBERNETES_EXEC_INFO=one) != key(
        KUBERNETES_EXEC_INFO=exec_info(server="https://b.example:443", ca="Q0Ex")
    )
    assert key(KUBERNETES_EXEC_INFO=one) != key(
        KUBERNETES_EXEC_INFO=exec_info(server="https://a.example:443", ca="Q0Ey")
    )
    assert key(KUBERNETES_EXEC_INFO=exec_info()) != key(
        KUBERNETES_EXEC_INFO=exec_info(api_version="client.authentication.k8s.io/v1")
    )
    assert key(KUBERNETES_EXEC_INFO=exec_info(server="https://a", interactive=True)) == key(
        KUBERNETES_EXEC_INFO=exec_info(server="https://a", interactive=False)
    )


def test_profiles_never_share_a_credential(kw_env, plugin_log):
    argv = fake_plugin_argv(log=plugin_log)
    dev = run_shim(argv, kw_env, AWS_PROFILE="dev")
    prod = run_shim(argv, kw_env, AWS_PROFILE="prod")
    assert token_of(dev.stdout) != token_of(prod.stdout)
    assert run_shim(argv, kw_env, AWS_PROFILE="dev").stdout == dev.stdout
    assert run_shim(argv, kw_env, AWS_PROFILE="prod").stdout == prod.stdout
    assert plugin_runs(plugin_log) == 2


def test_terminal_and_script_share_one_entry(kw_env, plugin_log):
    argv = fake_plugin_argv(log=plugin_log)
    tty = run_shim(argv, kw_env, own_parent=True, KUBERNETES_EXEC_INFO=exec_info(interactive=True))
    script = run_shim(argv, kw_env, own_parent=True, KUBERNETES_EXEC_INFO=exec_info())
    assert tty.stdout == script.stdout
    assert plugin_runs(plugin_log) == 1


def test_nothing_secret_in_file_names(kw_env, plugin_log, tmp_path):
    secret_id = "AKIASECRETLOOKINGID9"
    run_shim(
        fake_plugin_argv(log=plugin_log),
        kw_env,
        AWS_ACCESS_KEY_ID=secret_id,
        KUBEWARM_USER="arn:aws:eks:eu-west-1:123456789012:cluster/prod",
    )
    names = [p.name for p in (tmp_path / "cache").rglob("*")]
    assert names
    for name in names:
        assert secret_id not in name and "123456789012" not in name and "prod" not in name
    [entry] = store_files(kw_env)
    assert len(entry.stem) == 64 and set(entry.stem) <= set("0123456789abcdef")
