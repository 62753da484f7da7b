"""What a credential store is. One module per store implements it; ``choice`` picks one.

A store holds opaque entry blobs (see ``engine.entry``) and, beside each, a small metadata
document (the recipe the tray replays and what ``kubewarm status`` shows), both under the hex
cache key. Stores never parse credentials.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from kubewarm.engine.stores import StoreUnavailable

__all__ = ["Store", "StoreUnavailable"]


@runtime_checkable
class Store(Protocol):
    """A place for cached credentials. Every method may raise :class:`StoreUnavailable`."""

    name: str  # "file" or "keyring": what ``kubewarm store`` and the record call it

    def describe(self) -> str:
        """What the user calls the place this store writes to (for messages)."""
        ...  # a protocol method: the body says "no implementation here" to the type checker

    def read(self, key: str) -> bytes | None:
        """The entry blob for ``key``, or None when there is none."""

    def write(self, key: str, blob: bytes) -> None:
        """Store ``blob`` atomically: readers see the old blob or the new one, never a mix."""

    def delete(self, key: str) -> None:
        """Remove the entry and its metadata; a missing one is not an error."""

    def read_meta(self, key: str) -> bytes | None:
        """The metadata document for ``key``, or None."""

    def write_meta(self, key: str, data: bytes) -> None:
        """Store the metadata document for ``key``."""

    def list_keys(self) -> list[str]:
        """Every key that has an entry or metadata."""
        ...
