"""The warmer's policy with a fake clock: when it refreshes, what an outcome means, backoff,
failure episodes, needs login and clock jumps. No scheduler, no process, no sleep: the time is
an argument, so the boundaries are tested exactly."""

from __future__ import annotations

from itertools import pairwise

import pytest
from kubewarm.engine.contexts.state import (
    COLD,
    FAILED,
    MISSING,
    NEEDS_LOGIN,
    NOT_WRAPPED,
    REFRESHING,
    WARM,
    ContextState,
)
from kubewarm.engine.hotpath import timing
from kubewarm.engine.warmer import policy
from kubewarm.engine.warmer.policy import (
    IDLE,
    KEEP,
    Clocks,
    Plan,
    Runtime,
    already_fresh,
    backoff,
    clock_jump,
    judge,
    jump_event,
    overlay,
    overlay_all,
    plan,
    refresh_at,
    refresh_lead,
    routine_sync,
    should_run,
)

NOW = 1_700_000_000.0  # the fake clock's "now"
DEFAULTS: dict[str, str] = {}  # settings as shipped


def about(value: float):
    """Equal within a millisecond (pytest.approx's relative default would allow ~30 minutes
    around an epoch time)."""
    return pytest.approx(value, rel=0, abs=1e-3)


# --- when to refresh ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "lifetime", "lead"),
    [
        ({}, 900, 225 + 30),  # 15-minute token: window 225 s + 30 s slack -> at 10:45
        ({}, 20, 5 + 1),  # 20-second token: at 14 s
        ({}, 3600, 900 + 30),  # slack capped at 30 s
        ({}, 10, 2.5 + 1),  # slack at least 1 s
        ({}, 1, 0.9),  # never more than 90% of the lifetime
        ({"KUBEWARM_REFRESH_WINDOW": "0.5"}, 900, 450 + 30),  # the shim's window, as set
        ({"KUBEWARM_REFRESH_WINDOW": "1"}, 100, 90),  # a whole-life window: the 90% cap
    ],
)
def test_refresh_lead_keeps_ahead_of_the_shims_window(values, lifetime, lead):
    assert refresh_lead(values, lifetime) == about(lead)
    window, _ = timing(dict(values), lifetime)
    if lead < lifetime * 0.9:  # uncapped: a kubectl call at refresh time is a plain hit
        assert refresh_lead(values, lifetime) > window


def test_refresh_at_is_expiry_minus_lead_and_uses_what_is_left_when_lifetime_unknown():
    expires = NOW + 900
    assert refresh_at(DEFAULTS, expires, 900, NOW) == about(NOW + 645)
    # lifetime 0 (not recorded): what is left of it counts, here 20 s
    assert refresh_at(DEFAULTS, NOW + 20, 0, NOW) == about(NOW + 14)
    # already expired with no lifetime: at least 1 s counts
    assert refresh_at(DEFAULTS, NOW - 5, 0, NOW) == about(NOW - 5 - 0.9)


@pytest.mark.parametrize(
    ("now", "fresh"),
    [
        (NOW + 644.0, True),  # well before the refresh time: someone else renewed it
        (NOW + 644.49, True),  # just before lead + 0.5
        (NOW + 644.5, False),  # exactly lead + 0.5 left: due
        (NOW + 645.0, False),  # at the refresh time
        (NOW + 700.0, False),  # after it
    ],
)
def test_a_due_job_skips_only_a_credential_renewed_meanwhile(now, fresh):
    assert already_fresh(DEFAULTS, NOW + 900, 900, now) is fresh


# --- backoff -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 15), (1, 15), (2, 30), (3, 60), (4, 120), (5, 240), (6, 300), (7, 300), (100, 300)],
)
def test_backoff_steps_and_cap(failures, delay):
    assert backoff(failures) == delay


@pytest.mark.parametrize(("failures", "delay"), [(1, 1.0), (2, 2.0), (3, 4.0), (4, 4.0)])
def test_backoff_with_own_steps(failures, delay):
    assert backoff(failures, (1.0, 2.0, 4.0)) == delay


# --- what an outcome means ---------------------------------------------------------------------


def _judge(run: Runtime = IDLE, **kwargs) -> policy.Verdict:
    args = {
        "ok": False, "needs_login": False, "reason": "exit 1: AccessDenied", "attempt": NOW,
        "pinned": True, "now": NOW + 1, "values": DEFAULTS,
    }  # fmt: skip
    args.update(kwargs)
    return judge(run, **args)


