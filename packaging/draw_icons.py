"""Draw kubewarm's tray icons with Pillow and write them to ``icons/``.

    python packaging/draw_icons.py [--out DIR] [--preview FILE]

One image per state and size: ``kubewarm-<state>-<size>.png``; and the application icon
(``kubewarm-<size>.png`` 16…512, ``kubewarm.icns``, ``kubewarm.ico``) that Briefcase puts in
the packages. States:

- ``warm``: every pinned context is warm: an amber disc with a white check mark;
- ``refreshing``: a refresh is running: a blue disc with a white circular arrow;
- ``failing``: a pinned context cannot be refreshed or needs a login: a red warning
  triangle with a white exclamation mark (a different shape, not only a different colour);
- ``idle``: nothing pinned: a grey ring.

The fills are mid-tone colours with a darker rim, so every icon stands out on light and dark
panels alike; each is drawn at 8x and downsampled, with stroke widths that never fall below
about 1.6 px, so the glyphs stay legible at 16 px. ``--preview`` writes a sheet of every icon
on a light and a dark panel, for eyes. Run it after changing this file and commit the PNGs
(a test holds that they match).
"""

from __future__ import annotations

import argparse
import math
import os
import sys

from PIL import Image, ImageDraw

STATES = ("warm", "refreshing", "failing", "idle")
SIZES = (16, 22, 24, 32, 48, 64, 128)
APP_SIZES = (16, 32, 64, 128, 256, 512)  # the app icon at every size Briefcase asks for
SCALE = 8

FILL = {
    "warm": (232, 113, 10),  # amber
    "refreshing": (26, 115, 232),  # blue
    "failing": (217, 48, 37),  # red
    "idle": (128, 134, 139),  # grey
}
WHITE = (255, 255, 255, 255)
LIGHT_PANEL = (240, 240, 240)
DARK_PANEL = (36, 36, 36)


def _darker(rgb: tuple[int, int, int], factor: float = 0.62) -> tuple[int, int, int, int]:
    r, g, b = rgb
    return int(r * factor), int(g * factor), int(b * factor), 255


def _stroke(size: int, fraction: float, minimum: float = 1.6) -> int:
    """A stroke width in supersampled pixels: ``fraction`` of the icon, at least ``minimum`` px."""
    return round(max(size * fraction, minimum) * SCALE)


def _disc(draw: ImageDraw.ImageDraw, size: int, fill: tuple[int, int, int]) -> tuple[float, float]:
    """A filled disc with a darker rim; returns (centre, radius) in supersampled pixels."""
    big = size * SCALE
    inset = 0.5 * SCALE
    draw.ellipse((inset, inset, big - inset, big - inset), fill=_darker(fill))
    rim = max(size * 0.06, 1.0) * SCALE
    draw.ellipse(
        (inset + rim, inset + rim, big - inset - rim, big - inset - rim), fill=(*fill, 255)
    )
    return big / 2, big / 2 - inset


def _check(draw: ImageDraw.ImageDraw, size: int, c: float, r: float) -> None:
    width = _stroke(size, 0.13)
    points = [
        (c - r * 0.46, c + r * 0.02),
        (c - r * 0.12, c + r * 0.38),
        (c + r * 0.50, c - r * 0.36),
    ]
    draw.line(points, fill=WHITE, width=width, joint="curve")
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=WHITE)


def _arrow(draw: ImageDraw.ImageDraw, size: int, c: float, r: float) -> None:
    width = _stroke(size, 0.12)
    ring = r * 0.54
    box = (c - ring, c - ring, c + ring, c + ring)
    draw.arc(box, start=-60, end=220, fill=WHITE, width=width)
    # arrowhead at the arc's end (angle 220° clockwise from 3 o'clock in image coordinates)
    angle = math.radians(-60)
    tip_x, tip_y = c + ring * math.cos(angle), c + ring * math.sin(angle)
    head = width * 1.35
    draw.polygon(
        [
            (tip_x - head, tip_y - head * 0.15),
            (tip_x + head * 0.95, tip_y - head * 0.55),
            (tip_x + head * 0.15, tip_y + head * 1.05),
        ],
        fill=WHITE,
    )


