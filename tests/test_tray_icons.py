"""The tray icons: installed with the package, one per state and size, distinct from each other,
legible at 16–32 px on light and dark panels, and what packaging/draw_icons.py draws."""

from __future__ import annotations

import importlib.util
from importlib.resources import files
from itertools import combinations
from pathlib import Path

import pytest
from kubewarm.tray import icons
from PIL import Image, ImageChops, ImageStat

from tests.fixtures_desktop import ARTIFACTS

ROOT = Path(__file__).resolve().parent.parent
LIGHT, DARK = (240, 240, 240), (36, 36, 36)
SMALL = (16, 22, 32)


def _drawing():
    spec = importlib.util.spec_from_file_location(
        "draw_icons", ROOT / "packaging" / "draw_icons.py"
    )
    if spec is None or spec.loader is None or not (ROOT / "packaging" / "draw_icons.py").exists():
        pytest.fail("packaging/draw_icons.py is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _on(panel: tuple[int, int, int], image: Image.Image) -> Image.Image:
    background = Image.new("RGBA", image.size, (*panel, 255))
    return Image.alpha_composite(background, image).convert("RGB")


def _luminance(rgb) -> float:
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


@pytest.mark.parametrize("state", icons.STATES)
def test_every_state_and_size_is_installed(state):
    for size in icons.SIZES:
        path = files("kubewarm.icons").joinpath(f"kubewarm-{state}-{size}.png")
        assert path.is_file(), f"{path} is not installed (pyproject package-data)"
        with Image.open(str(path)) as image:
            assert image.size == (size, size) and image.mode == "RGBA"
    assert icons.image(state).size == (icons.default_size(),) * 2


def test_shipped_pngs_are_what_the_script_draws():
    draw = _drawing()
    assert tuple(draw.STATES) == icons.STATES and tuple(draw.SIZES) == icons.SIZES
    for state in icons.STATES:
        for size in icons.SIZES:
            with Image.open(icons.path(state, size)) as shipped:
                diff = ImageChops.difference(shipped.convert("RGBA"), draw.draw(state, size))
            bands = [band for band in diff.getextrema() if isinstance(band, tuple)]
            assert len(bands) == 4  # RGBA: a (low, high) pair per band
            worst = max(high for _, high in bands)
            assert worst <= 8, f"{state} {size}px differs from the script: run it again"


@pytest.mark.parametrize("size", SMALL)
def test_states_are_distinct(size):
    for a, b in combinations(icons.STATES, 2):
        for panel in (LIGHT, DARK):
            one = _on(panel, icons.image(a, size))
            two = _on(panel, icons.image(b, size))
            mean = sum(ImageStat.Stat(ImageChops.difference(one, two)).mean) / 3
            assert mean > 12, f"{a} and {b} look alike at {size}px ({mean:.1f})"


@pytest.mark.parametrize("size", SMALL)
@pytest.mark.parametrize("state", icons.STATES)
def test_legible_on_light_and_dark_panels(state, size):
    image = icons.image(state, size)
    for panel in (LIGHT, DARK):
        shown = _on(panel, image).tobytes()
        pixels = [shown[i : i + 3] for i in range(0, len(shown), 3)]
        standing_out = sum(abs(_luminance(p) - _luminance(panel)) > 40 for p in pixels)
        assert standing_out >= 0.2 * size * size, f"{state} {size}px fades into {panel}"
    if state != "idle":  # the white glyph survives the downscale
        data = image.tobytes()
        white = sum(
            1 for i in range(0, len(data), 4) if min(data[i : i + 3]) > 200 and data[i + 3] > 200
        )
        assert white >= 0.05 * size * size, f"{state} {size}px: the glyph is lost"


def test_preview_sheet_for_eyes():
    """Writes test-artifacts/icons-preview.png: every state at 16/22/32/64 px on both panels."""
    ARTIFACTS.mkdir(exist_ok=True)
    sheet = _drawing().preview()
    sheet.save(ARTIFACTS / "icons-preview.png")
    assert sheet.width > 400
