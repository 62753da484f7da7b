"""What the running warmer knows: the last read of the world with each context's running
phase laid over it, under one lock (the menu's thread and the scheduler's read and write it).

The menu's questions are answered here (the contexts and their states, a context's login
command and environment); the ``Warmer`` changes the board only through ``take`` (a fresh
read), ``show`` (a running phase) and the policy's runtimes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kubewarm.engine.contexts import recent
from kubewarm.engine.contexts.state import COLD, NEEDS_LOGIN, PAUSED, WARM, ContextState
from kubewarm.engine.contexts.target import Target
from kubewarm.engine.warmer import login, policy
from kubewarm.engine.warmer.world import Snapshot


@dataclass(frozen=True)
class Change:
    """What taking a fresh read changed, for the report and the log."""

    ended: list[str]  # failure episodes a fresh credential ended
    paused: list[tuple[str, str]]  # (context, reason) newly paused: its plugin changed
    problem: str  # a new problem ('' if none, or the same as before)
    changed: bool  # any context's phase, expiry, pin or reason, or the problem


class Board:
    """The warmer's running state; every field is read and written under ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.states: dict[str, ContextState] = {}
        self.targets: dict[str, Target] = {}
        self.runtime: dict[str, policy.Runtime] = {}
        self.contexts: list = []
        self.pins: list[str] = []
        self.recent: list[str] = []
        self.values: dict[str, str] = {}
        self.problem = ""
        self.signature: tuple = ()

    # --- the menu's questions ----------------------------------------------------------------

    def sorted_states(self) -> list[ContextState]:
        """Every context's state, pinned first, then by name."""
        with self.lock:
            items = list(self.states.values())
        return sorted(items, key=lambda s: (not s.pinned, s.name))

    def lookup(self, name: str) -> tuple[ContextState | None, Target | None]:
        with self.lock:
            return self.states.get(name), self.targets.get(name)

    def login_plan(self, name: str) -> login.LoginPlan | None:
        """The login command for a context that needs login (None: it does not, or unknown)."""
        state, target = self.lookup(name)
        if state is None or target is None or state.phase != NEEDS_LOGIN:
            return None
        return login.plan(target.argv, target.env, state.reason)

    def login_env(self, name: str) -> dict[str, str]:
        """The environment of the context's plugin (its recipe's), else the warmer's own."""
        _, target = self.lookup(name)
        return dict(target.env) if target is not None else dict(os.environ)

    def context_names(self) -> list[str]:
        with self.lock:
            return [c.name for c in self.contexts]

    def pinned_targets(self) -> list[str]:
        """The pinned contexts that can be refreshed (wrapped: they have a target)."""
        with self.lock:
            return [n for n in self.pins if n in self.targets]

    # --- the warmer's changes ----------------------------------------------------------------

    def take(self, snap: Snapshot) -> Change:
        """Replace the last read with ``snap``, keeping the running phases the policy keeps."""
        with self.lock:
            before = {n: (s.phase, s.expires, s.pinned, s.reason) for n, s in self.states.items()}
            old_problem = self.problem
            self.signature = snap.signature
            self.values, self.contexts, self.pins = snap.values, snap.contexts, snap.pins
            self.targets = snap.targets
            merged, self.runtime, ended = policy.overlay_all(snap.states, self.runtime)
            self.recent = snap.recent  # KUBEWARM_WARM_RECENT: no retry, out once it fails
            self.pins, self.states = recent.settle(snap.pins, snap.recent, merged)
            self.problem = "; ".join(snap.problems)
            after = {n: (s.phase, s.expires, s.pinned, s.reason) for n, s in merged.items()}
        paused = [
            (name, state.reason)
            for name, state in merged.items()
            if state.phase == PAUSED and before.get(name, ("",))[0] != PAUSED
        ]
        problem = self.problem if self.problem and self.problem != old_problem else ""
        changed = before != after or old_problem != self.problem
        return Change(ended, paused, problem, changed)

    def wanted(
        self, now: float, retry_pending: Callable[[str], bool], steps: Sequence[float]
    ) -> dict[str, policy.Plan]:
        """The policy's plan for each pinned, wrapped context that wants one."""
        with self.lock:
            wanted: dict[str, policy.Plan] = {}
            for name in self.pins:
                state = self.states.get(name)
                if state is None or name not in self.targets:
                    continue
                plan = policy.plan(
                    state, self.runtime.get(name, policy.IDLE), values=self.values, now=now,
                    retry_pending=retry_pending(name), steps=steps,
                )  # fmt: skip
                if plan is not None:
                    wanted[name] = plan
        return wanted

    def forget(self, name: str) -> None:
        """Drop the context's running phase and failure episode (it was pinned or unpinned)."""
        with self.lock:
            self.runtime.pop(name, None)

    def end_episode(self, name: str) -> bool:
        """Back to idle (a good credential is stored); whether a failure episode was open."""
        with self.lock:
            ended = self.runtime.get(name, policy.IDLE).failures > 0
            self.runtime[name] = policy.IDLE
            return ended

    def show(self, name: str, phase: str, reason: str = "", expires: float | None = None) -> bool:
        """Set a context's running phase ('' = as the store says); whether its state changed."""
        with self.lock:
            run = self.runtime.get(name, policy.IDLE)
            self.runtime[name] = run.with_phase(phase, reason)
            state = self.states.get(name)
            if state is None:
                return False
            if phase:
                new = state.with_phase(phase, reason)
            elif expires:
                new = state.with_phase(WARM, "", expires)
            else:
                new = state.with_phase(COLD)
            self.states[name] = new
            return new != state
