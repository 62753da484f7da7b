"""``KUBEWARM_DEBUG=1``: one stderr line per decision. Never pass a secret to :func:`log`."""

from __future__ import annotations

import os
import sys

_OFF = ("", "0", "false", "no", "off")


def enabled() -> bool:
    return os.environ.get("KUBEWARM_DEBUG", "").strip().lower() not in _OFF


def log(message: str) -> None:
    """Write ``kubewarm: message`` to stderr when debugging is on."""
    if enabled():
        try:
            sys.stderr.write("kubewarm: " + message + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
