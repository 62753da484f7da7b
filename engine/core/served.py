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


def prune(max_age: float = 3600.0, keep_latest: float = 30 * 86400.0) -> int:
    """Delete markers older than ``max_age`` seconds, except each key's newest one, which is
    kept for ``keep_latest`` seconds: it says when kubectl last used that key, which
    ``KUBEWARM_WARM_RECENT`` needs for days (one small file per key); returns how many went."""
    removed = 0
    now = time.time()
    try:
        entries = list(os.scandir(marker_dir()))
    except OSError:
        return 0
    dated = []
    for item in entries:
        try:
            dated.append((item.stat().st_mtime, item))
        except OSError:
            continue
    newest: dict[str, float] = {}
    for mtime, item in dated:
        key = item.name.partition("-")[0]
        newest[key] = max(newest.get(key, 0.0), mtime)
    for mtime, item in dated:
        if mtime >= now - max_age:
            continue
        if mtime == newest[item.name.partition("-")[0]] and mtime >= now - keep_latest:
            continue
        try:
            os.unlink(item.path)
            removed += 1
        except OSError:
            continue
    return removed
