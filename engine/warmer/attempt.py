"""One refresh of a context's credential as the warmer runs it: timed, never raising (an
exception becomes a failed outcome, so that no context stays "refreshing" for good), with the
expiry and lifetime the store holds afterwards (what the policy plans the next refresh from).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from kubewarm.engine.cache import credentials
from kubewarm.engine.contexts.target import Target
from kubewarm.engine.warmer.world import World


@dataclass(frozen=True)
class Attempt:
    """A refresh's outcome, when it started (epoch seconds), how long it took, and the stored
    credential's (expires, lifetime) when it succeeded ((0.0, 0.0) when it failed)."""

    outcome: credentials.Outcome
    started: float
    took: float
    expires: float
    lifetime: float


def refresh(target: Target, why: str) -> Attempt:
    """Run the target's plugin now and store what it gives; ``why`` is counted in the stats."""
    started, clock = time.time(), time.monotonic()
    try:
        outcome = credentials.refresh(
            target.argv, target.env, target.values, key=target.key, why=why
        )
    except Exception as exc:  # never leave a context "refreshing" for good
        outcome = credentials.Outcome(False, target.key, f"{type(exc).__name__}: {exc}")
    took = time.monotonic() - clock
    expires, lifetime = (0.0, 0.0)
    if outcome.ok:
        stored = World.stored_expiry(target, time.time())
        expires, lifetime = stored if stored else (outcome.expires, 0.0)
    return Attempt(outcome, started, took, expires, lifetime)
