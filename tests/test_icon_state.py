"""The icon's state: a pinned context that needs a login turns the icon into the failing one
(red triangle), the same as one that failed; a table over every phase, then the real warmer."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubewarm.engine.contexts import state as context_state
from kubewarm.engine.contexts.state import ContextState, overall, summary
from kubewarm.engine.warmer.warmer import Warmer
from kubewarm.tray import icons

from tests.fixtures_core import fake_plugin_argv
from tests.shim_helpers import wait_for
from tests.tray_helpers import kubewarm, posix_only, write_config

PHASE_ICON = [
    ("warm", "warm"),
    ("cold", "refreshing"),
    ("refreshing", "refreshing"),
    ("failed", "failing"),
    ("needs_login", "failing"),
    ("not_wrapped", "failing"),
    ("missing", "failing"),
    ("paused", "failing"),  # its plugin changed: waiting for the user
]


def test_the_table_covers_every_phase():
    phases = {getattr(context_state, n) for n in ("WARM", "COLD", "REFRESHING")}
    assert {p for p, _ in PHASE_ICON} == phases | set(context_state.PROBLEMS)


@pytest.mark.parametrize(("phase", "icon"), PHASE_ICON)
def test_one_pinned_context_decides_the_icon(phase, icon):
    assert overall([ContextState("prod", pinned=True, phase=phase)]) == icon


@pytest.mark.parametrize("phase", ["needs_login", "failed"])
def test_a_problem_outranks_warm_and_refreshing_contexts(phase):
    states = [
        ContextState("a", pinned=True, phase="warm"),
        ContextState("b", pinned=True, phase="refreshing"),
        ContextState("c", pinned=True, phase=phase),
    ]
    assert overall(states) == "failing"


@pytest.mark.parametrize("phase", ["needs_login", "failed", "not_wrapped"])
def test_unpinned_problems_leave_the_icon_alone(phase):
    states = [ContextState("a", pinned=True, phase="warm"), ContextState("b", phase=phase)]
    assert overall(states) == "warm"
    assert overall([ContextState("b", phase=phase)]) == "idle"


@posix_only
def test_a_pinned_context_needing_login_shows_the_failing_icon(kw_env, plugin_log, tmp_path):
    """Real warmer, real shim and plugin: an expired SSO session makes the icon red."""
    argv = fake_plugin_argv(mode="login", log=plugin_log)
    write_config(Path(kw_env["HOME"]) / ".kube" / "config", {"prod": argv})
    kubewarm("inject", env=kw_env)
    kubewarm("pin", "prod", env=kw_env)
    warmer = Warmer(heartbeat=0.5, backoff=(1.0, 2.0, 4.0))
    warmer.start()
    try:
        prod = lambda: next((s for s in warmer.states() if s.name == "prod"), None)  # noqa: E731
        assert wait_for(lambda: (s := prod()) and s.phase == context_state.NEEDS_LOGIN, 15)
        state = warmer.overall()
    finally:
        warmer.stop(wait=True)
    assert state == "failing"
    shown = icons.image(state, 32)
    assert shown.tobytes() == icons.image("failing", 32).tobytes()
    assert shown.tobytes() != icons.image("refreshing", 32).tobytes()


def test_the_summary_does_not_call_recently_used_contexts_pinned():
    """KUBEWARM_WARM_RECENT: a context kept warm because kubectl used it is not one the user
    pinned; the summary (tooltip and first menu line) says "kept-warm" then."""
    now = 1_900_000_000.0
    prod = ContextState("prod", pinned=True, phase="warm", expires=now + 600)
    dev = ContextState("dev", pinned=True, phase="warm", expires=now + 300, recent=True)
    assert summary([prod], now).startswith("Pinned context warm (next expiry ")
    assert summary([dev], now).startswith("Kept-warm context warm (next expiry ")
    assert summary([prod, dev], now).startswith("All 2 kept-warm contexts warm (next expiry ")
