"""The one per-context model: what kubewarm knows of a kubeconfig context (never a credential),
read by ``kubewarm status``, ``kubewarm pins`` and the tray, and what the tray says overall.

Two builders fill it: :func:`static_states` (the tray and ``kubewarm pins``: exec contexts,
looked up under the key the tray refreshes) and ``status.statuses`` (``kubewarm status``: every
context, looked up under the key the next kubectl call in this environment computes). The
warmer lays its running phase over the first with :meth:`ContextState.with_phase`.

A context's *phase* is one of: ``warm`` (a valid cached credential), ``cold`` (nothing valid
cached), ``refreshing``, ``failed``, ``needs_login``, ``not_wrapped`` (kubectl does not go
through kubewarm for it), ``missing`` (pinned, but no kubeconfig file defines it) and
``paused`` (pinned, but its plugin changed or its kubeconfig file is not safe: see
``approvals``). The
static part comes from the kubeconfig and the store; the warmer adds the running ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from kubewarm.engine.cache.admin import CachedEntry
from kubewarm.engine.contexts import approvals
from kubewarm.engine.contexts.target import Target, resolve
from kubewarm.engine.core.text import clock, short
from kubewarm.engine.kubeconfig.model import ContextInfo

WARM, COLD, REFRESHING, FAILED = "warm", "cold", "refreshing", "failed"
NEEDS_LOGIN, NOT_WRAPPED, MISSING = "needs_login", "not_wrapped", "missing"
PAUSED = "paused"  # pinned, but not refreshed in the background until the user allows it
PROBLEMS = (FAILED, NEEDS_LOGIN, NOT_WRAPPED, MISSING, PAUSED)

# the icon's states, from least to most urgent
IDLE, ALL_WARM, BUSY, FAILING = "idle", "warm", "refreshing", "failing"


@dataclass(frozen=True)
class ContextState:
    """One context (never a credential). ``phase`` is the one word the tray shows; ``cached``
    is what the store said when the view was built (an unwrapped user may have an entry)."""

    name: str
    user: str = ""
    plugin: str = ""
    pinned: bool = False  # kept warm: pinned by the user, or ``recent``
    phase: str = COLD
    expires: float = 0.0
    reason: str = ""
    key: str = ""
    lifetime: float = 0.0  # of the cached credential, when warm
    obtained: float = 0.0  # when the cached credential was obtained, when warm
    # its user's credentials: exec, token, client-certificate, auth-provider, basic, none;
    # "missing" (the context names no defined user), "" (no kubeconfig defines the context)
    kind: str = "exec"
    wrapped: bool = False  # its kubeconfig user's exec.command is kubewarm's shim
    cached: bool = False  # a valid entry under ``key``
    explicit: bool = True  # the credential named its expiry (else: the default TTL)
    drift: tuple[str, ...] = ()  # why the user is not wrapped the way kubewarm needs
    note: str = ""  # e.g. "cached under another environment", "store unavailable: ..."
    recent: bool = False  # kept warm only because kubectl used it recently (not pinned)
    context: ContextInfo | None = field(default=None, compare=False, repr=False)

    def with_phase(self, phase: str, reason: str = "", expires: float | None = None):
        return replace(
            self, phase=phase, reason=reason, expires=self.expires if expires is None else expires
        )

    def label(self, now: float | None = None) -> str:
        """'warm until 14:32', 'refreshing…', 'failed: exit 3: AccessDenied', 'needs login' …"""
        now = time.time() if now is None else now
        if self.phase == WARM and self.expires > now:
            return "warm until " + clock(self.expires, now)
        if self.phase == REFRESHING:
            return "refreshing…"
        if self.phase == FAILED:
            return "failed: " + short(self.reason or "unknown error")
        if self.phase == NEEDS_LOGIN:
            return "needs login"
        if self.phase == NOT_WRAPPED:
            return self.reason or "not wrapped"
        if self.phase == MISSING:
            return "not in kubeconfig"
        if self.phase == PAUSED:
            return "paused: " + (self.reason or "waiting for you")
        return "not cached"


def exec_contexts(contexts: Iterable[ContextInfo]) -> list[ContextInfo]:
    """The contexts whose user runs an exec credential plugin."""
    return [c for c in contexts if c.user is not None and c.user.kind == "exec"]


def static_states(
    contexts: Sequence[ContextInfo],
    pins: Sequence[str],
    entries: Sequence[CachedEntry],
    values: Mapping[str, str],
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, ContextState], dict[str, Target]]:
    """Every exec context's state from the kubeconfig and the store alone, pinned contexts that
    no kubeconfig defines included; plus the refresh target of each wrapped one."""
    by_key = {e.key: e for e in entries}
    states: dict[str, ContextState] = {}
    targets: dict[str, Target] = {}
    now = time.time()
    for context in exec_contexts(contexts):
        user = context.user
        if user is None:
            continue
        pinned = context.name in pins
        target = resolve(context, entries, values, environ) if user.wrapped else None
        if target is None:
            states[context.name] = ContextState(
                context.name, user.name, user.plugin, pinned, NOT_WRAPPED,
                wrapped=user.wrapped, context=context,
            )  # fmt: skip
            continue
        targets[context.name] = target
        entry = by_key.get(target.key)
        obtained = lifetime = expires = 0.0
        phase = COLD
        if entry is not None and entry.valid and entry.expires > now:
            obtained = float(entry.recipe.get("obtained", 0) or 0)
            lifetime = entry.expires - obtained if 0 < obtained < entry.expires else 0.0
            phase, expires = WARM, entry.expires
        states[context.name] = ContextState(
            context.name, target.user, user.plugin, pinned, phase, expires, "", target.key,
            lifetime, obtained, wrapped=True, cached=phase == WARM, context=context,
            explicit=entry.explicit if entry is not None and phase == WARM else True,
        )  # fmt: skip
    watched = [states[n].context for n in pins if n in targets and states[n].context is not None]
    for name, reason in approvals.review(c for c in watched if c is not None).items():
        states[name] = states[name].with_phase(PAUSED, reason)
    by_name = {c.name: c for c in reversed(contexts)}  # the first definition wins
    for name in pins:
        if name not in states:
            known = by_name.get(name)
            if known is None:
                states[name] = ContextState(name, pinned=True, phase=MISSING, kind="")
                continue
            kind = known.user.kind if known.user is not None else "missing"
            states[name] = ContextState(
                name, pinned=True, phase=NOT_WRAPPED, reason="no exec plugin", kind=kind,
                context=known,
            )  # fmt: skip
    return states, targets


def overall(states: Iterable[ContextState]) -> str:
    """The icon's state: ``failing`` if a pinned context has a problem, else ``refreshing``
    while one refreshes, ``warm`` when pinned contexts are all warm, ``idle`` with no pins."""
    states = list(states)
    pinned = [s for s in states if s.pinned]
    if any(s.phase in PROBLEMS for s in pinned):
        return FAILING
    if any(s.phase == REFRESHING for s in states):
        return BUSY
    if pinned and all(s.phase == WARM for s in pinned):
        return ALL_WARM
    return BUSY if pinned else IDLE


def summary(states: Iterable[ContextState], now: float | None = None) -> str:
    """One line summing up the pinned contexts (the tooltip, and the menu's first line)."""
    now = time.time() if now is None else now
    states = list(states)
    pinned = [s for s in states if s.pinned]
    if not pinned:
        wrapped = [s for s in states if s.phase != NOT_WRAPPED]
        if not states:
            return "No exec-plugin contexts in kubeconfig"
        if not wrapped:
            return "Kubeconfig not wrapped yet: choose Wrap kubeconfig"
        return "Nothing pinned: pin a context to keep it warm"
    problems = [s for s in pinned if s.phase in PROBLEMS]
    if problems:
        first = problems[0]
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return f"{first.name} — {first.label(now)}{more}"
    busy = [s for s in pinned if s.phase in (REFRESHING, COLD)]
    if busy:
        return f"Refreshing {', '.join(s.name for s in busy)}"
    soonest = min(pinned, key=lambda s: s.expires)
    kind = "kept-warm" if any(s.recent for s in pinned) else "pinned"  # not all pinned by you
    count = (
        f"{kind.capitalize()} context" if len(pinned) == 1 else f"All {len(pinned)} {kind} contexts"
    )
    return f"{count} warm (next expiry {clock(soonest.expires, now)})"
