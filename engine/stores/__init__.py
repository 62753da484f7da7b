"""Credential stores: one module per store, a chooser in ``choice``; the interface is in
``base``."""

from kubewarm.engine.errors import StoreUnavailable

__all__ = ["StoreUnavailable"]
