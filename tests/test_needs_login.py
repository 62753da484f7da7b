"""*Needs login*, from the real plugins' own stderr: gke-gcloud-auth-plugin without a gcloud
account (its message ends with a lone ')' line, once shown as ``failed: )``) and ``aws eks
get-token`` with an SSO profile never logged in or whose login expired. The warmer stops
retrying, the notification carries the plugin's own hint, the menu offers Log in… with the
right command, and ``kubewarm pins`` shows the live state while the warmer runs."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from kubewarm.engine.cache.credentials import looks_like_login_needed, stderr_reason
from kubewarm.engine.contexts.state import NEEDS_LOGIN
from kubewarm.engine.warmer.login import plan
from kubewarm.engine.warmer.warmer import Warmer
from kubewarm.tray.actions import MenuActions
from kubewarm.tray.menu_model import LOGIN, MenuView, build, find

from tests.fixtures_core import aws_command, require
from tests.shim_helpers import wait_for
from tests.tray_helpers import kubewarm, linux_only, posix_only, write_config

pytestmark = [pytest.mark.real, posix_only]

START_URL = "https://example.awsapps.com/start"


def _aws_sso(home: Path, expired: bool) -> dict[str, str]:
    """An AWS config with an SSO profile; with ``expired``, a cached SSO login from 2020."""
    aws = home / ".aws"
    (aws / "sso" / "cache").mkdir(parents=True)
    (aws / "config").write_text(
        f"[profile team]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
        "sso_account_id = 123456789012\nsso_role_name = Admin\nregion = us-east-1\n"
    )
    if expired:
        token = {"startUrl": START_URL, "region": "us-east-1", "accessToken": "x",
                 "expiresAt": "2020-01-01T00:00:00Z"}  # fmt: skip
        name = hashlib.sha1(START_URL.encode()).hexdigest() + ".json"
        (aws / "sso" / "cache" / name).write_text(json.dumps(token))
    return {"AWS_PROFILE": "team", "AWS_CONFIG_FILE": str(aws / "config")}


CASES = {
    "gke": ("gcloud auth login", ("gcloud", "auth", "login")),
    "aws-sso-never": ("Error loading SSO Token", ("aws", "sso", "login", "--profile", "team")),
    "aws-sso-expired": (
        "To refresh this SSO session run aws sso login",
        ("aws", "sso", "login", "--profile", "team"),
    ),
}


@linux_only
@pytest.mark.parametrize("case", list(CASES))
def test_real_plugin_needing_login_is_recognised_with_its_hint(case, kw_env, tmp_path, monkeypatch):
    home = Path(kw_env["HOME"])
    if case == "gke":
        plugin = shutil.which("gke-gcloud-auth-plugin")
        require(plugin is not None, "gke-gcloud-auth-plugin on PATH (Google Cloud SDK)")
        assert plugin is not None
        argv = [plugin]
        env = {"CLOUDSDK_CONFIG": str(tmp_path / "gcloud")}  # no account in it
    else:
        argv = [aws_command(), "eks", "get-token", "--cluster-name", "prod"]
        env = _aws_sso(home, expired=case == "aws-sso-expired")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    write_config(home / ".kube" / "config", {"prod": argv})
    kw_env = {**kw_env, **env}
    kubewarm("inject", env=kw_env)
    kubewarm("pin", "prod", env=kw_env)
    hint, command = CASES[case]
    notes: list[tuple[str, str]] = []
    warmer = Warmer(notify=lambda t, m: notes.append((t, m)), heartbeat=0.5)
    warmer.start()
    try:
        assert wait_for(lambda: _phase(warmer) == NEEDS_LOGIN, 60), warmer.states()
        state = next(s for s in warmer.states() if s.name == "prod")
        assert hint in state.reason and not state.reason.endswith(": )")
        assert state.label() == "needs login" and warmer.planned() == {}  # not retried
        # the menu shows the phase first, then the warmer logs and notifies
        assert wait_for(lambda: len(notes) == 1, 10), notes
        assert notes[0][0] == "kubewarm: prod needs login"
        assert hint in notes[0][1] and f"Log in with {' '.join(command)}" in notes[0][1]
        login = warmer.login_plan("prod")
        assert login is not None and login.argv == command
        actions = MenuActions(warmer, lambda t, m: None, lambda: None)
        items = build(MenuView(warmer.states(), warmer.summary()), actions)
        assert find(items[1:], "prod").find(LOGIN).enabled  # items[0]: the summary line
        pins = kubewarm("pins", env=kw_env).stdout  # another process sees the live state
        assert pins.startswith("prod  needs login"), pins
    finally:
        warmer.stop(wait=True)
    assert kubewarm("pins", env=kw_env).stdout.startswith("prod  not cached")


def _phase(warmer: Warmer) -> str:
    return next((s.phase for s in warmer.states() if s.name == "prod"), "")


def test_gcloud_message_inside_a_klog_record_is_read_whole():
    stderr = (
        b"F1130 03:30:41.147456    6798 cred.go:145] print credential failed with error: Failed"
        b" to retrieve access token:: failure while executing gcloud, with args [config"
        b" config-helper --format=json]: exit status 1 (err: ERROR:"
        b" (gcloud.config.config-helper) You do not currently have an active account"
        b" selected.\nPlease run:\n\n  $ gcloud auth login\n\nto obtain new credentials.\n)\n"
    )
    reason = stderr_reason(stderr, 1)
    assert reason.startswith(
        "exit 1: ERROR: (gcloud.config.config-helper) You do not currently have an active"
        " account selected. Please run: gcloud auth login to obtain new credentials."
    )
    assert looks_like_login_needed(reason)
    assert not looks_like_login_needed(stderr_reason(b"AccessDenied\n", 3))


def test_login_commands_per_tool():
    assert plan(["kubelogin", "get-token", "--login", "azurecli"], {}, "x").argv == ("az", "login")
    assert plan(["az"], {}, "ERROR: Please run 'az login' to setup account.").argv == (
        "az",
        "login",
    )
    device = ["kubelogin", "get-token", "--login", "devicecode"]
    assert plan(device, {}, "To sign in, use a web browser").argv == tuple(device)
    assert plan(["aws", "eks", "get-token"], {"AWS_PROFILE": "p"}, "sso token").argv == (
        "aws", "sso", "login", "--profile", "p",
    )  # fmt: skip
    assert plan(["aws", "--profile", "q"], {}, "Unable to locate credentials").argv == (
        "aws", "configure", "--profile", "q",
    )  # fmt: skip
