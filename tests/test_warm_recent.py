"""Warm without pinning (``KUBEWARM_WARM_RECENT``): which contexts count as used recently (pure
functions, a fake clock), served markers kept long enough to tell, ``kubewarm pins`` saying
why a context is kept warm, and the headless warmer keeping an unpinned, recently used context
warm, never one kubectl did not use, and dropping one that fails."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from kubewarm.engine.contexts import recent
from kubewarm.engine.contexts.state import COLD, FAILED, NEEDS_LOGIN, WARM, ContextState
from kubewarm.engine.contexts.target import Target
from kubewarm.engine.core import served

from tests.fixtures_core import fake_plugin_argv, kill_pid
from tests.shim_helpers import exec_info, run_shim, wait_for
from tests.tray_helpers import KUBEWARM, kubewarm, plugin_runs, posix_only, write_config

NOW = 1_800_000_000.0
DAY = 86400.0
KEY_A, KEY_B, KEY_C = "a" * 64, "b" * 64, "c" * 64


def _target(name: str, key: str, source: str = "recipe") -> Target:
    return Target(name, name, ["aws"], {}, key, {}, source)


@pytest.mark.parametrize(
    ("value", "days"),
    [("off", 0), ("", 0), ("on", 3), ("ON", 3), ("7", 7), ("0.5", 0.5), ("365", 30),
     ("-1", 0), ("inf", 0), ("nan", 0), ("sometimes", 0)],
)  # fmt: skip
def test_window_days(value, days):
    assert recent.window_days({recent.SETTING: value}) == days


def test_recently_used_is_a_function_of_markers_targets_and_time():
    targets = {
        "prod": _target("prod", KEY_A),
        "dev": _target("dev", KEY_B),
        "never": _target("never", KEY_C),
        "fresh": _target("fresh", "d" * 64, source="kubeconfig"),  # no recipe: not through us
    }
    markers = {KEY_A[:32]: NOW - 2 * DAY, KEY_B[:32]: NOW - 4 * DAY, ("d" * 32): NOW}
    assert recent.recently_used(markers, targets, NOW, 3) == ["prod"]
    assert recent.recently_used(markers, targets, NOW, 5) == ["dev", "prod"]
    assert recent.recently_used(markers, targets, NOW, 5, exclude=["prod"]) == ["dev"]
    assert recent.recently_used(markers, targets, NOW, 0) == []
    # a marker from the future (clock set back by a week) does not make a context recent forever
    assert recent.recently_used({KEY_A[:32]: NOW + 7 * DAY}, targets, NOW, 3) == []


def test_settle_drops_recent_contexts_that_failed_or_need_login():
    states = {
        "pinned": ContextState("pinned", pinned=True, phase=FAILED),
        "ok": ContextState("ok", pinned=True, phase=WARM),
        "broken": ContextState("broken", pinned=True, phase=FAILED),
        "login": ContextState("login", pinned=True, phase=NEEDS_LOGIN),
        "cold": ContextState("cold", pinned=True, phase=COLD),
    }
    pins = ["pinned", "ok", "broken", "login", "cold"]
    kept, shown = recent.settle(pins, ["ok", "broken", "login", "cold"], states)
    assert kept == ["pinned", "ok", "cold"]  # a pinned context's failure is retried as before
    assert [n for n, s in shown.items() if s.pinned] == kept
    assert shown["broken"].phase == FAILED  # still shown as failed, just not kept warm


def test_prune_keeps_each_keys_newest_marker_for_days(kw_env):
    directory = Path(served.marker_dir())
    directory.mkdir(parents=True, exist_ok=True)
    now = time.time()
    ages = {  # name -> age in seconds
        f"{'a' * 32}-100": 5 * DAY,  # a's newest: kept
        f"{'a' * 32}-101": 6 * DAY,  # older than a's newest: goes
        f"{'b' * 32}-200": 60.0,  # recent: kept
        f"{'b' * 32}-201": 2 * 3600.0,  # over an hour, not b's newest: goes
        f"{'c' * 32}-300": 40 * DAY,  # c's newest, but beyond the 30 days: goes
    }
    for name, age in ages.items():
        (directory / name).write_text("x")
        os.utime(directory / name, (now - age, now - age))
    assert served.prune() == 3
    assert sorted(p.name for p in directory.iterdir()) == [f"{'a' * 32}-100", f"{'b' * 32}-200"]


def _settings(env: dict, text: str) -> None:
    path = Path(env["KUBEWARM_CONFIG_DIR"]) / "settings.conf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _use(env: dict, name: str, argv: list[str]) -> None:
    """What a new kubectl process does for context ``name``: run the shim with its marker and
    exec info."""
    result = run_shim(
        argv, env, own_parent=True, KUBEWARM_USER=name, KUBERNETES_EXEC_INFO=exec_info()
    )
    assert result.returncode == 0, result.stderr


@posix_only
def test_pins_lists_recently_used_contexts(kw_env, tmp_path):
    argv = fake_plugin_argv()
    write_config(Path(kw_env["HOME"]) / ".kube" / "config", {"prod": argv, "dev": argv})
    kubewarm("inject", env=kw_env)
    _use(kw_env, "dev", argv)
    assert "Nothing is pinned" in kubewarm("pins", env=kw_env).stdout  # the setting is off
    _settings(kw_env, "KUBEWARM_WARM_RECENT=on\n")
    lines = kubewarm("pins", env=kw_env).stdout.splitlines()
    assert lines[0].startswith("dev ") and "warm until" in lines[0], lines
    assert lines[0].endswith("[kept warm: used recently]"), lines
    assert not any(line.startswith("prod") for line in lines)  # never used: not kept warm
    kubewarm("pin", "prod", env=kw_env)
    lines = kubewarm("pins", env=kw_env).stdout.splitlines()
    assert lines[0].startswith("prod") and "kept warm" not in lines[0]
    assert lines[1].startswith("dev ") and lines[1].endswith("[kept warm: used recently]")


@posix_only
@pytest.mark.slow
def test_headless_warmer_keeps_recently_used_contexts_warm(kw_env, tmp_path):
    """20 s tokens: an unpinned context kubectl used is refreshed before each expiry, one it
    never used is not touched; when the used one starts failing it is not retried."""
    dev_log, other_log = tmp_path / "dev.log", tmp_path / "other.log"
    control = tmp_path / "dev-control.json"
    dev = fake_plugin_argv(ttl=20, log=dev_log, control=control)
    write_config(
        Path(kw_env["HOME"]) / ".kube" / "config",
        {"dev": dev, "other": fake_plugin_argv(ttl=20, log=other_log)},
    )
    kubewarm("inject", env=kw_env)
    _settings(kw_env, "KUBEWARM_WARM_RECENT=on\n")
    _use(kw_env, "dev", dev)
    assert len(plugin_runs(dev_log)) == 1
    out = tmp_path / "warmer.out"
    with open(out, "wb") as fh:
        proc = subprocess.Popen(
            [str(KUBEWARM), "tray", "--no-icon"], env=kw_env, stdout=fh, stderr=subprocess.STDOUT
        )
    try:
        # refreshed ~6 s before each 20 s expiry: two refreshes within ~30 s
        assert wait_for(lambda: len(plugin_runs(dev_log)) >= 3, 45), out.read_text()
        assert "dev: refreshed (" in out.read_text()
        assert plugin_runs(other_log) == []  # never used through kubectl: never run
        # kubectl finds the warmed credential: `kubewarm stats` counts the runs and the wait
        _use(kw_env, "dev", dev)
        _use(kw_env, "dev", dev)  # a second hit on the same credential saves no more
        doc = json.loads(kubewarm("stats", "-o", "json", env=kw_env).stdout)
        spent = len(plugin_runs(dev_log)) - 1  # all but kubectl's first run
        assert doc["total"]["warm_recent"]["plugin_runs"] in (spent, spent - 1), doc
        assert doc["total"]["warm_recent"]["waits_saved"] == 1, doc
        assert "saved kubectl 1 wait for the plugin" in kubewarm("stats", env=kw_env).stdout
        control.write_text(json.dumps({"mode": "fail"}))
        assert wait_for(lambda: "dev: refresh failed" in out.read_text(), 30), out.read_text()
        failed_at = len(plugin_runs(dev_log))
        # a pinned context would be retried after 15 s, then 30 s: a recent one is not
        time.sleep(20)  # bounded: proving that nothing happens takes waiting
        assert len(plugin_runs(dev_log)) == failed_at, out.read_text()
        assert plugin_runs(other_log) == []
        assert proc.poll() is None
    finally:
        kill_pid(proc.pid)
