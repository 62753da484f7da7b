"""Cross-process per-key locks that the OS releases when their holder dies."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kubewarm.engine.core import paths
from kubewarm.engine.core.safe_files import UnsafePath, open_private, private_dir


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


def _unlock(fd: int) -> None:
    """Release the lock now rather than at close: Windows may release an msvcrt lock some
    time after its handle closes, and a POSIX flock lives on in any copy of the descriptor (a
    child that inherited it). Never raises: the close that follows is the last resort."""
    try:
        if os.name == "nt":  # pragma: no cover - exercised by the Windows CI job
            import msvcrt  # lazy: platform-only

            os.lseek(fd, 0, os.SEEK_SET)  # msvcrt locks from the current position
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl  # lazy: platform-only

            fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        pass


@contextmanager
def hold(key: str, blocking: bool = True) -> Iterator[bool]:
    """Hold the lock for ``key``; yields False if not blocking and another process holds it.

    If no lock file can be made (an unwritable or unsafe cache dir, a symlink planted in the
    lock's place), yields True without a lock: the shim must not fail where the plugin alone
    would work.
    """
    try:
        private_dir(paths.cache_dir())  # the parent too: nobody else may swap the folder
        directory = private_dir(lock_dir())
        fd = open_private(os.path.join(directory, key[:32] + ".lock"), os.O_RDWR | os.O_CREAT)
    except (OSError, UnsafePath):
        yield True
        return
    acquired = False
    try:
        acquired = _try_lock(fd, blocking)
        yield acquired
    finally:
        if acquired:
            _unlock(fd)
        os.close(fd)
