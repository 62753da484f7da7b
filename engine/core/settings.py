"""kubewarm's settings: a flat ``KUBEWARM_NAME=value`` file, overridden by the environment.

The format is deliberately trivial so that the shim's hit path reads it with ``str.partition``
instead of a TOML/YAML/JSON parser (the reader lives in ``hotpath``). Every setting has the
same name in the file and in the environment; the environment wins. ``KUBEWARM_PINS`` holds a
JSON list and is read only by the CLI and the tray.
"""

from __future__ import annotations

import os

from kubewarm.engine.core import paths
from kubewarm.engine.hotpath import DEFAULTS, number
from kubewarm.engine.hotpath import load_settings as load
from kubewarm.engine.hotpath import read_settings_file as read_file

__all__ = ["DEFAULTS", "load", "number", "read_file", "write_value"]


def write_value(name: str, value: str, path: str | None = None) -> None:
    """Set one setting in the file, keeping every other line (and comment) as it was."""
    if name not in DEFAULTS or "\n" in value:
        raise ValueError(f"not a kubewarm setting: {name}")
    target = path or paths.settings_file()
    try:
        with open(target, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        lines = ["# kubewarm settings; environment variables of the same name override them"]
    out, done = [], False
    for line in lines:
        if line.strip().partition("=")[0].strip() == name:
            if not done:
                out.append(f"{name}={value}")
                done = True
            continue
        out.append(line)
    if not done:
        out.append(f"{name}={value}")
    # lazy: start-up (the shim reads settings; only a write needs tempfile)
    from kubewarm.engine.core.atomic_write import write_atomic

    os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
    write_atomic(target, ("\n".join(out) + "\n").encode("utf-8"), mode=0o600)
