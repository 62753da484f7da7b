"""Errors shared by the stores and the shim (kept out of ``hotpath``: creating exception
classes costs start-up time that a cache hit never needs)."""


class StoreUnavailable(Exception):
    """The store cannot be used now (locked, unreachable, unsafe); the message says why."""


class BadEntry(ValueError):
    """The stored bytes are not a well-formed entry (corrupt, truncated, foreign)."""
