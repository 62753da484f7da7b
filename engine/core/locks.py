"""Cross-process per-key locks that the OS releases when their holder dies."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kubewarm.engine.core import paths


def lock_dir() -> str:
    return os.path.join(paths.cache_dir(), "locks")


def _try_lock(fd: int, blocking: bool) -> bool:
    if os.name == "nt":  # pragma: no cover - exercised by the Windows CI job
        import msvcrt  # lazy: platform-only

        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                return True
            except OSError:
                if not blocking:
                    return False
                time.sleep(0.05)
    import fcntl  # lazy: platform-only

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        return True
    except BlockingIOError:
        return False


@contextmanager
def hold(key: str, blocking: bool = True) -> Iterator[bool]:
    """Hold the lock for ``key``; yields False if not blocking and another process holds it.

    If no lock file can be made (unwritable cache dir), yields True without a lock: the
    shim must not fail where the plugin alone would work.
    """
    try:
        os.makedirs(lock_dir(), mode=0o700, exist_ok=True)
        fd = os.open(os.path.join(lock_dir(), key[:32] + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield True
        return
    try:
        acquired = _try_lock(fd, blocking)
        yield acquired
    finally:
        os.close(fd)  # closing releases the lock
