"""Where kubewarm keeps its files, computed without importing platformdirs.

The results equal ``platformdirs`` with ``appname="kubewarm", appauthor=False`` (a test holds
that); ``KUBEWARM_CONFIG_DIR`` / ``KUBEWARM_CACHE_DIR`` override them. The functions the shim
needs live in ``hotpath`` (one module keeps the hit path's start-up small).
"""

from __future__ import annotations

import os
import sys

from kubewarm.engine.hotpath import APP, cache_dir, config_dir, settings_file

__all__ = [
    "APP",
    "cache_dir",
    "config_dir",
    "data_dir",
    "log_dir",
    "neutral_dir",
    "settings_file",
]


def log_dir() -> str:
    """Directory of kubewarm's log file (tray and background refreshes)."""
    return os.path.join(cache_dir(), "log")


def data_dir() -> str:
    """kubewarm's data directory: the injector's launcher and kubeconfig backups
    (``KUBEWARM_DATA_DIR`` overrides)."""
    override = os.environ.get("KUBEWARM_DATA_DIR")
    if override:
        return override
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
        return os.path.join(base, APP)
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Application Support", APP)
    base = os.environ.get("XDG_DATA_HOME", "").strip() or os.path.join(home, ".local", "share")
    return os.path.join(base, APP)


def neutral_dir() -> str:
    """The working directory of every process kubewarm starts: the file system's root, so that
    nothing in the folder a user happens to be in (a ``json.py``, a ``.env``) can be picked up."""
    return os.path.abspath(os.sep)
