"""Keeping pinned contexts warm: the ``Warmer`` front wires a pure policy to two adapters.

- ``policy``: every decision, a function of (state, now): refresh each pinned context at
  ``expires - (refresh window + slack)`` so kubectl always finds a plain hit; back off 15 s …
  5 min after a failure with one notification per failure episode; "needs login" is not
  retried until asked; a jump of the wall clock against the monotonic one means sleep.
- ``scheduler``: APScheduler 3.x, one date job per pinned context plus a heartbeat.
- ``world``: pins, kubeconfig files and the store, re-read when the heartbeat sees a change.

This module only holds the running state, carries out the policy's verdicts, and reports:
``notify`` once per failure episode, ``on_change`` when the menu's state changed,
``on_event`` for each log-worthy event (also written to kubewarm's log).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence

from kubewarm.engine.cache import admin as cache_admin
from kubewarm.engine.cache import credentials
from kubewarm.engine.cache import stats as cache_stats
from kubewarm.engine.contexts import approvals, pins, recent
from kubewarm.engine.contexts.state import (
    COLD,
    NEEDS_LOGIN,
    PAUSED,
    REFRESHING,
    WARM,
    ContextState,
    overall,
    summary,
)
from kubewarm.engine.contexts.target import Target
from kubewarm.engine.core import events_log
from kubewarm.engine.errors import KubewarmError
from kubewarm.engine.warmer import live, login, policy
from kubewarm.engine.warmer.policy import BACKOFF, HEARTBEAT_SECONDS, backoff, refresh_lead
from kubewarm.engine.warmer.scheduler import Scheduler
from kubewarm.engine.warmer.world import World

__all__ = ["BACKOFF", "HEARTBEAT_SECONDS", "Warmer", "backoff", "refresh_lead"]

Notify = Callable[[str, str], None]
_SOURCES = {"recipe": "as kubectl last ran it", "kubeconfig": "from kubeconfig"}


class Warmer:
    """The background warmer; the tray and ``kubewarm tray --no-icon`` run one each."""

    def __init__(
        self,
        *,
        notify: Notify | None = None,
        on_change: Callable[[], None] | None = None,
        on_event: Callable[[str], None] | None = None,
        heartbeat: float = HEARTBEAT_SECONDS,
        backoff: Sequence[float] = BACKOFF,
        environ: dict[str, str] | None = None,
    ) -> None:
        self._out = _Outlet(notify, on_change, on_event)
        self._backoff = tuple(backoff)
        self._world = World(environ)
        self._scheduler = Scheduler(self._run, self._beat, heartbeat)
        self._lock = threading.RLock()
        self._sync_lock = threading.Lock()  # one re-read at a time, applied in order
        self._states: dict[str, ContextState] = {}
        self._targets: dict[str, Target] = {}
        self._runtime: dict[str, policy.Runtime] = {}
        self._contexts: list = []
        self._pins: list[str] = []
        self._recent: list[str] = []
        self._values: dict[str, str] = {}
        self._problem = ""
        self._signature: tuple = ()
        self._beats = 0
        self._clocks = _clocks()
        self._heartbeat = heartbeat
        self._live = b""  # what warmer-live.json holds (``kubewarm pins`` reads it)

    # --- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Read everything, schedule the pinned contexts, and start the heartbeat."""
        self._scheduler.start()
        self._out.event(f"warmer started (pid {os.getpid()})")
        self.sync("start")
        self._scheduler.start_heartbeat()

    def stop(self, wait: bool = False) -> None:
        """Stop refreshing; ``wait``: until a refresh that is running has finished."""
        if self._scheduler.stop(wait):
            self._out.event("warmer stopped")
            live.remove()
            self._live = b""

    # --- what the menu shows -----------------------------------------------------------------

    def states(self) -> list[ContextState]:
        """Every exec-plugin context (and every pinned one), pinned first, then by name."""
        with self._lock:
            items = list(self._states.values())
        return sorted(items, key=lambda s: (not s.pinned, s.name))

    def overall(self) -> str:
        """The icon's state: idle, warm, refreshing or failing."""
        return overall(self.states()) if not self._problem else "failing"

    def summary(self) -> str:
        """One line summing up the state (the tooltip, the menu's first line)."""
        return summary(self.states())

    @property
    def problem(self) -> str:
        """Why the warmer cannot see its contexts (a broken kubeconfig, say), or ''."""
        return self._problem

    def login_plan(self, name: str) -> login.LoginPlan | None:
        """The login command for a context that needs login (None: it does not, or unknown)."""
        with self._lock:
            state = self._states.get(name)
            target = self._targets.get(name)
        if state is None or target is None or state.phase != NEEDS_LOGIN:
            return None
        return login.plan(target.argv, target.env, state.reason)

    def login_env(self, name: str) -> dict[str, str]:
        """The environment the context's plugin runs in (its recipe's): a login must use
        the same AWS profile, gcloud configuration or Azure folder."""
        with self._lock:
            target = self._targets.get(name)
        return dict(target.env) if target is not None else dict(os.environ)

    def all_contexts(self) -> list[str]:
        """Every kubeconfig context's name, in kubeconfig order (for Switch context)."""
        with self._lock:
            return [c.name for c in self._contexts]

    def planned(self) -> dict[str, float]:
        """When each pinned context's next refresh is due (epoch seconds)."""
        return self._scheduler.planned()

    # --- use cases ---------------------------------------------------------------------------

    def set_pinned(self, name: str, pinned: bool) -> None:
        """Pin (and warm now, if cold) or unpin a context."""
        pins.set_pinned(name, pinned)
        with self._lock:
            self._runtime.pop(name, None)
        self._out.event(f"{'pinned' if pinned else 'unpinned'} {name}")
        self.sync("pins changed")

    def refresh_now(self, name: str) -> None:
        """Refresh one context now, in the background (also after "needs login"); a context
        paused because its plugin changed is allowed to run its new plugin from now on."""
        with self._lock:
            state = self._states.get(name)
        if state is not None and state.phase == PAUSED and state.context is not None:
            approvals.approve([state.context])
            self._out.event(f"{name}: its new plugin is allowed")
            self.sync("plugin allowed")
        self._scheduler.at(name, time.time(), forced=True)

    def refresh_all_pinned(self) -> int:
        """Refresh every pinned context now; returns how many."""
        with self._lock:
            names = [n for n in self._pins if n in self._targets]
        for name in names:
            self.refresh_now(name)
        return len(names)

    def clear(self, name: str) -> int:
        """Delete the context's cached credentials (every identity of its kubeconfig user);
        a pinned context gets a fresh one right away. Returns how many were deleted."""
        with self._lock:
            state = self._states.get(name)
        if state is None or not state.user:
            return 0
        removed = cache_admin.clear(self._values or None, users=[state.user])
        self._out.event(f"cleared {removed} cached credential(s) of {name}")
        self.sync("cache cleared")
        return removed

    def clear_all(self) -> int:
        """Delete every cached credential; pinned contexts are warmed again right away."""
        removed = cache_admin.clear(self._values or None)
        self._out.event(f"cleared all {removed} cached credential(s)")
        self.sync("cache cleared")
        return removed

    def sync(self, why: str = "") -> None:
        """Re-read pins, kubeconfig and store; (re)schedule; tell the menu if anything changed."""
        with self._sync_lock:
            self._sync(why)

    # --- carrying out the policy -------------------------------------------------------------

    def _sync(self, why: str) -> None:
        snap = self._world.read(self._pins, self._contexts)
        with self._lock:
            before = {n: (s.phase, s.expires, s.pinned, s.reason) for n, s in self._states.items()}
            old_problem = self._problem
            self._signature = snap.signature
            self._values, self._contexts, self._pins = snap.values, snap.contexts, snap.pins
            self._targets = snap.targets
            merged, self._runtime, ended = policy.overlay_all(snap.states, self._runtime)
            self._recent = snap.recent  # KUBEWARM_WARM_RECENT: no retry, out once it fails
            self._pins, self._states = recent.settle(snap.pins, snap.recent, merged)
            self._problem = "; ".join(snap.problems)
            after = {n: (s.phase, s.expires, s.pinned, s.reason) for n, s in merged.items()}
        for name in ended:
            self._out.event(f"{name}: a fresh credential appeared; failure episode over")
        for name, state in merged.items():
            if state.phase == PAUSED and before.get(name, ("",))[0] != PAUSED:
                self._out.event(f"{name}: paused, {state.reason}")
                self._out.notify(f"kubewarm: {name} paused", state.reason)
        if self._problem and self._problem != old_problem:
            self._out.event(f"problem: {self._problem}")
        self._plan_all()
        if (before != after or old_problem != self._problem) and why:
            self._out.event(f"state changed ({why})")
        self._publish()
        self._out.changed()  # always: the menu also shows what the system says (start at login)

    def _plan_all(self) -> None:
        """Make the scheduled jobs match the pins: one per pinned, wrapped context."""
        if not self._scheduler.running:
            return
        now = time.time()
        with self._lock:
            wanted: dict[str, policy.Plan] = {}
            for name in self._pins:
                state = self._states.get(name)
                if state is None or name not in self._targets:
                    continue
                plan = policy.plan(
                    state, self._runtime.get(name, policy.IDLE), values=self._values, now=now,
                    retry_pending=self._scheduler.has(name), steps=self._backoff,
                )  # fmt: skip
                if plan is not None:
                    wanted[name] = plan
        self._scheduler.keep_only(set(wanted))
        for name, plan in wanted.items():
            if plan.at is not None:
                self._scheduler.at(name, plan.at, if_moved=True)

    def _beat(self) -> None:
        """Heartbeat: notice sleep/clock jumps and changed files; a full re-read now and then."""
        last, self._clocks = self._clocks, _clocks()
        self._beats += 1
        if self._live:
            live.touch()
        jump = policy.jump_event(policy.clock_jump(last, self._clocks))
        if jump:
            self._out.event(jump)
            self.sync("clock jump")
            return
        why = policy.routine_sync(self._beats, self._world.signature() != self._signature)
        if why is not None:
            self.sync(why)
        if why == "":
            cache_admin.housekeeping_if_due()  # one stat unless due (every few hours); never raises

    def _run(self, name: str, forced: bool = False) -> None:
        """One scheduled refresh of pinned context ``name`` (or a forced one from the menu)."""
        with self._lock:
            target = self._targets.get(name)
            state = self._states.get(name)
            run = self._runtime.setdefault(name, policy.IDLE)
            if target is None or state is None or state.phase == PAUSED:
                return  # paused: only the user's Refresh now (which approves) lifts it
            if not policy.should_run(state.pinned, run, forced):
                return
            values = self._values
            why = cache_stats.RECENT if name in self._recent else "bg"
        now = time.time()
        current = self._world.stored_expiry(target, now)
        if not forced and current is not None and policy.already_fresh(values, *current, now):
            expires, lifetime = current  # someone refreshed it meanwhile, or it is still good
            with self._lock:  # kubectl finds a good credential: any failure episode is over
                ended = self._runtime.get(name, policy.IDLE).failures > 0
                self._runtime[name] = policy.IDLE
            if ended:
                self._out.event(f"{name}: the stored credential is good; failure episode over")
            self._set(name, "", expires=expires)
            self._scheduler.at(name, expires - refresh_lead(values, lifetime))
            return
        self._set(name, REFRESHING)
        attempt, started = time.time(), time.monotonic()
        try:
            outcome = credentials.refresh(
                target.argv, target.env, target.values, key=target.key, why=why
            )
        except Exception as exc:  # never leave a context "refreshing" for good
            outcome = credentials.Outcome(False, target.key, f"{type(exc).__name__}: {exc}")
        took = time.monotonic() - started
        expires, lifetime = (0.0, 0.0)
        if outcome.ok:
            stored = self._world.stored_expiry(target, time.time())
            expires, lifetime = stored if stored else (outcome.expires, 0.0)
        with self._lock:
            pinned = name in self._pins if outcome.ok else state.pinned and name not in self._recent
            verdict = policy.judge(
                self._runtime.get(name, policy.IDLE), ok=outcome.ok,
                needs_login=outcome.needs_login, reason=outcome.reason, attempt=attempt,
                pinned=pinned, now=time.time(), values=values, expires=expires,
                lifetime=lifetime, steps=self._backoff,
            )  # fmt: skip
            self._runtime[name] = verdict.run
        self._report(name, target, verdict, took, expires)

    def _report(
        self, name: str, target: Target, verdict: policy.Verdict, took: float, expires: float
    ) -> None:
        """Show, log and (once per episode) notify a refresh's verdict; plan the next one."""
        line, notification = describe(name, target, verdict, took, expires)
        if verdict.kind == policy.OK:
            self._out.event(line)
            self._set(name, "", expires=expires)
        else:
            self._set(name, verdict.run.phase, reason=verdict.run.reason)
            self._out.event(line)
            if notification is not None:
                self._out.notify(*notification)
        if verdict.retry_at is not None:
            self._scheduler.at(name, verdict.retry_at)

    def _set(self, name: str, phase: str, reason: str = "", expires: float | None = None) -> None:
        """Show a context's running phase ('' = as the store says) and tell the menu."""
        with self._lock:
            run = self._runtime.get(name, policy.IDLE)
            self._runtime[name] = run.with_phase(phase, reason)
            state = self._states.get(name)
            if state is None:
                return
            if phase:
                new = state.with_phase(phase, reason)
            elif expires:
                new = state.with_phase(WARM, "", expires)
            else:
                new = state.with_phase(COLD)
            changed = new != state
            self._states[name] = new
        if changed:
            self._publish()
            self._out.changed()

    def _publish(self) -> None:
        """Write the live phases for ``kubewarm pins`` when they changed (never raises)."""
        if not self._scheduler.running:
            return
        data = live.encode(self.states(), self._heartbeat)
        if data == self._live:
            return
        try:
            live.write(data)
            self._live = data
        except (OSError, KubewarmError) as exc:
            events_log.write(f"warmer: cannot write {live.FILE_NAME}: {exc}")


