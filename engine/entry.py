"""A cached credential as stored: one header line, then the plugin's bytes unchanged.

    kubewarm1 <expires> <obtained> <explicit> <sha256 of payload>\\n<payload>

``expires``/``obtained`` are Unix seconds; ``explicit`` is 1 when the plugin gave an
``expirationTimestamp`` and 0 when kubewarm applied its default TTL (kubectl then receives the
payload without any invented expiry). The checksum makes a torn or tampered entry detectable,
so a broken entry is never served. Lean on purpose: the hit path decodes this on every call.
"""

from __future__ import annotations

from kubewarm.engine.cache_key import sha256

MAGIC = b"kubewarm1"


class BadEntry(ValueError):
    """The stored bytes are not a well-formed entry (corrupt, truncated, foreign)."""


class Entry:
    """A decoded cache entry. ``payload`` is the ExecCredential exactly as the plugin printed it."""

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
    newline = blob.find(b"\n")
    if newline < 0:
        raise BadEntry("no header")
    fields = blob[:newline].split(b" ")
    if len(fields) != 5 or fields[0] != MAGIC:
        raise BadEntry("unknown header")
    payload = blob[newline + 1 :]
    digest = fields[4].decode("ascii", "replace")
    if sha256(payload).hexdigest() != digest:
        raise BadEntry("checksum mismatch")
    try:
        expires, obtained = float(int(fields[1])), float(int(fields[2]))
    except ValueError as exc:
        raise BadEntry("bad timestamps") from exc
    return Entry(payload, expires, obtained, fields[3] == b"1", digest)
