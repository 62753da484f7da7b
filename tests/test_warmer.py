"""The warmer in this process with a real scheduler, the real shim, the test plugin and the file
store: when it refreshes, under which key, and what it does when refreshing fails."""

from __future__ import annotations

import json
import os
import sys
import time
from itertools import pairwise
from pathlib import Path

import pytest
from kubewarm.engine.contexts import state as context_state
from kubewarm.engine.contexts.state import ContextState
from kubewarm.engine.warmer.policy import refresh_lead
from kubewarm.engine.warmer.scheduler import Scheduler
from kubewarm.engine.warmer.warmer import Warmer

from tests.fixtures_core import FAKE_PLUGIN, fake_plugin_argv
from tests.shim_helpers import exec_info, run_shim, wait_for
from tests.tray_helpers import cred_files, kubewarm, plugin_runs, posix_only, write_config

pytestmark = posix_only


class Recorder:
    """Collects what the warmer reports."""

    def __init__(self) -> None:
        self.notifications: list[tuple[str, str]] = []
        self.events: list[str] = []
        self.changes = 0

    def notify(self, title: str, message: str) -> None:
        self.notifications.append((title, message))

    def event(self, line: str) -> None:
        self.events.append(line)

    def changed(self) -> None:
        self.changes += 1


@pytest.fixture
def warmers():
    """Start warmers (heartbeat 0.5 s, short backoff); all are stopped at teardown."""
    started: list[Warmer] = []

    def start(recorder: Recorder, **kwargs) -> Warmer:
        kwargs.setdefault("heartbeat", 0.5)
        kwargs.setdefault("backoff", (1.0, 2.0, 4.0))
        warmer = Warmer(
            notify=recorder.notify, on_event=recorder.event, on_change=recorder.changed, **kwargs
        )
        warmer.start()
        started.append(warmer)
        return warmer

    yield start
    for warmer in started:  # a refresh still running would write into the next test's cache
        warmer.stop(wait=True)


def _kubeconfig(env: dict, users: dict[str, list[str] | None]) -> Path:
    path = write_config(Path(env["HOME"]) / ".kube" / "config", users)
    kubewarm("inject", env=env)
    return path


def _find(warmer: Warmer, name: str) -> ContextState | None:
    return next((s for s in warmer.states() if s.name == name), None)


def _state(warmer: Warmer, name: str) -> ContextState:
    """The context's state, which must exist (a missing one fails the test at once)."""
    state = _find(warmer, name)
    assert state is not None, f"the warmer has no state for {name!r}"
    return state


def _kubectl_call(name: str, env: dict, argv: list[str], **extra: str):
    """What kubectl does for context ``name``: run the shim with the marker and exec info."""
    return run_shim(
        argv, {**env, "KUBEWARM_DEBUG": "1", **extra}, KUBEWARM_USER=name,
        KUBERNETES_EXEC_INFO=exec_info(),
    )  # fmt: skip


def test_pinned_context_is_warmed_at_start_and_before_each_expiry(kw_env, plugin_log, warmers):
    """The real scheduler refreshes when the policy says (tests/test_warmer_policy.py holds the
    schedule itself): 6 s tokens, so three refreshes take ~7 s."""
    ttl = 6
    argv = fake_plugin_argv(ttl=ttl, log=plugin_log)
    _kubeconfig(kw_env, {"prod": argv, "dev": argv})
    kubewarm("pin", "prod", env=kw_env)
    recorder = Recorder()
    warmer = warmers(recorder)
    assert wait_for(lambda: len(plugin_runs(plugin_log)) >= 1, 10), "no refresh at start"
    assert wait_for(lambda: _state(warmer, "prod").phase == context_state.WARM, 5)
    assert _state(warmer, "prod").label().startswith("warm until ")
    assert _state(warmer, "dev").phase == context_state.COLD  # not pinned: left alone
    assert wait_for(lambda: len(plugin_runs(plugin_log)) >= 3, 20), recorder.events
    times = [float(line.split()[1]) for line in plugin_runs(plugin_log)]
    assert len(times) == 3, times
    # each refresh starts at the expiry the plugin printed (whole seconds) minus the lead,
    # plus the time it takes to start the plugin
    late = []
    for a, b in pairwise(times):
        expires = int(a + ttl)
        due = expires - refresh_lead({}, expires - a)
        late.append(b - due)
    assert all(-0.3 < lateness < 1.5 for lateness in late), (times, late)
    # every shim call meanwhile was a hit, never a plugin run
    result = _kubectl_call("prod", kw_env, argv)
    assert result.returncode == 0 and b" hit " in result.stderr, result.stderr
    assert len(plugin_runs(plugin_log)) == 3
    assert recorder.notifications == []


