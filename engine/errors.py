"""The project's errors (kept out of ``hotpath``: creating exception classes costs start-up
time that a cache hit never needs). Every error kubewarm raises on purpose is a
:class:`KubewarmError`, so an adaptor (CLI, tray) can catch them all and print one line."""


class KubewarmError(Exception):
    """Base of kubewarm's own errors: the message is one line meant for the user."""


class StoreUnavailable(KubewarmError):
    """The store cannot be used now (locked, unreachable, unsafe); the message says why."""


class BadEntry(KubewarmError, ValueError):
    """The stored bytes are not a well-formed entry (corrupt, truncated, foreign)."""
