"""The file store: one 0600 file per entry in a 0700 directory under the user's cache dir.

``read`` is on the shim's hit path, so this module imports only ``os`` at load time. The
directory is refused when another user owns it or others may write to it; an entry file that
another user owns or others may read is treated as absent (and replaced on the next write).
"""

from __future__ import annotations

import os

from kubewarm.engine import paths
from kubewarm.engine.stores import StoreUnavailable

ENTRY_SUFFIX = ".cred"
META_SUFFIX = ".meta"
_POSIX = os.name == "posix"


def store_dir() -> str:
    return os.path.join(paths.cache_dir(), "credentials")


def check_dir(path: str) -> None:
    """Raise StoreUnavailable unless ``path`` is a directory the user alone controls."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise StoreUnavailable(f"cannot stat {path}: {exc.strerror}") from exc
    if not _POSIX:
        return
    if st.st_uid != os.getuid():
        raise StoreUnavailable(f"{path} is owned by uid {st.st_uid}, not by you")
    if st.st_mode & 0o022:
        raise StoreUnavailable(f"{path} is writable by others (mode {st.st_mode & 0o777:o})")


def _read_private(path: str) -> bytes | None:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreUnavailable(f"cannot open {os.path.basename(path)}: {exc.strerror}") from exc
    try:
        st = os.fstat(fd)
        if _POSIX and (st.st_uid != os.getuid() or st.st_mode & 0o077):
            return None
        chunks = []
        while True:
            chunk = os.read(fd, max(st.st_size, 4096) + 1)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


class FileStore:
    """Entries as files; see the module docstring."""

    name = "file"

    def __init__(self, directory: str | None = None) -> None:
        self.directory = directory or store_dir()

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
        return _read_private(self._path(key, ENTRY_SUFFIX))

    def read_meta(self, key: str) -> bytes | None:
        self._checked()
        return _read_private(self._path(key, META_SUFFIX))

    def _write(self, path: str, data: bytes) -> None:
        self._ensure_dir()
        from kubewarm.engine.atomic_write import write_atomic

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