def _failures_logged(recorder: Recorder) -> int:
    """How many 'refresh failed' events the warmer reported (a run is over when it has)."""
    return sum(": refresh failed (" in e for e in recorder.events)


def test_refreshes_under_the_shims_key_from_another_environment(
    kw_env, plugin_log, warmers, tmp_path
):
    """The tray (a login item) has neither the shell's PATH nor its AWS_PROFILE."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    plugin = bindir / "kw-test-plugin"
    plugin.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_PLUGIN}" "$@"\n')
    plugin.chmod(0o755)
    argv = ["kw-test-plugin", "--ttl", "900", "--log", str(plugin_log)]
    _kubeconfig(kw_env, {"prod": argv})
    shell = {**kw_env, "PATH": f"{bindir}{os.pathsep}{kw_env['PATH']}", "AWS_PROFILE": "dev"}
    first = _kubectl_call("prod", shell, argv)
    assert first.returncode == 0, first.stderr
    assert len(plugin_runs(plugin_log)) == 1 and len(cred_files(kw_env)) == 1
    kubewarm("pin", "prod", env=kw_env)
    tray_env = {k: v for k, v in kw_env.items() if k != "AWS_PROFILE"}
    tray_env["PATH"] = "/usr/bin:/bin"
    recorder = Recorder()
    warmer = warmers(recorder, environ=tray_env)
    assert wait_for(lambda: _find(warmer, "prod") is not None, 5)
    warmer.refresh_now("prod")
    assert wait_for(lambda: len(plugin_runs(plugin_log)) == 2, 10), recorder.events
    assert wait_for(lambda: _state(warmer, "prod").phase == context_state.WARM, 5)
    assert len(cred_files(kw_env)) == 1, "refreshed under a key no kubectl call will use"
    meta = json.loads(cred_files(kw_env)[0].with_suffix(".meta").read_bytes())
    assert meta["env"]["AWS_PROFILE"] == "dev" and str(bindir) in meta["env"]["PATH"]
    again = _kubectl_call("prod", shell, argv)
    assert again.returncode == 0 and b" hit " in again.stderr, again.stderr
    assert len(plugin_runs(plugin_log)) == 2
    assert any("as kubectl last ran it" in e for e in recorder.events), recorder.events


def test_prefers_the_identity_kubectl_used_last(kw_env, plugin_log, warmers):
    argv = fake_plugin_argv(ttl=900, log=plugin_log)
    _kubeconfig(kw_env, {"prod": argv})
    for profile in ("blue", "green", "blue"):
        assert _kubectl_call("prod", kw_env, argv, AWS_PROFILE=profile).returncode == 0
        time.sleep(0.05)
    assert len(cred_files(kw_env)) == 2
    kubewarm("pin", "prod", env=kw_env)
    warmer = warmers(Recorder())
    assert wait_for(lambda: _find(warmer, "prod") is not None, 5)
    warmer.refresh_now("prod")
    assert wait_for(lambda: len(plugin_runs(plugin_log)) == 3, 10)
    newest = max(cred_files(kw_env), key=lambda p: p.stat().st_mtime)
    meta = json.loads(newest.with_suffix(".meta").read_bytes())
    assert meta["env"]["AWS_PROFILE"] == "blue"


def test_failures_back_off_and_notify_once_per_episode(kw_env, plugin_log, warmers, tmp_path):
    control = tmp_path / "control.json"
    control.write_text('{"mode": "fail"}')
    argv = fake_plugin_argv(ttl=900, log=plugin_log, control=control)
    _kubeconfig(kw_env, {"prod": argv})
    kubewarm("pin", "prod", env=kw_env)
    recorder = Recorder()
    warmer = warmers(recorder)
    # retries after 1, 2, 4 s: 4 runs within ~8 s, and no more than that
    assert wait_for(lambda: len(plugin_runs(plugin_log)) >= 4, 12), recorder.events
    # (the 4th attempt may still be running: wait until it has failed too)
    assert wait_for(lambda: _state(warmer, "prod").phase == context_state.FAILED, 5)
    state = _state(warmer, "prod")
    assert "AccessDenied" in state.reason and state.label().startswith(
        "failed: fake-plugin: AccessDenied"
    )
    assert warmer.overall() == context_state.FAILING
    runs = [float(line.split()[1]) for line in plugin_runs(plugin_log)]
    gaps = [b - a for a, b in pairwise(runs)]
    assert gaps[0] >= 0.9 and gaps[1] >= 1.9 and gaps[2] >= 3.9, gaps
    assert len(recorder.notifications) == 1
    title, message = recorder.notifications[0]
    assert "prod" in title and "AccessDenied" in message
    # the plugin works again: the next retry succeeds and the episode is over
    control.write_text('{"mode": "token"}')
    assert wait_for(lambda: _state(warmer, "prod").phase == context_state.WARM, 10)
    assert warmer.overall() == context_state.ALL_WARM
    # a new failure is a new episode: one more notification. (The credential is cleared first:
    # with a valid one still stored, the retry would find it fresh and stop retrying.)
    control.write_text('{"mode": "fail"}')
    failed, seen = _failures_logged(recorder), len(recorder.events)
    assert warmer.clear("prod") == 1  # pinned: fetched again at once, and that fails
    assert wait_for(lambda: len(recorder.notifications) == 2, 10), recorder.events
    # the retries after 1 and 2 s run the plugin and notify nobody
    assert wait_for(lambda: _failures_logged(recorder) >= failed + 3, 10), recorder.events
    assert len(recorder.notifications) == 2
    assert any("attempt 3, retry in 4s" in e for e in recorder.events[seen:]), recorder.events


def test_needs_login_is_not_retried_until_asked(kw_env, plugin_log, warmers, tmp_path):
    control = tmp_path / "control.json"
    control.write_text('{"mode": "login"}')
    argv = fake_plugin_argv(ttl=900, log=plugin_log, control=control)
    _kubeconfig(kw_env, {"prod": argv})
    kubewarm("pin", "prod", env=kw_env)
    recorder = Recorder()
    warmer = warmers(recorder)
    assert wait_for(lambda: _state(warmer, "prod").phase == context_state.NEEDS_LOGIN, 10)
    assert _state(warmer, "prod").label() == "needs login"
    # no retry is scheduled, and a re-read (every heartbeat may do one) plans none either
    assert "prod" not in warmer.planned()
    warmer.sync("test")
    assert warmer.planned() == {}
    assert len(plugin_runs(plugin_log)) == 1
    # the menu shows the phase first, then the warmer logs and notifies
    assert wait_for(lambda: len(recorder.notifications) == 1, 10), recorder.events
    assert "needs login" in recorder.notifications[0][0]
    warmer.refresh_now("prod")  # the menu's Refresh now tries again, quietly
    assert wait_for(lambda: len(plugin_runs(plugin_log)) == 2, 10)
    assert wait_for(lambda: _state(warmer, "prod").phase == context_state.NEEDS_LOGIN, 10)
    assert len(recorder.notifications) == 1
    # the user logs in and runs kubectl: the shim fills the cache, the warmer takes over
    control.write_text('{"mode": "token"}')
    assert _kubectl_call("prod", kw_env, argv).returncode == 0
    assert wait_for(lambda: _state(warmer, "prod").phase == context_state.WARM, 10)
    # the menu may show "warm" a moment before the event is logged (states first, then events)
    assert wait_for(lambda: any("failure episode over" in e for e in recorder.events), 5)


def test_failed_refresh_now_over_a_fresh_credential_is_its_own_episode(
    kw_env, plugin_log, warmers, tmp_path
):
    """Refresh now fails while the stored credential is still good: the retry finds it fresh,
    which ends the episode, so the next failure notifies again (it used to stay silent)."""
    control = tmp_path / "control.json"
    control.write_text('{"mode": "token"}')
    argv = fake_plugin_argv(ttl=900, log=plugin_log, control=control)
    _kubeconfig(kw_env, {"prod": argv})
    kubewarm("pin", "prod", env=kw_env)
    recorder = Recorder()
    warmer = warmers(recorder)
    assert wait_for(lambda: _state(warmer, "prod").phase == context_state.WARM, 10)
    control.write_text('{"mode": "fail"}')
    for episode in (1, 2):
        warmer.refresh_now("prod")
        assert wait_for(lambda n=episode: len(recorder.notifications) == n, 10), recorder.events
        # the retry (1 s later) finds the stored credential fresh: warm again, episode over
        assert wait_for(lambda: _state(warmer, "prod").phase == context_state.WARM, 10)
        assert wait_for(lambda: "prod" in warmer.planned(), 5)
        assert wait_for(
            lambda n=episode: sum("failure episode over" in e for e in recorder.events) == n, 5
        ), recorder.events
    assert len(plugin_runs(plugin_log)) == 3  # the first warm-up and two Refresh now


def test_kubeconfig_and_pin_changes_are_picked_up_while_running(kw_env, plugin_log, warmers):
    argv = fake_plugin_argv(ttl=900, log=plugin_log)
    path = _kubeconfig(kw_env, {"prod": argv})
    kubewarm("pin", "--force", "later", env=kw_env)
    recorder = Recorder()
    warmer = warmers(recorder)
    assert wait_for(lambda: _find(warmer, "later") is not None, 5)
    assert _state(warmer, "later").phase == context_state.MISSING
    assert _state(warmer, "later").label() == "not in kubeconfig"
    assert warmer.overall() == context_state.FAILING
    # the context appears (another tool rewrote kubeconfig), unwrapped at first
    write_config(path, {"prod": argv, "later": argv})
    assert wait_for(lambda: _state(warmer, "later").phase == context_state.NOT_WRAPPED, 10)
    assert plugin_runs(plugin_log) == []
    kubewarm("inject", env=kw_env)
    assert wait_for(lambda: _state(warmer, "later").phase == context_state.WARM, 10)
    assert len(plugin_runs(plugin_log)) == 1
    # pinned from the CLI while running: warmed without a restart
    kubewarm("pin", "prod", env=kw_env)
    assert wait_for(lambda: _state(warmer, "prod").phase == context_state.WARM, 10)
    assert len(plugin_runs(plugin_log)) == 2
    # the context disappears: its job goes with it
    write_config(path, {"prod": argv})
    kubewarm("inject", env=kw_env)
    assert wait_for(lambda: _state(warmer, "later").phase == context_state.MISSING, 10)
    planned = warmer.planned()
    assert "later" not in planned and "prod" in planned
    kubewarm("unpin", "prod", "later", env=kw_env)
    assert wait_for(lambda: _find(warmer, "later") is None, 10)
    assert not _state(warmer, "prod").pinned
    assert warmer.overall() == context_state.IDLE


def test_clear_removes_credentials_and_rewarms_pinned(kw_env, plugin_log, warmers):
    argv = fake_plugin_argv(ttl=900, log=plugin_log)
    _kubeconfig(kw_env, {"prod": argv, "dev": argv})
    assert _kubectl_call("dev", kw_env, argv).returncode == 0
    kubewarm("pin", "prod", env=kw_env)
    warmer = warmers(Recorder())
    assert wait_for(lambda: _state(warmer, "prod").phase == context_state.WARM, 10)
    assert _state(warmer, "dev").phase == context_state.WARM
    assert len(cred_files(kw_env)) == 2
    assert warmer.clear("dev") == 1
    assert _state(warmer, "dev").phase == context_state.COLD
    assert len(cred_files(kw_env)) == 1
    assert warmer.clear_all() == 1
    # prod is pinned: it is fetched again straight away
    assert wait_for(lambda: len(plugin_runs(plugin_log)) == 3, 10)
    assert wait_for(lambda: _state(warmer, "prod").phase == context_state.WARM, 10)
    assert len(cred_files(kw_env)) == 1


def test_finds_kubeconfig_files_named_only_in_the_shell(kw_env, plugin_log, warmers, tmp_path):
    """KUBECONFIG is often set in a shell profile, which a login item never reads."""
    argv = fake_plugin_argv(ttl=900, log=plugin_log)
    path = write_config(tmp_path / "clusters" / "work.yaml", {"work": argv})
    shell = {**kw_env, "KUBECONFIG": str(path)}
    kubewarm("inject", env=shell)
    assert _kubectl_call("work", shell, argv).returncode == 0  # records the shell's KUBECONFIG
    kubewarm("pin", "work", env=shell)
    tray_env = {k: v for k, v in kw_env.items() if k != "KUBECONFIG"}
    recorder = Recorder()
    warmer = warmers(recorder, environ=tray_env)
    assert wait_for(lambda: _find(warmer, "work") is not None, 5)
    assert _state(warmer, "work").phase == context_state.WARM
    warmer.refresh_now("work")
    assert wait_for(lambda: len(plugin_runs(plugin_log)) == 2, 10), recorder.events
    assert len(cred_files(kw_env)) == 1
    write_config(path, {"work": argv, "office": argv})  # that file is watched too
    assert wait_for(lambda: _find(warmer, "office") is not None, 10)
    assert _state(warmer, "office").phase == context_state.NOT_WRAPPED


def test_scheduler_adapter_runs_each_job_when_planned_and_beats():
    """The APScheduler adapter alone: a time in the past runs at once (a refresh missed in
    sleep), a future one when due, a job within a second of the wanted time is left alone, and
    the heartbeat beats. Real time, about a second."""
    runs: list[tuple[str, bool, float]] = []
    beats: list[float] = []
    scheduler = Scheduler(
        lambda name, forced: runs.append((name, forced, time.time())),
        lambda: beats.append(time.monotonic()),
        heartbeat=0.2,
    )
    assert not scheduler.running and scheduler.planned() == {}
    scheduler.start()
    try:
        now = time.time()
        scheduler.at("later", now + 3600)
        assert scheduler.planned()["later"] == pytest.approx(now + 3600, abs=0.01)
        assert scheduler._scheduler is not None  # started above
        job = scheduler._scheduler.get_job("refresh:later")
        assert job is not None, "no job for later"
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (None, True, 1)
        scheduler.at("later", now + 3600.5, if_moved=True)  # close enough: no churn
        assert scheduler.planned()["later"] == pytest.approx(now + 3600, abs=0.01)
        scheduler.at("later", now + 3700, if_moved=True)
        assert scheduler.planned()["later"] == pytest.approx(now + 3700, abs=0.01)
        scheduler.at("past", now - 100)
        scheduler.at("soon", now + 0.5, forced=True)
        assert wait_for(lambda: len(runs) == 2, 5), runs
        (first, _, first_at), (second, forced, second_at) = runs
        assert first == "past" and first_at - now < 0.4, runs
        assert second == "soon" and forced and second_at >= now + 0.45, runs
        assert scheduler.has("later") and not scheduler.has("soon")
        scheduler.keep_only({"soon"})
        assert scheduler.planned() == {} and not scheduler.has("later")
        scheduler.start_heartbeat()
        assert wait_for(lambda: len(beats) >= 2, 5), beats
    finally:
        assert scheduler.stop()
    assert not scheduler.stop() and not scheduler.running
    scheduler.at("after", time.time())  # stopped: nothing to schedule on, and no error
    assert scheduler.planned() == {}


def test_scheduler_survives_a_job_removed_while_it_runs():
    """A refresh job that the warmer drops (keep_only) just as APScheduler finishes it must not
    end APScheduler's thread: that JobLookupError used to stop every later refresh and the
    heartbeat (seen as 'Exception in thread APScheduler' under load). Here the job removes
    itself while running, many times over, and the heartbeat must go on."""
    beats: list[float] = []
    scheduler: Scheduler

    def refresh(name: str, forced: bool) -> None:
        scheduler.keep_only(set())  # the warmer dropping the context on another thread
        time.sleep(0.01)

    scheduler = Scheduler(refresh, lambda: beats.append(time.monotonic()), heartbeat=0.1)
    scheduler.start()
    try:
        scheduler.start_heartbeat()
        assert scheduler._scheduler is not None
        for i in range(30):
            scheduler.at(f"c{i}", time.time())
        assert scheduler._scheduler.remove_job("refresh:never-there") is None  # no error
        seen = len(beats)
        assert wait_for(lambda: len(beats) >= seen + 5, 10), "the scheduler's thread died"
    finally:
        scheduler.stop()
