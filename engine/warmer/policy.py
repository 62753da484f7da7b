"""The warmer's decisions, as pure functions of (state, now): when to refresh, what an outcome
means, how long to back off, when a failure episode ends, and whether the clocks jumped.

No I/O, no threads, no clock reads: the time is always an argument, so every rule is tested
with a fake clock in microseconds (``tests/test_warmer_policy.py``). The scheduler and the
world adapters only feed these functions and carry out what they return.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from kubewarm.engine.contexts.state import (
    FAILED,
    MISSING,
    NEEDS_LOGIN,
    NOT_WRAPPED,
    PAUSED,
    REFRESHING,
    WARM,
    ContextState,
)
from kubewarm.engine.hotpath import timing

HEARTBEAT_SECONDS = 10.0
FULL_SYNC_EVERY = 6  # heartbeats between full re-reads even when nothing seems to change
JUMP_SECONDS = 5.0  # wall clock and monotonic clock disagreeing by more: slept or clock set
BACKOFF = (15.0, 30.0, 60.0, 120.0, 240.0, 300.0)
MIN_INTERVAL = 2.0  # never refresh one context more often than this after a success
FRESH_SLACK = 0.5  # a due job finds the credential this far before its refresh time: skip it

# what a refresh outcome means
OK, FAILED_OUTCOME, LOGIN_OUTCOME = "ok", "failed", "needs_login"


def refresh_lead(values: Mapping[str, str], lifetime: float) -> float:
    """Seconds before expiry at which the warmer refreshes a credential of ``lifetime``: the
    shim's refresh window plus some slack (so kubectl never sees a stale credential), but never
    more than 90% of the lifetime (so a short-lived one is not refreshed non-stop)."""
    window, _ = timing(dict(values), lifetime)
    return min(window + min(30.0, max(1.0, 0.05 * lifetime)), lifetime * 0.9)


def refresh_at(values: Mapping[str, str], expires: float, lifetime: float, now: float) -> float:
    """When to refresh a credential expiring at ``expires``; a ``lifetime`` of 0 (unknown)
    counts as what is left of it."""
    return expires - refresh_lead(values, lifetime or max(expires - now, 1.0))


def already_fresh(values: Mapping[str, str], expires: float, lifetime: float, now: float) -> bool:
    """Whether a due refresh finds a credential someone else (kubectl, the shim) renewed."""
    return expires - now > refresh_lead(values, lifetime) + FRESH_SLACK


def backoff(failures: int, steps: Sequence[float] = BACKOFF) -> float:
    """Seconds to wait before retry number ``failures`` (1, 2, …); the last step is the cap."""
    return steps[min(max(failures, 1), len(steps)) - 1]


@dataclass(frozen=True)
class Runtime:
    """What the warmer knows of one context beyond the store: its running phase and the
    failure episode it is in (if any)."""

    phase: str = ""  # "", REFRESHING, FAILED or NEEDS_LOGIN
    reason: str = ""
    failures: int = 0  # failed attempts in this episode
    notified: bool = False  # the current failure episode was notified
    since: float = 0.0  # failed/needs login: when the attempt that failed began

    def with_phase(self, phase: str, reason: str = "", since: float = 0.0) -> Runtime:
        """The same episode in another phase ('' = as the store says)."""
        return replace(self, phase=phase, reason=reason, since=since or self.since)


IDLE = Runtime()


def should_run(pinned: bool, run: Runtime, forced: bool) -> bool:
    """Whether a due job runs the plugin: a forced one (Refresh now) always; a scheduled one
    only for a pinned context that is not waiting for the user to log in."""
    return forced or (pinned and run.phase != NEEDS_LOGIN)


@dataclass(frozen=True)
class Verdict:
    """What one refresh outcome means for its context."""

    kind: str  # OK, FAILED_OUTCOME or LOGIN_OUTCOME
    run: Runtime  # the context's runtime from now on
    notify: bool  # the first failure of an episode: tell the user (once)
    retry_at: float | None  # when to try again; None: not until asked
    delay: float = 0.0  # FAILED_OUTCOME: the backoff chosen


def judge(
    run: Runtime,
    *,
    ok: bool,
    needs_login: bool,
    reason: str,
    attempt: float,
    pinned: bool,
    now: float,
    values: Mapping[str, str],
    expires: float = 0.0,
    lifetime: float = 0.0,
    steps: Sequence[float] = BACKOFF,
) -> Verdict:
    """The verdict on a refresh that began at ``attempt`` and ended at ``now``.

    Success ends any failure episode and plans the next refresh before expiry (never sooner
    than ``MIN_INTERVAL``). A login-type failure is not retried: the user has to act. Any other
    failure is retried after a backoff that grows with the episode's failures. Only the first
    failure of an episode notifies.
    """
    if ok:
        retry = max(refresh_at(values, expires, lifetime, now), now + MIN_INTERVAL)
        return Verdict(OK, IDLE, False, retry if pinned else None)
    failures = run.failures + 1
    first = not run.notified
    if needs_login:
        after = Runtime(NEEDS_LOGIN, reason, failures, True, attempt)
        return Verdict(LOGIN_OUTCOME, after, first, None)
    delay = backoff(failures, steps)
    after = Runtime(FAILED, reason, failures, True, attempt)
    return Verdict(FAILED_OUTCOME, after, first, now + delay if pinned else None, delay)


def overlay(state: ContextState, run: Runtime) -> tuple[ContextState, Runtime, bool]:
    """The store's view of a context with the warmer's running phase on top; returns (state
    shown, runtime kept, whether a failure episode just ended).

    A credential obtained at or after the failed attempt began (by kubectl after a login, say)
    ends the episode; a context kubectl no longer wraps or no kubeconfig defines shows that.
    """
    if not run.phase:
        return state, run, False
    fresh = state.phase == WARM and state.obtained >= run.since
    if fresh and run.phase in (FAILED, NEEDS_LOGIN):
        return state, IDLE, True
    if state.phase in (NOT_WRAPPED, MISSING, PAUSED):
        return state, run, False
    return state.with_phase(run.phase, run.reason), run, False


def overlay_all(
    states: Mapping[str, ContextState], runtime: Mapping[str, Runtime]
) -> tuple[dict[str, ContextState], dict[str, Runtime], list[str]]:
    """``overlay`` over a fresh read: (states shown, runtimes kept, contexts whose failure
    episode ended). Contexts gone from the read lose their runtime."""
    shown: dict[str, ContextState] = {}
    kept: dict[str, Runtime] = {}
    ended: list[str] = []
    for name, state in states.items():
        shown[name], run, over = overlay(state, runtime.get(name, IDLE))
        if name in runtime:
            kept[name] = run
        if over:
            ended.append(name)
    return shown, kept, ended


@dataclass(frozen=True)
class Plan:
    """A pinned context's scheduled refresh: at ``at`` (epoch seconds), or ``keep`` the retry
    that is already scheduled."""

    at: float | None = None
    keep: bool = False


KEEP = Plan(keep=True)


def plan(
    state: ContextState,
    run: Runtime,
    *,
    values: Mapping[str, str],
    now: float,
    retry_pending: bool,
    steps: Sequence[float] = BACKOFF,
) -> Plan | None:
    """When a pinned, wrapped context should next be refreshed; None: no job (it waits for a
    login, or a refresh is running). A warm one just before its expiry, a cold one now, a
    failed one when its backoff is over."""
    if run.phase in (NEEDS_LOGIN, REFRESHING) or state.phase == PAUSED:
        return None
    if run.phase == FAILED:
        return KEEP if retry_pending else Plan(now + backoff(run.failures, steps))
    if state.phase == WARM:
        return Plan(refresh_at(values, state.expires, state.lifetime, now))
    return Plan(now)


@dataclass(frozen=True)
class Clocks:
    """A reading of both clocks: the wall clock jumps across sleep and `date -s`, the
    monotonic one (APScheduler's) stands still while the machine sleeps."""

    wall: float
    mono: float


def clock_jump(last: Clocks, now: Clocks) -> float:
    """Seconds the wall clock moved beyond the monotonic one since ``last`` (+: slept)."""
    return (now.wall - last.wall) - (now.mono - last.mono)


def jump_event(jumped: float, threshold: float = JUMP_SECONDS) -> str:
    """The log line for a clock jump, or '' when the clocks agree within ``threshold``."""
    if abs(jumped) <= threshold:
        return ""
    what = "woke from sleep" if jumped > 0 else "clock set back"
    return f"{what}: wall clock moved {jumped:+.0f}s against the monotonic clock"


def routine_sync(beats: int, files_changed: bool, every: int = FULL_SYNC_EVERY) -> str | None:
    """What a quiet heartbeat re-reads: 'files changed' when a watched file did, '' (a silent
    full re-read, plus housekeeping) every ``every`` beats, None otherwise."""
    if files_changed:
        return "files changed"
    if beats % every == 0:
        return ""
    return None
