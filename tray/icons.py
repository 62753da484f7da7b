"""The tray icon images: ``kubewarm.icons/kubewarm-<state>-<size>.png`` (see
``packaging/draw_icons.py``), one per overall state."""

from __future__ import annotations

import sys
from functools import lru_cache

STATES = ("warm", "refreshing", "failing", "idle")
SIZES = (16, 22, 24, 32, 48, 64, 128)


def default_size() -> int:
    """The size handed to pystray: panels scale it down; Linux panels are 22–32 px high."""
    return 32 if sys.platform.startswith("linux") else 64


def path(state: str, size: int) -> str:
    # lazy: start-up (importlib.resources, only when an icon is drawn)
    from importlib.resources import files

    if state not in STATES or size not in SIZES:
        raise ValueError(f"no icon for state {state!r} at {size} px")
    return str(files("kubewarm.icons").joinpath(f"kubewarm-{state}-{size}.png"))


@lru_cache(maxsize=16)
def image(state: str, size: int | None = None):
    """The PIL image for ``state`` (loaded once)."""
    from PIL import Image  # lazy: start-up (Pillow, ~50 ms, only when an icon is drawn)

    with Image.open(path(state, size or default_size())) as img:
        img.load()
        return img.convert("RGBA")
