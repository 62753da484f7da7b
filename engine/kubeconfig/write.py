"""Writing kubeconfig files safely: all of them or none, each backed up and replaced atomically.

Before anything is written every file is checked (still as planned, writable, its directory
writable, owner keepable) and locked with client-go's ``<file>.lock``, so kubectl does not write
it at the same moment; then each is backed up (private, timestamped, the last
``KUBEWARM_BACKUPS`` kept per file in kubewarm's data directory) and replaced through a temp
file in the same directory (fsync, rename) with its mode and owner. If a write fails, the files
already written are put back.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping, Sequence

from kubewarm.engine.core import settings
from kubewarm.engine.core.atomic_write import write_atomic
from kubewarm.engine.core.paths import data_dir
from kubewarm.engine.errors import KubewarmError
from kubewarm.engine.kubeconfig.files import KubeconfigPath, display


class InjectError(KubewarmError):
    """Inject or restore cannot go ahead; nothing was written. The message says why."""


BACKUPS_SETTING = "KUBEWARM_BACKUPS"  # backups kept per kubeconfig file (default 10)


def backups_to_keep(values: Mapping[str, str] | None = None) -> int:
    """How many backups to keep per file (``KUBEWARM_BACKUPS``, default 10)."""
    values = dict(values) if values is not None else settings.load()
    raw = os.environ.get(BACKUPS_SETTING) or values.get(BACKUPS_SETTING) or "10"
    try:
        return max(int(raw), 1)
    except ValueError:
        return 10


def backup_dir(target: str) -> str:
    """Where backups of kubeconfig ``target`` go (one folder per file)."""
    digest = hashlib.sha256(target.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return os.path.join(data_dir(), "kubeconfig-backups", f"{os.path.basename(target)}-{digest}")


def _backup(target: str, data: bytes, keep: int) -> str:
    folder = backup_dir(target)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    with open(os.path.join(folder, "SOURCE"), "w", encoding="utf-8") as fh:
        fh.write(target + "\n")
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
    path = os.path.join(folder, f"{os.path.basename(target)}.{stamp}")
    write_atomic(path, data, mode=0o600)
    old = sorted(n for n in os.listdir(folder) if n != "SOURCE" and not n.startswith("."))
    for name in old[: max(len(old) - keep, 0)]:
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass
    return path


def _replace(target: str, data: bytes, st: os.stat_result) -> None:
    """Atomically replace ``target``, keeping its mode and owner."""
    write_atomic(target, data, mode=st.st_mode & 0o7777, owner=(st.st_uid, st.st_gid))


class _Locks:
    """client-go's kubeconfig lock files (``<file>.lock``), held while we write."""

    def __init__(self) -> None:
        self.held: list[str] = []

    def take(self, target: str) -> None:
        lock = target + ".lock"
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            raise InjectError(
                f"{display(lock)} exists: kubectl or another tool is changing"
                f" {display(target)}; try again (delete the lock file if nothing is running)"
            ) from None
        except OSError as exc:
            raise InjectError(
                f"kubeconfig {display(target)}: cannot create {display(lock)} ({exc.strerror});"
                " is its directory writable?"
            ) from None
        os.close(fd)
        self.held.append(lock)

    def release(self) -> None:
        for lock in self.held:
            try:
                os.unlink(lock)
            except OSError:
                pass
        self.held.clear()


def _check_writable(target: str) -> None:
    directory = os.path.dirname(target)
    if not os.access(target, os.W_OK):
        raise InjectError(f"kubeconfig {display(target)} is not writable")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InjectError(
            f"kubeconfig {display(target)}: its directory {display(directory)} is not writable"
            " (kubewarm replaces the file atomically, through a new file beside it)"
        )


def write_all(plans: Sequence[tuple[KubeconfigPath, str, str]], keep: int) -> dict[str, str]:
    """Write every ``(file, before, after)`` or none; returns {file: its backup}. Raises
    :class:`InjectError` (with every file as it was) when one cannot be written."""
    backups: dict[str, str] = {}
    if not plans:
        return backups
    locks = _Locks()
    written: list[tuple[str, bytes, os.stat_result]] = []
    try:
        for file, _, _ in plans:
            _check_writable(file.target)
        stats = []
        for file, before, _ in plans:
            target = file.target
            for named in dict.fromkeys((os.path.abspath(file.path), target)):
                locks.take(named)
            try:
                st = os.stat(target)
                with open(target, "rb") as fh:
                    now = fh.read()
            except OSError as exc:
                raise InjectError(f"kubeconfig {display(target)}: {exc.strerror}") from None
            if now != before.encode("utf-8"):
                raise InjectError(
                    f"kubeconfig {display(target)} changed while kubewarm was planning; run again"
                )
            if os.name == "posix" and st.st_uid != os.getuid() and os.getuid() != 0:
                raise InjectError(
                    f"kubeconfig {display(target)} belongs to another user (uid {st.st_uid});"
                    " kubewarm would not be able to keep its owner"
                )
            stats.append(st)
        for file, before, _ in plans:
            try:
                backups[file.target] = _backup(file.target, before.encode("utf-8"), keep)
            except OSError as exc:
                raise InjectError(
                    f"cannot back up {display(file.target)} ({exc.strerror}); nothing written"
                ) from None
        for (file, before, after), st in zip(plans, stats, strict=True):
            try:
                _replace(file.target, after.encode("utf-8"), st)
            except OSError as exc:
                undone = _roll_back(written)
                raise InjectError(
                    f"cannot write {display(file.target)} ({exc.strerror});"
                    f" {undone} — nothing changed"
                ) from None
            written.append((file.target, before.encode("utf-8"), st))
    finally:
        locks.release()
    return backups


def _roll_back(written: list[tuple[str, bytes, os.stat_result]]) -> str:
    failed = []
    for target, data, st in written:
        try:
            _replace(target, data, st)
        except OSError:
            failed.append(display(target))
    if failed:
        return "could not put back " + ", ".join(failed) + " (see its backup)"
    return "files already written were put back" if written else "no file was written"