def _warning(draw: ImageDraw.ImageDraw, size: int, fill: tuple[int, int, int]) -> None:
    """A warning triangle with rounded corners, as wide as the canvas, and a white '!'."""
    big = size * SCALE
    corner = big * 0.09  # radius of the rounded corners
    pad = 0.4 * SCALE + corner
    top, bottom = pad + big * 0.02, big - pad - big * 0.03
    outer = [(big / 2, top), (big - pad, bottom), (pad, bottom)]
    dark = _darker(fill)
    draw.polygon(outer, fill=dark)
    draw.line([*outer, outer[0]], fill=dark, width=round(corner * 2), joint="curve")
    for x, y in outer:
        draw.ellipse((x - corner, y - corner, x + corner, y + corner), fill=dark)
    cx, cy = big / 2, (top + 2 * bottom) / 3  # centroid
    shrink = 1 - max(size * 0.07, 1.0) * SCALE / (cy - top)
    inner = [(cx + (x - cx) * shrink, cy + (y - cy) * shrink) for x, y in outer]
    draw.polygon(inner, fill=(*fill, 255))
    draw.line(
        [*inner, inner[0]], fill=(*fill, 255), width=round(corner * 2 * shrink), joint="curve"
    )
    width = _stroke(size, 0.16, 2.0)
    stem_top, stem_bottom = big * 0.33, big * 0.60
    draw.line([(cx, stem_top), (cx, stem_bottom)], fill=WHITE, width=width)
    draw.ellipse(
        (cx - width / 2, stem_top - width / 2, cx + width / 2, stem_top + width / 2), fill=WHITE
    )
    dot = width * 0.6
    dot_y = big * 0.765
    draw.ellipse((cx - dot, dot_y - dot, cx + dot, dot_y + dot), fill=WHITE)


def _ring(draw: ImageDraw.ImageDraw, size: int, fill: tuple[int, int, int]) -> None:
    big = size * SCALE
    pad = 1.0 * SCALE
    width = _stroke(size, 0.15, 2.2)
    draw.ellipse((pad, pad, big - pad, big - pad), outline=(*fill, 255), width=width)
    dot = max(size * 0.12, 1.4) * SCALE
    c = big / 2
    draw.ellipse((c - dot, c - dot, c + dot, c + dot), fill=(*fill, 255))


def draw(state: str, size: int) -> Image.Image:
    """The ``state`` icon at ``size`` x ``size`` pixels (RGBA)."""
    big = Image.new("RGBA", (size * SCALE, size * SCALE), (0, 0, 0, 0))
    canvas = ImageDraw.Draw(big)
    fill = FILL[state]
    if state == "warm":
        c, r = _disc(canvas, size, fill)
        _check(canvas, size, c, r)
    elif state == "refreshing":
        c, r = _disc(canvas, size, fill)
        _arrow(canvas, size, c, r)
    elif state == "failing":
        _warning(canvas, size, fill)
    elif state == "idle":
        _ring(canvas, size, fill)
    else:
        raise ValueError(f"unknown icon state {state!r}")
    return big.resize((size, size), Image.Resampling.LANCZOS)


def file_name(state: str, size: int) -> str:
    return f"kubewarm-{state}-{size}.png"


def preview(sizes=(16, 22, 32, 64), zoom: int = 4) -> Image.Image:
    """Every state at ``sizes`` on a light and a dark panel, each pixel ``zoom`` times."""
    gap = 6
    width = sum(s + gap for s in sizes) * len(STATES) + gap
    height = (max(sizes) + 2 * gap) * 2
    sheet = Image.new("RGB", (width, height), LIGHT_PANEL)
    ImageDraw.Draw(sheet).rectangle((0, height // 2, width, height), fill=DARK_PANEL)
    for row, top in enumerate((gap, height // 2 + gap)):
        x = gap
        for state in STATES:
            for size in sizes:
                icon = draw(state, size)
                sheet.paste(icon, (x, top), icon)
                x += size + gap
        del row
    return sheet.resize((width * zoom, height * zoom), Image.Resampling.NEAREST)


def write_all(out: str) -> list[str]:
    os.makedirs(out, exist_ok=True)
    written = []
    for state in STATES:
        for size in SIZES:
            path = os.path.join(out, file_name(state, size))
            draw(state, size).save(path, optimize=True)
            written.append(path)
    return written


def write_app_icons(out: str) -> list[str]:
    """The application's icon (the "warm" glyph) as Briefcase wants it: ``kubewarm-<size>.png``
    for Linux, ``kubewarm.icns`` for macOS, ``kubewarm.ico`` for Windows."""
    os.makedirs(out, exist_ok=True)
    written = []
    for size in APP_SIZES:
        path = os.path.join(out, f"kubewarm-{size}.png")
        draw("warm", size).save(path, optimize=True)
        written.append(path)
    big = draw("warm", 512)
    icns = os.path.join(out, "kubewarm.icns")
    big.save(icns, sizes=[(s, s) for s in APP_SIZES])
    ico = os.path.join(out, "kubewarm.ico")
    big.save(ico, sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    return [*written, icns, ico]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--out", default=os.path.join(here, "icons"))
    parser.add_argument("--preview", metavar="FILE", help="also write a preview sheet")
    ns = parser.parse_args(argv)
    written = write_all(ns.out) + write_app_icons(ns.out)
    print(f"wrote {len(written)} icons to {ns.out}")
    if ns.preview:
        preview().save(ns.preview)
        print(f"preview: {ns.preview}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
