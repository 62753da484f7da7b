"""Credential stores: one module per store, a chooser in ``choice``; the interface is in
``base``. ``StoreUnavailable`` is defined in ``hotpath`` (the shim's hit path raises it)."""

from kubewarm.engine.hotpath import StoreUnavailable

__all__ = ["StoreUnavailable"]