def test_success_plans_the_next_refresh_before_expiry():
    verdict = _judge(ok=True, expires=NOW + 901, lifetime=900)
    assert verdict.kind == policy.OK and verdict.run == IDLE and not verdict.notify
    assert verdict.retry_at == about(NOW + 901 - 255)


def test_success_never_plans_sooner_than_the_minimum_interval():
    verdict = _judge(ok=True, expires=NOW + 4, lifetime=3)  # lead 1.75: due at NOW + 2.25
    assert verdict.retry_at == about(NOW + 1 + policy.MIN_INTERVAL)


def test_success_of_an_unpinned_context_plans_nothing():
    assert _judge(ok=True, pinned=False, expires=NOW + 900, lifetime=900).retry_at is None


def test_success_ends_the_episode():
    failing = Runtime(FAILED, "boom", failures=4, notified=True, since=NOW - 100)
    assert _judge(failing, ok=True, expires=NOW + 900, lifetime=900).run == IDLE


def test_first_failure_notifies_and_retries_after_the_first_step():
    verdict = _judge()
    assert verdict.kind == policy.FAILED_OUTCOME and verdict.notify
    assert verdict.run == Runtime(FAILED, "exit 1: AccessDenied", 1, True, NOW)
    assert verdict.delay == 15 and verdict.retry_at == NOW + 1 + 15


def test_retries_back_off_and_stay_quiet_within_the_episode():
    run, delays, notified = IDLE, [], []
    for attempt in range(8):
        verdict = _judge(run, attempt=NOW + attempt, now=NOW + attempt)
        assert verdict.retry_at is not None, "a failure always plans a retry"
        delays.append(verdict.retry_at - (NOW + attempt))
        notified.append(verdict.notify)
        run = verdict.run
    assert delays == [15, 30, 60, 120, 240, 300, 300, 300]
    assert notified == [True] + [False] * 7
    assert run.failures == 8 and run.since == NOW + 7  # the last attempt's start


def test_a_new_failure_after_a_success_is_a_new_episode():
    first = _judge()
    recovered = _judge(first.run, ok=True, expires=NOW + 900, lifetime=900)
    again = _judge(recovered.run)
    assert first.notify and again.notify and again.run.failures == 1 and again.delay == 15


def test_a_failure_of_an_unpinned_context_is_not_retried():
    verdict = _judge(pinned=False)
    assert verdict.retry_at is None and verdict.notify


def test_needs_login_is_not_retried_and_notifies_once():
    verdict = _judge(needs_login=True, reason="run aws sso login")
    assert verdict.kind == policy.LOGIN_OUTCOME and verdict.retry_at is None and verdict.notify
    assert verdict.run == Runtime(NEEDS_LOGIN, "run aws sso login", 1, True, NOW)
    # Refresh now, still logged out: the same episode, quiet
    again = _judge(verdict.run, needs_login=True, attempt=NOW + 60, now=NOW + 61)
    assert not again.notify and again.retry_at is None and again.run.since == NOW + 60
    # after plain failures of the same episode: quiet too
    after_failure = _judge(_judge().run, needs_login=True)
    assert not after_failure.notify and after_failure.run.phase == NEEDS_LOGIN


@pytest.mark.parametrize(
    ("pinned", "phase", "forced", "runs"),
    [
        (True, "", False, True),
        (True, FAILED, False, True),  # a retry
        (True, NEEDS_LOGIN, False, False),  # waits for the user
        (True, NEEDS_LOGIN, True, True),  # Refresh now
        (False, "", False, False),  # unpinned meanwhile
        (False, "", True, True),  # Refresh now of an unpinned context
    ],
)
def test_which_due_jobs_run(pinned, phase, forced, runs):
    assert should_run(pinned, Runtime(phase), forced) is runs


# --- failure episodes as the menu shows them ----------------------------------------------------


def _warm(obtained: float, name: str = "prod") -> ContextState:
    return ContextState(name, "u", "aws", True, WARM, obtained + 900, "", "k", 900, obtained)


