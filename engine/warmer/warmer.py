"""Keeping pinned contexts warm: the ``Warmer`` front wires a pure policy to two adapters.

- ``policy``: every decision, a function of (state, now): refresh each pinned context at
  ``expires - (refresh window + slack)`` so kubectl always finds a plain hit; back off 15 s …
  5 min after a failure with one notification per failure episode; "needs login" is not
  retried until asked; a jump of the wall clock against the monotonic one means sleep.
- ``scheduler``: APScheduler 3.x, one date job per pinned context plus a heartbeat.
- ``world``: pins, kubeconfig files and the store, re-read when the heartbeat sees a change.

What the warmer knows (and what the menu asks) is ``board``'s; what it says is ``report``'s
(``notify`` once per failure episode, ``on_change`` when the menu's state changed, ``on_event``
for each log-worthy event, also written to kubewarm's log); ``live`` publishes the running
phases for ``kubewarm pins``. This module carries out the policy's verdicts.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence

from kubewarm.engine.cache import admin as cache_admin
from kubewarm.engine.cache import stats as cache_stats
from kubewarm.engine.contexts import approvals, pins
from kubewarm.engine.contexts.state import PAUSED, REFRESHING, ContextState, overall, summary
from kubewarm.engine.contexts.target import Target
from kubewarm.engine.warmer import attempt, live, login, policy
from kubewarm.engine.warmer.board import Board
from kubewarm.engine.warmer.policy import BACKOFF, HEARTBEAT_SECONDS, backoff, refresh_lead
from kubewarm.engine.warmer.report import Notify, Outlet
from kubewarm.engine.warmer.scheduler import Scheduler
from kubewarm.engine.warmer.world import World

__all__ = ["BACKOFF", "HEARTBEAT_SECONDS", "Warmer", "backoff", "refresh_lead"]


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
        self._out = Outlet(notify, on_change, on_event)
        self._backoff = tuple(backoff)
        self._world = World(environ)
        self._scheduler = Scheduler(self._run, self._beat, heartbeat)
        self._board = Board()
        self._sync_lock = threading.Lock()  # one re-read at a time, applied in order
        self._beats = 0
        self._clocks = _clocks()
        self._live = live.Publisher(heartbeat)  # warmer-live.json, for ``kubewarm pins``

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
            self._live.remove()

    # --- what the menu shows -----------------------------------------------------------------

    def states(self) -> list[ContextState]:
        """Every exec-plugin context (and every pinned one), pinned first, then by name."""
        return self._board.sorted_states()

    def overall(self) -> str:
        """The icon's state: idle, warm, refreshing or failing."""
        return overall(self.states()) if not self._board.problem else "failing"

    def summary(self) -> str:
        """One line summing up the state (the tooltip, the menu's first line)."""
        return summary(self.states())

    @property
    def problem(self) -> str:
        """Why the warmer cannot see its contexts (a broken kubeconfig, say), or ''."""
        return self._board.problem

    def login_plan(self, name: str) -> login.LoginPlan | None:
        """The login command for a context that needs login (None: it does not, or unknown)."""
        return self._board.login_plan(name)

    def login_env(self, name: str) -> dict[str, str]:
        """The environment the context's plugin runs in (its recipe's): a login must use
        the same AWS profile, gcloud configuration or Azure folder."""
        return self._board.login_env(name)

    def all_contexts(self) -> list[str]:
        """Every kubeconfig context's name, in kubeconfig order (for Switch context)."""
        return self._board.context_names()

    def planned(self) -> dict[str, float]:
        """When each pinned context's next refresh is due (epoch seconds)."""
        return self._scheduler.planned()

    # --- use cases ---------------------------------------------------------------------------

    def set_pinned(self, name: str, pinned: bool) -> None:
        """Pin (and warm now, if cold) or unpin a context."""
        pins.set_pinned(name, pinned)
        self._board.forget(name)
        self._out.event(f"{'pinned' if pinned else 'unpinned'} {name}")
        self.sync("pins changed")

    def refresh_now(self, name: str) -> None:
        """Refresh one context now, in the background (also after "needs login"); a context
        paused because its plugin changed is allowed to run its new plugin from now on."""
        state, _ = self._board.lookup(name)
        if state is not None and state.phase == PAUSED and state.context is not None:
            approvals.approve([state.context])
            self._out.event(f"{name}: its new plugin is allowed")
            self.sync("plugin allowed")
        self._scheduler.at(name, time.time(), forced=True)

    def refresh_all_pinned(self) -> int:
        """Refresh every pinned context now; returns how many."""
        names = self._board.pinned_targets()
        for name in names:
            self.refresh_now(name)
        return len(names)

    def clear(self, name: str) -> int:
        """Delete the context's cached credentials (every identity of its kubeconfig user);
        a pinned context gets a fresh one right away. Returns how many were deleted."""
        state, _ = self._board.lookup(name)
        if state is None or not state.user:
            return 0
        removed = cache_admin.clear(self._board.values or None, users=[state.user])
        self._out.event(f"cleared {removed} cached credential(s) of {name}")
        self.sync("cache cleared")
        return removed

    def clear_all(self) -> int:
        """Delete every cached credential; pinned contexts are warmed again right away."""
        removed = cache_admin.clear(self._board.values or None)
        self._out.event(f"cleared all {removed} cached credential(s)")
        self.sync("cache cleared")
        return removed

    def sync(self, why: str = "") -> None:
        """Re-read pins, kubeconfig and store; (re)schedule; tell the menu if anything changed."""
        with self._sync_lock:
            self._sync(why)

    # --- carrying out the policy -------------------------------------------------------------

    def _sync(self, why: str) -> None:
        change = self._board.take(self._world.read(self._board.pins, self._board.contexts))
        self._out.read_again(change)
        self._plan_all()
        if change.changed and why:
            self._out.event(f"state changed ({why})")
        self._publish()
        self._out.changed()  # always: the menu also shows what the system says (start at login)

    def _plan_all(self) -> None:
        """Make the scheduled jobs match the pins: one per pinned, wrapped context."""
        if not self._scheduler.running:
            return
        wanted = self._board.wanted(time.time(), self._scheduler.has, self._backoff)
        self._scheduler.keep_only(set(wanted))
        for name, plan in wanted.items():
            if plan.at is not None:
                self._scheduler.at(name, plan.at, if_moved=True)

    def _beat(self) -> None:
        """Heartbeat: notice sleep/clock jumps and changed files; a full re-read now and then."""
        last, self._clocks = self._clocks, _clocks()
        self._beats += 1
        self._live.touch()
        jump = policy.jump_event(policy.clock_jump(last, self._clocks))
        if jump:
            self._out.event(jump)
            self.sync("clock jump")
            return
        changed = self._world.signature() != self._board.signature
        why = policy.routine_sync(self._beats, changed)
        if why is not None:
            self.sync(why)
        if why == "":
            cache_admin.housekeeping_if_due()  # one stat unless due (every few hours); never raises

    def _run(self, name: str, forced: bool = False) -> None:
        """One scheduled refresh of pinned context ``name`` (or a forced one from the menu)."""
        board = self._board
        with board.lock:
            target = board.targets.get(name)
            state = board.states.get(name)
            run = board.runtime.setdefault(name, policy.IDLE)
            if target is None or state is None or state.phase == PAUSED:
                return  # paused: only the user's Refresh now (which approves) lifts it
            if not policy.should_run(state.pinned, run, forced):
                return
            values = board.values
            why = cache_stats.RECENT if name in board.recent else "bg"
        now = time.time()
        current = self._world.stored_expiry(target, now)
        if not forced and current is not None and policy.already_fresh(values, *current, now):
            expires, lifetime = current  # someone refreshed it meanwhile, or it is still good
            if board.end_episode(name):  # kubectl finds a good credential: the episode is over
                self._out.event(f"{name}: the stored credential is good; failure episode over")
            self._set(name, "", expires=expires)
            self._scheduler.at(name, expires - refresh_lead(values, lifetime))
            return
        self._set(name, REFRESHING)
        done = attempt.refresh(target, why)
        ok = done.outcome.ok
        with board.lock:
            pinned = name in board.pins if ok else state.pinned and name not in board.recent
            verdict = policy.judge(
                board.runtime.get(name, policy.IDLE), ok=ok,
                needs_login=done.outcome.needs_login, reason=done.outcome.reason,
                attempt=done.started, pinned=pinned, now=time.time(), values=values,
                expires=done.expires, lifetime=done.lifetime, steps=self._backoff,
            )  # fmt: skip
            board.runtime[name] = verdict.run
        self._report(name, target, verdict, done.took, done.expires)

    def _report(
        self, name: str, target: Target, verdict: policy.Verdict, took: float, expires: float
    ) -> None:
        """Show, log and (once per episode) notify a refresh's verdict; plan the next one."""
        if verdict.kind == policy.OK:
            self._out.verdict(name, target, verdict, took, expires)
            self._set(name, "", expires=expires)
        else:  # shown failing first, then logged and notified
            self._set(name, verdict.run.phase, reason=verdict.run.reason)
            self._out.verdict(name, target, verdict, took, expires)
        if verdict.retry_at is not None:
            self._scheduler.at(name, verdict.retry_at)

    def _set(self, name: str, phase: str, reason: str = "", expires: float | None = None) -> None:
        """Show a context's running phase ('' = as the store says) and tell the menu."""
        if self._board.show(name, phase, reason, expires):
            self._publish()
            self._out.changed()

    def _publish(self) -> None:
        """Write the live phases for ``kubewarm pins`` while running (never raises)."""
        if self._scheduler.running:
            self._live.publish(self.states())


def _clocks() -> policy.Clocks:
    return policy.Clocks(time.time(), time.monotonic())
