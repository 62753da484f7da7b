"""The file store: one 0600 file per entry in a 0700 directory under the user's cache dir.

The shim's hit path reads entries with ``hotpath.read_file_entry`` (same layout). The
directory is refused when another user owns it or others may write to it; an entry file that
another user owns or others may read is treated as absent (and replaced on the next write).
"""

from __future__ import annotations

import os

from kubewarm.engine.hotpath import (
    ENTRY_SUFFIX,
    META_SUFFIX,
    check_private_dir,
    file_store_dir,
    read_private_file,
)
from kubewarm.engine.stores import StoreUnavailable

_POSIX = os.name == "posix"
check_dir = check_private_dir


def store_dir() -> str:
    return file_store_dir()


class FileStore:
    """Entries as files; see the module docstring."""

    name = "file"

    def __init__(self, directory: str | None = None) -> None:
        self.directory = directory or store_dir()

    def describe(self) -> str:
        return "kubewarm's file store"

    def _path(self, key: str, suffix: str) -> str:
        if not key or not all(c in "0123456789abcdef" for c in key):
            raise ValueError("cache keys are lowercase hex")
        return os.path.join(self.directory, key + suffix)

    def _checked(self) -> None:
        try:
            check_dir(self.directory)
        except FileNotFoundError:
            return

    def _ensure_dir(self) -> None:
        try:
            check_dir(self.directory)
        except FileNotFoundError:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            if _POSIX:
                os.chmod(self.directory, 0o700)
            check_dir(self.directory)

    def read(self, key: str) -> bytes | None:
        self._checked()
        return read_private_file(self._path(key, ENTRY_SUFFIX))

    def read_meta(self, key: str) -> bytes | None:
        self._checked()
        return read_private_file(self._path(key, META_SUFFIX))

    def _write(self, path: str, data: bytes) -> None:
        self._ensure_dir()
        # lazy: start-up (on the hit path: atomic_write loads tempfile, ~8 ms)
        from kubewarm.engine.core.atomic_write import write_atomic

        try:
            write_atomic(path, data, mode=0o600)
        except OSError as exc:
            raise StoreUnavailable(f"cannot write {path}: {exc.strerror}") from exc

    def write(self, key: str, blob: bytes) -> None:
        self._write(self._path(key, ENTRY_SUFFIX), blob)

    def write_meta(self, key: str, data: bytes) -> None:
        self._write(self._path(key, META_SUFFIX), data)

    def delete(self, key: str) -> None:
        for suffix in (ENTRY_SUFFIX, META_SUFFIX):
            try:
                os.unlink(self._path(key, suffix))
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise StoreUnavailable(f"cannot delete {key[:12]}: {exc.strerror}") from exc

    def list_keys(self) -> list[str]:
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        found = {
            name.rsplit(".", 1)[0]
            for name in names
            if name.endswith((ENTRY_SUFFIX, META_SUFFIX)) and not name.startswith(".")
        }
        return sorted(found)