@pytest.mark.parametrize(
    ("phase", "obtained", "ends"),
    [
        (FAILED, NOW - 0.01, False),  # obtained before the failed attempt: the old credential
        (FAILED, NOW, True),  # obtained as it began: a fresh one
        (FAILED, NOW + 30, True),  # kubectl filled the cache after the failure
        (NEEDS_LOGIN, NOW - 1, False),
        (NEEDS_LOGIN, NOW + 30, True),  # the user logged in and ran kubectl
        (REFRESHING, NOW + 30, False),  # only failures end
    ],
)
def test_an_episode_ends_when_a_credential_obtained_after_the_attempt_appears(
    phase, obtained, ends
):
    run = Runtime(phase, "why", failures=2, notified=True, since=NOW)
    shown, kept, ended = overlay(_warm(obtained), run)
    assert ended is ends
    if ends:
        assert kept == IDLE and shown == _warm(obtained)
    else:
        assert kept == run and shown.phase == phase and shown.reason == "why"


def test_overlay_shows_the_running_phase_over_the_store():
    cold = ContextState("prod", "u", "aws", True, COLD)
    assert overlay(cold, IDLE) == (cold, IDLE, False)
    shown, _, _ = overlay(cold, Runtime(FAILED, "boom", 1, True, NOW))
    assert (shown.phase, shown.reason) == (FAILED, "boom")
    for phase in (NOT_WRAPPED, MISSING):  # what the kubeconfig says wins
        state = ContextState("prod", pinned=True, phase=phase)
        assert overlay(state, Runtime(FAILED, "boom", 1, True, NOW))[0] == state


def test_overlay_all_ends_episodes_and_forgets_contexts_that_went():
    runtime = {
        "prod": Runtime(FAILED, "boom", 1, True, NOW),
        "stage": Runtime(NEEDS_LOGIN, "login", 1, True, NOW),
        "gone": Runtime(FAILED, "boom", 1, True, NOW),
    }
    states = {"prod": _warm(NOW + 5, "prod"), "stage": _warm(NOW - 5, "stage"), "dev": _warm(0)}
    shown, kept, ended = overlay_all(states, runtime)
    assert ended == ["prod"]
    assert kept == {"prod": IDLE, "stage": runtime["stage"]}
    assert shown["prod"].phase == WARM and shown["stage"].phase == NEEDS_LOGIN
    assert shown["dev"] == states["dev"]


# --- planning the jobs --------------------------------------------------------------------------


def _plan(state: ContextState, run: Runtime = IDLE, pending: bool = False) -> Plan | None:
    return plan(state, run, values=DEFAULTS, now=NOW, retry_pending=pending, steps=(1.0, 2.0))


def _at(planned: Plan | None) -> float:
    """When ``planned`` runs: it must be a plan at a time (not None, not KEEP)."""
    assert planned is not None and not planned.keep and planned.at is not None, planned
    return planned.at


def test_plan_per_phase():
    cold = ContextState("prod", pinned=True)
    assert _plan(cold) == Plan(NOW)  # cold: now
    assert _at(_plan(_warm(NOW - 100))) == about(NOW - 100 + 645)
    assert _plan(cold, Runtime(NEEDS_LOGIN)) is None  # waits for the user
    assert _plan(cold, Runtime(REFRESHING)) is None  # running now
    assert _plan(cold, Runtime(FAILED, failures=2), pending=True) == KEEP
    assert _plan(cold, Runtime(FAILED, failures=2)) == Plan(NOW + 2.0)  # its job went


def test_plan_uses_what_is_left_when_the_lifetime_is_unknown():
    state = ContextState("prod", pinned=True, phase=WARM, expires=NOW + 20)
    assert _at(_plan(state)) == about(NOW + 14)


def test_after_a_long_sleep_a_warm_credential_is_due_at_once():
    """A laptop that slept 700 s: the 900 s credential obtained before is past its refresh
    time; the scheduler runs a time in the past at once."""
    before_sleep = NOW - 700
    assert _at(_plan(_warm(before_sleep))) < NOW


# --- the schedule itself, without real time ----------------------------------------------------


