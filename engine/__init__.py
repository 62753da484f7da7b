"""kubewarm's engine: everything that is not GUI. Imports nothing (the shim's hit path loads it)."""

__version__ = "0.1.0"
