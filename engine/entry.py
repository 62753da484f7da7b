"""A cached credential as stored: one header line, then the plugin's bytes unchanged.

    kubewarm1 <expires> <obtained> <explicit> <sha256 of payload>\\n<payload>

``expires``/``obtained`` are Unix seconds; ``explicit`` is 1 when the plugin gave an
``expirationTimestamp`` and 0 when kubewarm applied its default TTL. Implemented in ``hotpath``
(the shim decodes an entry on every call).
"""

from __future__ import annotations

from kubewarm.engine.hotpath import MAGIC, BadEntry, Entry, decode

__all__ = ["MAGIC", "BadEntry", "Entry", "decode"]
