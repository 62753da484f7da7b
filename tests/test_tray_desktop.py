"""The tray app on a real X desktop (Xvfb + trayer + dunst): icon, menu, and menu actions."""

from __future__ import annotations

from tests.fixtures_core import fake_plugin_argv
from tests.fixtures_desktop import wait_until
from tests.tray_helpers import write_config


def test_icon_appears(tray_app, kw_env, tmp_path):
    write_config(tmp_path / "home" / ".kube" / "config", {"alice": fake_plugin_argv()})
    app = tray_app()
    geometry = wait_until(lambda: (g := app.desktop.tray_geometry()) and g[2] >= 16 and g, 20)
    app.desktop.screenshot("tray-icon")
    print(geometry, app.output())
    assert geometry
