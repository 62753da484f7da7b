"""Crash-safe file replacement: a temp file in the same directory, fsync, rename."""

from __future__ import annotations

import os
import tempfile


def write_atomic(
    path: str, data: bytes, mode: int = 0o600, owner: tuple[int, int] | None = None
) -> None:
    """Replace ``path`` with ``data``; a crash at any instant leaves the old file or the new one.

    ``owner`` (uid, gid) is given to the new file where the system allows it (a kubeconfig
    keeps its owner when root edits it)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".kubewarm-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if owner is not None and os.name == "posix":  # os.fchown is POSIX's
                st = os.fstat(fh.fileno())
                if (st.st_uid, st.st_gid) != owner:
                    os.fchown(fh.fileno(), *owner)
            fchmod = getattr(os, "fchmod", None)  # on Windows only from Python 3.13
            if fchmod is not None:
                fchmod(fh.fileno(), mode)  # the file we wrote, whatever its name now is
            else:  # pragma: no cover - Windows: only the read-only bit exists
                os.chmod(tmp, mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if os.name == "posix":  # a directory opens (and fsyncs) only there; O_DIRECTORY is POSIX's
        try:
            dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        try:
            os.fsync(dfd)
        except OSError:
            pass
        finally:
            os.close(dfd)
