"""Warm without pinning: which contexts count as *used recently* by kubectl.

With ``KUBEWARM_WARM_RECENT`` on, the warmer keeps warm, beside the pinned contexts, every
wrapped context whose credential kubectl was served in the last few days, so that even an
unpinned context's plugin never runs on kubectl's critical path after its first use.

What counts is decided by pure functions of (served markers, refresh targets, time): the shim's
served markers say when kubectl was last answered under each key (``target.last_served``), and
each context's refresh target names the key the warmer would refresh (the recipe the shim
recorded, mapped to the context through its kubeconfig user). A context counts only when the
warmer would refresh exactly the credential kubectl used, so the setting never runs a plugin
kubectl did not run. A recently used context that failed or needs a login drops out until a
fresh credential ends that episode (``settle``): it is not retried behind the user's back.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from kubewarm.engine.contexts.state import FAILED, NEEDS_LOGIN, ContextState
from kubewarm.engine.contexts.target import Target, last_served

SETTING = "KUBEWARM_WARM_RECENT"
DEFAULT_DAYS = 3.0  # what "on" means: used in the last three days
MAX_DAYS = 30.0  # the served markers are kept no longer (``served.prune``)
DAY = 86400.0
LABEL = "kept warm: used recently"


def window_days(values: Mapping[str, str]) -> float:
    """The setting in days: 0 when off; ``on`` (or ``yes``, ``true``, ``1``) is
    ``DEFAULT_DAYS``; a number of days, capped at ``MAX_DAYS``. Anything else is off: an
    unreadable value never starts plugins."""
    raw = str(values.get(SETTING, "") or "").strip().lower()
    if raw in ("", "off", "no", "false", "0"):
        return 0.0
    if raw in ("on", "yes", "true", "1"):
        return DEFAULT_DAYS
    try:
        days = float(raw)
    except ValueError:
        return 0.0
    if not 0 < days < float("inf"):
        return 0.0
    return min(days, MAX_DAYS)


def recently_used(
    served: Mapping[str, float],
    targets: Mapping[str, Target],
    now: float,
    days: float,
    exclude: Iterable[str] = (),
) -> list[str]:
    """Contexts (sorted) whose refresh target's key kubectl was served within ``days`` of
    ``now``; ``served`` maps a key's first 32 hex digits to when (``last_served``). Contexts
    in ``exclude`` (the pinned ones) and targets not replayed from a recipe (never used
    through kubewarm in a matching way) do not count."""
    if days <= 0:
        return []
    cutoff = now - days * DAY
    skip = set(exclude)
    return sorted(
        name
        for name, target in targets.items()
        if name not in skip
        and target.source == "recipe"
        and cutoff <= served.get(target.key[:32], 0.0) <= now + DAY
    )


def mark(states: Mapping[str, ContextState], used: Iterable[str]) -> dict[str, ContextState]:
    """``states`` with the recently used contexts marked as such (the menu's "kept warm: used
    recently"); they are already pinned for the warmer."""
    chosen = set(used)
    return {n: replace(s, recent=True) if n in chosen else s for n, s in states.items()}


def settle(
    pins: Sequence[str], recent: Iterable[str], states: Mapping[str, ContextState]
) -> tuple[list[str], dict[str, ContextState]]:
    """(pins, states) without the recently used contexts that failed or need a login (their
    ``states`` carry the warmer's running phase): not kept warm, not counted as pinned."""
    dropped = {n for n in recent if n in states and states[n].phase in (FAILED, NEEDS_LOGIN)}
    shown = {
        n: replace(s, pinned=False, recent=False) if n in dropped else s for n, s in states.items()
    }
    return [n for n in pins if n not in dropped], shown


def read(
    values: Mapping[str, str],
    targets: Mapping[str, Target],
    pinned: Iterable[str] = (),
    now: float | None = None,
) -> list[str]:
    """``recently_used`` with the served markers read now ([] without a directory read when
    the setting is off)."""
    days = window_days(values)
    if days <= 0:
        return []
    return recently_used(last_served(), targets, time.time() if now is None else now, days, pinned)
