"""Opening kubewarm's own files and folders so that nobody else can redirect them.

kubewarm runs inside people's shells and writes under their cache, config and data folders.
Another local user, or a hostile checkout, could plant a symlink where kubewarm expects its log,
a lock or a marker, so that a write lands in a file of the attacker's choosing. So every file
kubewarm writes is opened with ``O_NOFOLLOW`` (a symlink in its place fails the open), and
every folder it creates is made 0700 and checked to be the user's own and writable by nobody
else (ssh's StrictModes is the model).
"""

from __future__ import annotations

import os

from kubewarm.engine import hotpath
from kubewarm.engine.errors import KubewarmError, StoreUnavailable

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


class UnsafePath(KubewarmError):
    """A folder kubewarm would use cannot be made, is someone else's, or others can write to it."""


def check_private_dir(path: str) -> None:
    """Raise :class:`UnsafePath` unless ``path`` is a folder that the user owns and nobody else
    can write to; FileNotFoundError when it does not exist. A symlink to such a folder is fine
    (people move ``~/.cache``): what it points to is what is checked (by the hit path's own
    check, so both always agree)."""
    try:
        hotpath.check_private_dir(path)
    except StoreUnavailable as exc:
        raise UnsafePath(str(exc)) from None
    if not os.path.isdir(path):
        raise UnsafePath(f"{path} is not a folder")


def private_dir(path: str) -> str:
    """Create ``path`` (and missing parents) with mode 0700 if needed, then check it as
    :func:`check_private_dir` does; returns ``path``. Raises :class:`UnsafePath`."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        check_private_dir(path)
    except OSError as exc:
        raise UnsafePath(f"cannot use {path}: {exc.strerror or exc}") from None
    return path


def open_private(path: str, flags: int, mode: int = 0o600) -> int:
    """``os.open`` that never follows a symlink at ``path`` and does not leak into children."""
    return os.open(path, flags | NOFOLLOW | _CLOEXEC | _BINARY, mode)
