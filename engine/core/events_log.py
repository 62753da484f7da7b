"""kubewarm's own log file (background refreshes, tray): never a token, key or certificate."""

from __future__ import annotations

import os
import time

from kubewarm.engine.core import paths
from kubewarm.engine.core.safe_files import UnsafePath, open_private, private_dir

MAX_BYTES = 1_000_000


def log_file() -> str:
    return os.path.join(paths.log_dir(), "kubewarm.log")


def write(message: str) -> None:
    """Append one timestamped line; rotate to ``kubewarm.log.1`` past 1 MB. Never raises."""
    path = log_file()
    line = time.strftime("%Y-%m-%dT%H:%M:%S%z ") + f"[{os.getpid()}] " + message + "\n"
    try:
        private_dir(paths.cache_dir())  # the parent too: nobody else may swap the folder
        private_dir(os.path.dirname(path))
        try:
            if os.path.getsize(path) > MAX_BYTES:
                os.replace(path, path + ".1")
        except OSError:
            pass
        fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            os.write(fd, line.encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except (OSError, UnsafePath):
        pass
