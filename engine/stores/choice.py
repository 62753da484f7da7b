"""Which store holds the credentials: ``KUBEWARM_STORE=auto|keyring|file``.

``lean_reader`` is for the shim's hit path (no keyring import); ``open_store`` gives the full
store for writes. Both always pick the same store for the same settings.
"""

from __future__ import annotations

from kubewarm.engine.stores import StoreUnavailable

TYPE_CHECKING = False
if TYPE_CHECKING:  # no runtime import: collections.abc costs ~3 ms on the hit path
    from collections.abc import Callable


def wanted(values: dict[str, str]) -> str:
    """The configured store name, validated."""
    name = values.get("KUBEWARM_STORE", "auto").strip().lower() or "auto"
    if name not in ("auto", "keyring", "file"):
        raise StoreUnavailable(f"KUBEWARM_STORE={name!r} is not one of auto, keyring, file")
    return name


def lean_reader(values: dict[str, str]) -> tuple[str, Callable[[str], bytes | None]]:
    """The store's name and a fast read function for the shim's hit path."""
    wanted(values)
    from kubewarm.engine.stores.file_store import FileStore

    return "file", FileStore().read


def open_store(values: dict[str, str]):  # -> Store
    """The full store (reads, writes, deletes, metadata) that ``lean_reader`` reads from."""
    wanted(values)
    from kubewarm.engine.stores.file_store import FileStore

    return FileStore()
