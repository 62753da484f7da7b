"""The refresh window and the safety margin ("60 s or a tenth of the lifetime, whichever is
smaller"): a table test of ``hotpath.timing`` and its boundaries through the real shim."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from kubewarm.engine.core import key as cache_key
from kubewarm.engine.core.entry import Entry
from kubewarm.engine.hotpath import DEFAULTS, timing

from tests.fixtures_core import fake_plugin_argv, plugin_runs
from tests.shim_helpers import run_shim, wait_for

DEFAULT = {name: default for name, (default, _) in DEFAULTS.items()}


@pytest.mark.parametrize(
    ("settings", "lifetime", "window", "margin"),
    [
        ({}, 900, 225, 60),  # a 15-minute token: the 60 s cap is the smaller
        ({}, 601, 150.25, 60),
        ({}, 600, 150, 60),  # the crossover: both rules give 60 s
        ({}, 599, 149.75, 59.9),  # from here down a tenth of the lifetime is the smaller
        ({}, 300, 75, 30),
        ({}, 20, 5, 2),
        ({}, 1, 0.25, 0.1),
        ({}, 86400, 21600, 60),
        ({"KUBEWARM_MARGIN_SECONDS": "10"}, 900, 225, 10),
        ({"KUBEWARM_MARGIN_SECONDS": "0"}, 900, 225, 0),
        ({"KUBEWARM_MARGIN_FRACTION": "0.01"}, 900, 225, 9),
        ({"KUBEWARM_MARGIN_FRACTION": "0"}, 900, 225, 0),
        ({"KUBEWARM_REFRESH_WINDOW": "0.01"}, 900, 9, 9),  # the margin never exceeds the window
        ({"KUBEWARM_REFRESH_WINDOW": "0"}, 900, 0, 0),
        ({"KUBEWARM_REFRESH_WINDOW": "1"}, 900, 900, 60),
        ({"KUBEWARM_REFRESH_WINDOW": "5"}, 900, 900, 60),  # a window is at most the lifetime
        ({"KUBEWARM_REFRESH_WINDOW": "-1"}, 900, 225, 60),  # malformed: the defaults apply
        ({"KUBEWARM_MARGIN_SECONDS": "soon"}, 900, 225, 60),
        ({"KUBEWARM_MARGIN_FRACTION": "nan"}, 300, 75, 30),
        ({"KUBEWARM_MARGIN_SECONDS": ""}, 300, 75, 30),
    ],
)
def test_window_and_margin(settings, lifetime, window, margin):
    assert timing({**DEFAULT, **settings}, lifetime) == (
        pytest.approx(window),
        pytest.approx(margin),
    )


def _rewrite_entry(env: dict, argv: list[str], lifetime: int, remaining: int) -> None:
    """Make the cached entry for ``argv`` one of ``lifetime`` seconds with ``remaining`` left
    (payload and checksum untouched: what a real credential looks like at that moment)."""
    key = cache_key.compute(argv, env, cache_key.identity_env_names(""))
    path = Path(env["KUBEWARM_CACHE_DIR"]) / "credentials" / (key + ".cred")
    payload = path.read_bytes().split(b"\n", 1)[1]
    expires = int(time.time()) + remaining
    path.write_bytes(Entry(payload, expires, expires - lifetime, True).encode())
    os.chmod(path, 0o600)


@pytest.mark.parametrize(
    ("lifetime", "remaining", "served"),
    [
        (900, 75, True),  # margin 60 s (not 90): served, refreshed behind kubectl
        (900, 45, False),  # inside 60 s: the plugin runs first
        (300, 45, True),  # margin 30 s (not 60): still served
        (300, 20, False),
    ],
)
def test_safety_margin_through_the_shim(kw_env, plugin_log, tmp_path, lifetime, remaining, served):
    """Seeded with a good credential, then the plugin starts failing: a served answer is the
    cached credential (exit 0), a run-first answer is the plugin's failure (exit 3)."""
    control = tmp_path / "control.json"
    argv = fake_plugin_argv(log=plugin_log, control=control)
    seeded = run_shim(argv, kw_env)
    assert seeded.returncode == 0
    _rewrite_entry(kw_env, argv, lifetime, remaining)
    control.write_text('{"mode": "fail"}')
    result = run_shim(argv, kw_env, KUBEWARM_DEBUG="1")
    if served:
        assert result.returncode == 0 and result.stdout == seeded.stdout, result.stderr
        assert b"stale, refreshing in background" in result.stderr
        log = Path(kw_env["KUBEWARM_CACHE_DIR"]) / "log" / "kubewarm.log"
        assert wait_for(lambda: log.exists() and "background refresh" in log.read_text())
        assert plugin_runs(plugin_log) == 2  # the background refresh ran (and failed)
    else:
        assert result.returncode == 3, result.stderr
        assert b"expiring (only" in result.stderr
        assert plugin_runs(plugin_log) == 2
