"""``KUBEWARM_DEBUG=1``: one stderr line per decision. Never pass a secret to :func:`log`."""

from __future__ import annotations

from kubewarm.engine.hotpath import debug_enabled as enabled
from kubewarm.engine.hotpath import debug_log as log

__all__ = ["enabled", "log"]
