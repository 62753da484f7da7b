"""Where kubewarm keeps its files, computed without importing platformdirs.

Lean on purpose: the shim's hit path calls this on every kubectl invocation. The results
equal ``platformdirs`` with ``appname="kubewarm", appauthor=False`` (a test holds that), and
``KUBEWARM_CONFIG_DIR`` / ``KUBEWARM_CACHE_DIR`` override them.
"""

from __future__ import annotations

import os
import sys

APP = "kubewarm"


def _home() -> str:
    return os.path.expanduser("~")


def config_dir() -> str:
    """Directory of the settings file (pins and settings)."""
    override = os.environ.get("KUBEWARM_CONFIG_DIR")
    if override:
        return override
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(_home(), "AppData", "Local")
        return os.path.join(base, APP)
    if sys.platform == "darwin":
        return os.path.join(_home(), "Library", "Application Support", APP)
    base = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.join(_home(), ".config")
    return os.path.join(base, APP)


def cache_dir() -> str:
    """Directory of the file store, lock files and served-credential markers."""
    override = os.environ.get("KUBEWARM_CACHE_DIR")
    if override:
        return override
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(_home(), "AppData", "Local")
        return os.path.join(base, APP, "Cache")
    if sys.platform == "darwin":
        return os.path.join(_home(), "Library", "Caches", APP)
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.join(_home(), ".cache")
    return os.path.join(base, APP)


def settings_file() -> str:
    return os.path.join(config_dir(), "settings.conf")


def log_dir() -> str:
    """Directory of kubewarm's log file (tray and background refreshes)."""
    return os.path.join(cache_dir(), "log")
