"""Every identity selector the plugins document is part of the key, listed here by hand (not
read from the code's own tuple, so removing one from the code fails this test), and an
``exec.env`` name that ``kubewarm inject`` declares in ``KUBEWARM_EXEC_ENV`` is keyed too."""

from __future__ import annotations

import pytest
from kubewarm.engine.core import key as cache_key

ARGV = ["aws", "eks", "get-token", "--cluster-name", "prod"]

# Each plugin's own documentation: the variables that change whose token it mints.
SELECTORS = [
    # aws eks get-token / aws-iam-authenticator (botocore's credential chain)
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ACCESS_KEY_ID",
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_STS_REGIONAL_ENDPOINTS",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_VAULT",
    # gke-gcloud-auth-plugin (gcloud's configuration)
    "CLOUDSDK_CONFIG", "CLOUDSDK_CORE_ACCOUNT", "CLOUDSDK_CORE_PROJECT",
    "CLOUDSDK_ACTIVE_CONFIG_NAME", "CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT",
    "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE",
    "GOOGLE_APPLICATION_CREDENTIALS",
    # kubelogin (Azure)
    "AZURE_CONFIG_DIR", "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST", "AAD_LOGIN_METHOD",
    "AAD_SERVICE_PRINCIPAL_CLIENT_ID", "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE",
    "AAD_USER_PRINCIPAL_NAME",
    # kubewarm's own
    "KUBEWARM_USER",
]  # fmt: skip


def key(env: dict[str, str]) -> str:
    return cache_key.compute(ARGV, env, cache_key.identity_env_names(""))


@pytest.mark.parametrize("name", SELECTORS)
def test_each_selector_changes_the_key(name):
    assert key({name: "a"}) != key({name: "b"}) != key({})


def test_declared_exec_env_names_are_keyed():
    a = {"KUBEWARM_EXEC_ENV": "ACCOUNT,TENANT", "ACCOUNT": "a", "TENANT": "t"}
    b = {**a, "ACCOUNT": "b"}
    assert key(a) != key(b)
    assert key({**a, "TENANT": "u"}) != key(a)
    # undeclared, the same variable is the shell's business and not keyed
    assert key({"ACCOUNT": "a"}) == key({"ACCOUNT": "b"})


def test_secrets_are_not_keyed():
    """A secret in the key would make it guessable from the key; the id beside it selects."""
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_CLIENT_SECRET",
                 "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", "AAD_USER_PRINCIPAL_PASSWORD"):  # fmt: skip
        assert key({name: "a"}) == key({name: "b"})
