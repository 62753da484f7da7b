"""Which command logs a person in for a context that *needs login*, as its tool expects.

Pure: a function of the plugin's argv, its environment and the failure reason. The tray runs
the command in a terminal (each of these tools prints a code or opens the browser itself, and
some ask questions), then refreshes the context.

- ``gke-gcloud-auth-plugin``: ``gcloud auth login`` (or ``gcloud config set account`` is the
  user's choice; the login is what gcloud's own message asks for first);
- ``aws`` (``eks get-token``, aws-iam-authenticator): ``aws sso login --profile P`` for an SSO
  profile, ``aws configure --profile P`` when no credentials are configured at all;
- ``kubelogin`` with ``--login azurecli`` and az itself: ``az login``;
- anything else (``kubelogin`` device code, ``kubectl oidc-login``, a plugin that prompts):
  the plugin itself, interactively, so that it can show its prompt or its browser link.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LoginPlan:
    """A login command to run in a terminal; ``title`` names it for the user."""

    argv: tuple[str, ...]
    title: str


def _option(argv: Sequence[str], name: str) -> str:
    """The value of ``--name VALUE`` or ``--name=VALUE`` in ``argv``, or ''."""
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return ""


def _aws_profile(argv: Sequence[str], env: Mapping[str, str]) -> str:
    return (
        _option(argv, "--profile") or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE", "")
    )


def plan(argv: Sequence[str], env: Mapping[str, str], reason: str) -> LoginPlan:
    """The command that logs in for this plugin run (see the module docstring)."""
    plugin = os.path.basename(argv[0]) if argv else ""
    plugin = plugin.removesuffix(".exe")
    lowered = reason.lower()
    if plugin == "gke-gcloud-auth-plugin" or "gcloud auth login" in lowered:
        return LoginPlan(("gcloud", "auth", "login"), "gcloud auth login")
    if plugin in ("aws", "aws-iam-authenticator") or "aws sso login" in lowered:
        profile = _aws_profile(argv, env)
        suffix = ("--profile", profile) if profile else ()
        if "sso" in lowered:
            command = ("aws", "sso", "login", *suffix)
        elif "aws configure" in lowered or "unable to locate credentials" in lowered:
            command = ("aws", "configure", *suffix)
        else:
            command = tuple(argv)
        return LoginPlan(command, " ".join(command))
    if (plugin == "kubelogin" and _option(argv, "--login") == "azurecli") or "az login" in lowered:
        return LoginPlan(("az", "login"), "az login")
    return LoginPlan(tuple(argv), f"{plugin or 'the plugin'} (run interactively)")
