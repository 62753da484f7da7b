"""A cached credential as stored: one header line, then the plugin's bytes unchanged.

    kubewarm1 <expires> <obtained> <explicit> <sha256 of payload>\\n<payload>

``expires``/``obtained`` are Unix seconds; ``explicit`` is 1 when the plugin gave an
``expirationTimestamp`` and 0 when kubewarm applied its default TTL (kubectl then receives the
payload without any invented expiry). The checksum makes a torn or tampered entry detectable,
so a broken entry is never served. The shim parses entries with ``hotpath.parse_entry``.
"""

from __future__ import annotations

from kubewarm.engine.errors import BadEntry
from kubewarm.engine.hotpath import MAGIC, parse_entry, sha256

__all__ = ["MAGIC", "BadEntry", "Entry", "decode"]


class Entry:
    """A cached credential. ``payload`` is the ExecCredential exactly as the plugin printed it."""

    __slots__ = ("digest", "expires", "explicit", "obtained", "payload")

    def __init__(
        self, payload: bytes, expires: float, obtained: float, explicit: bool, digest: str = ""
    ) -> None:
        self.payload = payload
        self.expires = expires
        self.obtained = obtained
        self.explicit = explicit
        self.digest = digest or sha256(payload).hexdigest()

    def encode(self) -> bytes:
        header = b"%s %d %d %d %s\n" % (
            MAGIC,
            int(self.expires),
            int(self.obtained),
            1 if self.explicit else 0,
            self.digest.encode("ascii"),
        )
        return header + self.payload

    @property
    def lifetime(self) -> float:
        return max(self.expires - self.obtained, 1.0)


def decode(blob: bytes) -> Entry:
    """Parse and verify a stored entry; raise :class:`BadEntry` on anything unexpected."""
    return Entry(*parse_entry(blob))
