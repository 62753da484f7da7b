"""Issue 12, item 8, on the real desktop (Xvfb + trayer): a tray start, a menu opened and an item
chosen print no GTK/GDK critical warning, and hovering the icon shows the summary as a tooltip."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.fixtures_core import fake_plugin_argv
from tests.fixtures_desktop import wait_until
from tests.tray_helpers import kubewarm, write_config

CRITICAL = re.compile(r"(Gdk|Gtk|GLib|GLib-GObject)-(CRITICAL|WARNING)")
EXTRA: dict[str, str] = {}  # the backend kubewarm picks itself (here: gtk, for trayer)


def _config(env: dict, log: Path) -> None:
    write_config(Path(env["HOME"]) / ".kube" / "config", {"prod": fake_plugin_argv(log=log)})


def _title(app) -> str:
    for window in app.desktop.xdotool("search", "--classname", "^kubewarm$", check=False).split():
        name = app.desktop.xdotool("getwindowname", window, check=False).strip()
        if name.startswith("kubewarm: "):
            return name
    return ""


def _tooltip(app) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) of a visible kubewarm popup below the tray panel that is no menu: the
    tooltip (GTK draws it as a small override-redirect window of the same class)."""
    panel = app.desktop.tray_geometry()
    for x, y, w, h in app.windows():
        if panel and y >= panel[1] + panel[3] and w >= 100 and h < 60:
            return x, y, w, h
    return None


@pytest.mark.real
def test_start_menu_and_choice_print_no_gtk_critical(tray_app, kw_env, plugin_log):
    _config(kw_env, plugin_log)
    kubewarm("inject", env=kw_env)
    kubewarm("pin", "prod", env=kw_env)
    app = tray_app(EXTRA)
    assert wait_until(lambda: _title(app).startswith("kubewarm: Pinned context warm"), 20), (
        app.output()
    )
    app.click_icon()
    assert wait_until(app.menu_window, 10), "a click did not open the menu"
    app.desktop.xdotool("key", "Escape")
    assert wait_until(lambda: app.menu_window() is None, 5)
    # enabled items: prod, Switch context, Clear all, Wrap, Restore, Start at login, Open log,
    # Uninstall…, Quit
    runs = len(plugin_log.read_text().splitlines())
    app.choose(2)  # Clear all cached credentials: the pinned context is fetched again
    assert wait_until(lambda: len(plugin_log.read_text().splitlines()) > runs, 15)
    assert wait_until(lambda: _title(app).startswith("kubewarm: Pinned context warm"), 10)
    assert app.proc.poll() is None
    assert not CRITICAL.search(app.output()), app.output()


@pytest.mark.real
def test_hover_shows_the_summary_as_a_tooltip(tray_app, kw_env, plugin_log):
    _config(kw_env, plugin_log)
    app = tray_app(EXTRA)
    summary = "kubewarm: Kubeconfig not wrapped yet: choose Wrap kubeconfig"
    assert wait_until(lambda: _title(app) == summary, 20), app.output()
    x, y = app.icon_center()
    box = None
    for dx in (0, 1, 0):  # GTK shows a tooltip after the pointer rests on the icon
        app.desktop.xdotool("mousemove", str(x + dx), str(y))
        box = wait_until(lambda: _tooltip(app), 4)
        if box:
            break
    shot = app.desktop.screenshot("tray-tooltip")
    assert box, f"no tooltip on hover (see {shot})"
    # one line of the summary at the default font: far wider than an empty or short tooltip
    assert box[2] >= 250, box
    app.desktop.xdotool("mousemove", "10", str(y + 300))
    assert wait_until(lambda: _tooltip(app) is None, 5)
    time.sleep(0.2)
    assert not CRITICAL.search(app.output()), app.output()
