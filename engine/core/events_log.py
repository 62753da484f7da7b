"""kubewarm's own log file (background refreshes, tray): never a token, key or certificate."""

from __future__ import annotations

import os
import time

from kubewarm.engine.core import paths

MAX_BYTES = 1_000_000


def log_file() -> str:
    return os.path.join(paths.log_dir(), "kubewarm.log")


def write(message: str) -> None:
    """Append one timestamped line; rotate to ``kubewarm.log.1`` past 1 MB. Never raises."""
    path = log_file()
    line = time.strftime("%Y-%m-%dT%H:%M:%S%z ") + f"[{os.getpid()}] " + message + "\n"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        try:
            if os.path.getsize(path) > MAX_BYTES:
                os.replace(path, path + ".1")
        except OSError:
            pass
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except OSError:
        pass
