"""``kubewarm-exec PLUGIN [ARGS...]`` / ``python -m kubewarm.engine.shim``: the shim's entry.

The hit path itself is ``hotpath`` (one module, import budget at its top); everything beyond a
fresh hit is in ``credentials``.
"""

from kubewarm.engine.hotpath import main

__all__ = ["main"]

if __name__ == "__main__":
    main()
