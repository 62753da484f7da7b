"""Credential stores: one module per store, a chooser in ``choice``.

Kept import-free (the shim's hit path loads it); the store interface is in ``base``.
"""


class StoreUnavailable(Exception):
    """The store cannot be used now (locked, unreachable, unsafe); the message says why."""