class _Outlet:
    """Where the warmer reports; a failing callback (a GUI's) never stops the warmer."""

    def __init__(
        self,
        notify: Notify | None,
        on_change: Callable[[], None] | None,
        on_event: Callable[[str], None] | None,
    ) -> None:
        self._notify = notify or (lambda title, message: None)
        self._on_change = on_change or (lambda: None)
        self._on_event = on_event or (lambda line: None)

    def notify(self, title: str, message: str) -> None:
        self._notify(title, message)

    def changed(self) -> None:
        try:
            self._on_change()
        except Exception as exc:
            events_log.write(f"tray update failed: {type(exc).__name__}: {exc}")

    def event(self, line: str) -> None:
        events_log.write("warmer: " + line)
        try:
            self._on_event(line)
        except Exception:
            pass


def describe(
    name: str, target: Target, verdict: policy.Verdict, took: float, expires: float
) -> tuple[str, tuple[str, str] | None]:
    """The log line for a refresh's verdict, and the notification (title, message) when it
    opens a failure episode."""
    run = verdict.run
    if verdict.kind == policy.OK:
        until = time.strftime("%H:%M:%S", time.localtime(expires))
        source = _SOURCES[target.source]
        return (
            f"{name}: refreshed ({target.plugin}, {source}) in {took:.1f}s; valid until {until}",
            None,
        )
    if verdict.kind == policy.LOGIN_OUTCOME:
        line = f"{name}: needs login ({run.reason}); not retrying until asked"
        how = login.plan(target.argv, target.env, run.reason).title
        title, message = (
            f"kubewarm: {name} needs login",
            f"{target.plugin}: {run.reason}\nLog in with {how} (Log in… under {name} in the menu).",
        )
    else:
        retry = (
            f"retry in {verdict.delay:.0f}s"
            if verdict.retry_at is not None
            else "not pinned, no retry"
        )
        line = f"{name}: refresh failed ({run.reason}); attempt {run.failures}, {retry}"
        title, message = f"kubewarm: cannot refresh {name}", f"{target.plugin}: {run.reason}"
    return line, (title, message) if verdict.notify else None


def _clocks() -> policy.Clocks:
    return policy.Clocks(time.time(), time.monotonic())
