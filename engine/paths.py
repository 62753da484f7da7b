"""Where kubewarm keeps its files, computed without importing platformdirs.

The results equal ``platformdirs`` with ``appname="kubewarm", appauthor=False`` (a test holds
that); ``KUBEWARM_CONFIG_DIR`` / ``KUBEWARM_CACHE_DIR`` override them. The functions the shim
needs live in ``hotpath`` (one module keeps the hit path's start-up small).
"""

from __future__ import annotations

import os

from kubewarm.engine.hotpath import APP, cache_dir, config_dir, settings_file

__all__ = ["APP", "cache_dir", "config_dir", "log_dir", "settings_file"]


def log_dir() -> str:
    """Directory of kubewarm's log file (tray and background refreshes)."""
    return os.path.join(cache_dir(), "log")