def simulate(ttl: float, horizon: float, plugin_seconds: float = 0.5) -> tuple[list, list]:
    """Run the policy against a fake clock for ``horizon`` seconds: a pinned, cold context
    whose plugin takes ``plugin_seconds`` and returns ``ttl``-second credentials. Returns the
    refresh start times and the credentials (obtained, expires) in turn."""
    now, starts, credentials = 0.0, [], []
    run, state = IDLE, ContextState("prod", pinned=True)
    for _ in range(10_000):
        planned = plan(state, run, values=DEFAULTS, now=now, retry_pending=False)
        assert planned is not None and planned.at is not None
        now = max(planned.at, now)  # the scheduler runs a time in the past at once
        if now > horizon:
            break
        starts.append(now)
        now += plugin_seconds
        credentials.append((now, now + ttl))
        verdict = judge(
            run, ok=True, needs_login=False, reason="refreshed", attempt=starts[-1],
            pinned=True, now=now, values=DEFAULTS, expires=now + ttl, lifetime=ttl,
        )  # fmt: skip
        run = verdict.run
        state = ContextState("prod", "u", "p", True, WARM, now + ttl, "", "k", ttl, now)
        # the job the verdict plans is the one the next re-read would plan
        again = plan(state, run, values=DEFAULTS, now=now, retry_pending=False)
        assert verdict.retry_at == about(_at(again))
    return starts, credentials


@pytest.mark.parametrize(("ttl", "horizon"), [(900, 3600), (20, 90), (10, 15), (3600, 4 * 3600)])
def test_the_schedule_refreshes_at_the_lead_and_kubectl_always_finds_a_hit(ttl, horizon):
    """A kubectl call at any moment finds a credential outside the shim's refresh window (a
    plain hit: never stale, never a wait), and a refresh starts every ttl - lead seconds (plus
    the plugin's own run time)."""
    starts, credentials = simulate(ttl, horizon)
    gaps = [b - a for a, b in pairwise(starts)]
    expected = ttl - refresh_lead(DEFAULTS, ttl) + 0.5
    assert gaps and all(g == about(expected) for g in gaps), gaps
    window, _ = timing({}, ttl)
    t, step = credentials[0][0], ttl / 1000
    while t < horizon:  # a kubectl call every ttl/1000 s after the first credential arrived
        obtained, expires = [c for c in credentials if c[0] <= t][-1]
        assert expires - t > window, (t, obtained, expires)
        t += step


def test_the_readme_schedule():
    """'a 15-minute token at 10:45 of its life, a 20-second one at 14 s'."""
    assert simulate(900, 1000, plugin_seconds=0)[0][:2] == [0, 645]
    assert simulate(20, 20, plugin_seconds=0)[0] == [0, 14]


def test_ten_second_tokens_are_refreshed_three_times_in_fifteen_seconds():
    """What tests/test_warmer.py held with 15 s of real time, now from the policy."""
    starts, _ = simulate(10, 15)
    assert len(starts) == 3, starts
    gaps = [b - a for a, b in pairwise(starts)]
    assert all(5.5 < gap < 8.0 for gap in gaps), gaps


# --- sleep and clock jumps ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wall", "mono", "event"),
    [
        (10.0, 10.0, ""),  # a normal beat
        (15.0, 10.0, ""),  # exactly the threshold: no jump
        (14.9, 10.0, ""),  # just under
        (15.1, 10.0, "woke from sleep: wall clock moved +5s against the monotonic clock"),
        (710.0, 10.0, "woke from sleep: wall clock moved +700s against the monotonic clock"),
        (5.0, 10.0, ""),  # set back by exactly the threshold
        (4.9, 10.0, "clock set back: wall clock moved -5s against the monotonic clock"),
        (-3590.0, 10.0, "clock set back: wall clock moved -3600s against the monotonic clock"),
    ],
)
def test_clock_jumps_just_under_and_over_the_threshold(wall, mono, event):
    last = Clocks(NOW, 500.0)
    jumped = clock_jump(last, Clocks(NOW + wall, 500.0 + mono))
    assert jumped == about(wall - mono)
    assert jump_event(jumped) == event


def test_quiet_beats_reread_on_change_and_every_few_beats():
    assert routine_sync(1, files_changed=True) == "files changed"
    assert routine_sync(6, files_changed=True) == "files changed"  # no housekeeping then
    assert routine_sync(6, files_changed=False) == ""  # a silent full re-read + housekeeping
    assert routine_sync(12, files_changed=False) == ""
    assert [routine_sync(b, False) for b in (1, 2, 3, 4, 5, 7)] == [None] * 6
