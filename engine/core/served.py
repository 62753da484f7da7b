"""Remembering which kubectl process was served which credential, to spot a rejected token.

client-go tells a plugin nothing when the API server answers 401: it runs the plugin again in
the same kubectl process. The shim records, per key, the calling process (PID + start time +
executable, so gcloud's dispatcher exec'ing a versioned kubectl in the same PID is a different
caller) and the credential it got; the same process asking again while the cache still holds
that credential means it was rejected. The hit-path half lives in ``hotpath``.
"""

from __future__ import annotations

import os
import time

from kubewarm.engine.hotpath import caller_identity, marker_dir, was_served
from kubewarm.engine.hotpath import mark_served as mark

__all__ = ["caller_identity", "mark", "marker_dir", "prune", "was_served"]


def prune(max_age: float = 3600.0) -> int:
    """Delete markers older than ``max_age`` seconds; returns how many went."""
    removed = 0
    cutoff = time.time() - max_age
    try:
        entries = list(os.scandir(marker_dir()))
    except OSError:
        return 0
    for item in entries:
        try:
            if item.stat().st_mtime < cutoff:
                os.unlink(item.path)
                removed += 1
        except OSError:
            continue
    return removed
