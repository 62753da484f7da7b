"""One warmer per user: the tray and ``kubewarm tray --no-icon`` hold an exclusive lock file.

The OS releases the lock when the holder exits or crashes, so a stale file never blocks a new
start. The holder writes its PID into the file, so a second instance can say which one runs.
"""

from __future__ import annotations

import os

from kubewarm.engine.core import paths
from kubewarm.engine.core.safe_files import open_private, private_dir
from kubewarm.engine.errors import KubewarmError


class AlreadyRunning(KubewarmError):
    """Another kubewarm tray or warmer holds the lock; the message says which."""

    def __init__(self, pid: int | None, path: str) -> None:
        self.pid = pid
        self.path = path
        which = f" (pid {pid})" if pid else ""
        super().__init__(f"kubewarm is already running{which}; lock file {path}")


_NT_LOCK_OFFSET = 4096


def lock_path() -> str:
    return os.path.join(paths.cache_dir(), "tray.lock")


def _lock(fd: int) -> bool:
    if os.name == "nt":  # pragma: no cover - exercised by the Windows CI job
        import msvcrt  # lazy: platform-only

        os.lseek(fd, _NT_LOCK_OFFSET, os.SEEK_SET)  # lock a byte past the PID: it stays readable
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl  # lazy: platform-only

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _holder(path: str) -> int | None:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            text = fh.read(32).strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class InstanceLock:
    """The lock, held from :meth:`acquire` until :meth:`release` (or process exit)."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or lock_path()
        self._fd: int | None = None

    def acquire(self) -> InstanceLock:
        """Take the lock or raise :class:`AlreadyRunning`."""
        private_dir(os.path.dirname(self.path))
        fd = open_private(self.path, os.O_RDWR | os.O_CREAT)
        if not _lock(fd):
            os.close(fd)
            raise AlreadyRunning(_holder(self.path), self.path)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".ljust(16).encode("ascii"))
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
