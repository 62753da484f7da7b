"""The tray never runs, on its own, a plugin the user did not agree to: when another program
rewrites a pinned context's exec block, the context is paused (log, notification, `kubewarm
pins`) until the user allows it (Refresh now, or pinning it again); a kubeconfig file that
others can write is never used for a background refresh."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.fixtures_core import fake_plugin_argv, kill_pid
from tests.shim_helpers import wait_for
from tests.tray_helpers import KUBEWARM, kubewarm, plugin_runs, posix_only, write_config

pytestmark = posix_only


@pytest.fixture
def tray(kw_env, tmp_path):
    out = tmp_path / "tray.out"
    with open(out, "wb") as fh:
        proc = subprocess.Popen(
            [str(KUBEWARM), "tray", "--no-icon"], env=kw_env, stdout=fh, stderr=subprocess.STDOUT
        )
    try:
        yield out
    finally:
        kill_pid(proc.pid)


def _pinned(env: dict, log: Path) -> Path:
    config = write_config(
        Path(env["HOME"]) / ".kube" / "config", {"prod": fake_plugin_argv(ttl=900, log=log)}
    )
    kubewarm("inject", env=env)
    kubewarm("pin", "prod", env=env)
    return config


def test_changed_plugin_is_paused_until_allowed(kw_env, plugin_log, tray):
    config = _pinned(kw_env, plugin_log)
    assert wait_for(lambda: "refreshed" in tray.read_text(), 30), tray.read_text()
    assert len(plugin_runs(plugin_log)) == 1
    # another program points the user at something else (here: other arguments)
    config.write_text(config.read_text().replace("- '900'", "- '901'").replace("- 900", "- 901"))
    assert "901" in config.read_text()
    assert wait_for(lambda: "prod: paused" in tray.read_text(), 30), tray.read_text()
    assert "its plugin changed" in kubewarm("pins", env=kw_env).stdout
    kubewarm("clear", "--all", env=kw_env)  # cold now: an unpaused warmer would run it at once
    assert not wait_for(lambda: len(plugin_runs(plugin_log)) > 1, 12)  # a heartbeat and more
    kubewarm("pin", "prod", env=kw_env)  # the user allows the new plugin
    assert wait_for(lambda: len(plugin_runs(plugin_log)) == 2, 30), tray.read_text()
    assert (
        "901" in plugin_runs(plugin_log)[-1] or "paused" not in kubewarm("pins", env=kw_env).stdout
    )


def test_kubeconfig_writable_by_others_is_not_used_in_the_background(kw_env, plugin_log):
    config = _pinned(kw_env, plugin_log)
    config.chmod(0o666)
    listed = kubewarm("pins", env=kw_env).stdout
    assert "paused" in listed and "writable by others" in listed
    assert "kubeconfig read from" in listed
