"""The tray app on a real X desktop (Xvfb, trayer as the tray host, dunst for notifications):
the icon appears and shows the state, a click opens the menu, and choosing items works.
Menu items are chosen the way a keyboard user does (Down skips disabled items and separators,
Right opens a submenu, Return picks). Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.fixtures_core import fake_plugin_argv
from tests.fixtures_desktop import wait_until
from tests.shim_helpers import exec_info, run_shim
from tests.tray_helpers import cred_files, kubewarm, plugin_runs, write_config

AMBER = (232, 113, 10)  # the "warm" icon's fill (packaging/draw_icons.py)
GREY = (128, 134, 139)  # the "idle" icon
RED = (217, 48, 37)  # the "failing" icon


def _colour_pixels(shot: Path, box: tuple[int, int, int, int], rgb, tolerance: int = 40) -> int:
    x, y, w, h = box
    with Image.open(shot) as image:
        data = image.convert("RGB").crop((x, y, x + w, y + h)).tobytes()
    pixels = (data[i : i + 3] for i in range(0, len(data), 3))
    return sum(
        1
        for pixel in pixels
        if all(abs(a - b) <= tolerance for a, b in zip(pixel, rgb, strict=True))
    )


def _icon_title(app) -> str:
    """The tray icon window's title: what pystray shows as its tooltip/accessible name."""
    tree = app.desktop.run("xwininfo", "-root", "-tree", check=False)
    for line in tree.splitlines():
        if '"kubewarm: ' in line:
            return line.split('"', 2)[1]
    return ""


def _shown(app) -> bool:
    geometry = app.desktop.tray_geometry()
    return bool(geometry and geometry[2] >= 16 and _icon_title(app))


def _config(env: dict, log: Path, **users) -> Path:
    argv = fake_plugin_argv(log=log)
    return write_config(
        Path(env["HOME"]) / ".kube" / "config", {n: argv if v else None for n, v in users.items()}
    )


@pytest.mark.real
def test_icon_appears_and_turns_warm_when_pinned_context_is_warmed(tray_app, kw_env, plugin_log):
    _config(kw_env, plugin_log, prod=True)
    kubewarm("inject", env=kw_env)
    kubewarm("pin", "prod", env=kw_env)
    app = tray_app()
    assert wait_until(lambda: _shown(app), 20), app.output()
    assert wait_until(lambda: _icon_title(app).startswith("kubewarm: Pinned context warm"), 20)
    assert len(plugin_runs(plugin_log)) == 1 and len(cred_files(kw_env)) == 1
    shot = app.desktop.screenshot("tray-icon-warm")
    tray = app.desktop.tray_geometry()
    assert _colour_pixels(shot, tray, AMBER) > 40, "the warm (amber) icon is not in the tray"
    assert "(next expiry " in _icon_title(app)


@pytest.mark.real
def test_click_opens_the_menu_and_pin_makes_a_refresh_happen(tray_app, kw_env, plugin_log):
    _config(kw_env, plugin_log, prod=True, static=False)
    kubewarm("inject", env=kw_env)
    app = tray_app()
    assert wait_until(lambda: _shown(app), 20), app.output()
    shot = app.desktop.screenshot("tray-icon-idle")
    assert _colour_pixels(shot, app.desktop.tray_geometry(), GREY) > 20
    assert _icon_title(app) == "kubewarm: Nothing pinned: pin a context to keep it warm"
    app.click_icon()
    menu = wait_until(app.menu_window, 10)
    assert menu, "a click did not open the menu"
    app.desktop.screenshot("tray-menu")
    assert menu[2] > 200 and menu[3] > 200
    app.desktop.xdotool("key", "Escape")
    assert wait_until(lambda: app.menu_window() is None, 5)
    assert plugin_runs(plugin_log) == []
    # enabled items: prod, Switch context, Clear all, Wrap, Restore, Start at login, Open log,
    # Check setup (doctor)…, Uninstall…, Quit
    app.choose(0, sub_index=0, shot="tray-menu-pin")  # prod > Pin (keep warm)
    assert wait_until(lambda: len(plugin_runs(plugin_log)) == 1, 15), app.output()
    assert wait_until(lambda: len(cred_files(kw_env)) == 1, 10)
    settings = Path(kw_env["KUBEWARM_CONFIG_DIR"]) / "settings.conf"
    assert 'KUBEWARM_PINS=["prod"]' in settings.read_text()
    assert wait_until(lambda: _icon_title(app).startswith("kubewarm: Pinned context warm"), 10)
    app.click_icon()
    assert wait_until(app.menu_window, 10)
    app.desktop.screenshot("tray-menu-pinned")
    app.desktop.xdotool("key", "Escape")


@pytest.mark.real
def test_clear_from_the_menu_empties_the_cache(tray_app, kw_env, plugin_log):
    _config(kw_env, plugin_log, prod=True, dev=True)
    kubewarm("inject", env=kw_env)
    argv = fake_plugin_argv(log=plugin_log)
    for name in ("prod", "dev"):
        shim = run_shim(argv, kw_env, KUBEWARM_USER=name, KUBERNETES_EXEC_INFO=exec_info())
        assert shim.returncode == 0, shim.stderr
    assert len(cred_files(kw_env)) == 2
    app = tray_app()
    assert wait_until(lambda: _shown(app), 20), app.output()
    # enabled items: dev, prod, Switch context, Clear all, Wrap, Restore, Start at login, …
    app.choose(1, sub_index=2, shot="tray-menu-clear")  # prod > Clear cached credential
    assert wait_until(lambda: len(cred_files(kw_env)) == 1, 10)
    meta = json.loads(cred_files(kw_env)[0].with_suffix(".meta").read_bytes())
    assert meta["user"] == "dev"
    app.choose(3)  # Clear all cached credentials
    assert wait_until(lambda: cred_files(kw_env) == [], 10)
    assert len(plugin_runs(plugin_log)) == 2  # nothing pinned: nothing fetched again


@pytest.mark.real
def test_wrap_and_restore_from_the_menu(tray_app, kw_env, plugin_log, desktop):
    path = _config(kw_env, plugin_log, alice=True, static=False)
    original = path.read_bytes()
    app = tray_app()
    assert wait_until(lambda: _shown(app), 20), app.output()
    assert _icon_title(app) == "kubewarm: Kubeconfig not wrapped yet: choose Wrap kubeconfig"
    # enabled items: alice, Switch context, Clear all, Wrap, Start at login, Open log,
    # Check setup (doctor)…, Uninstall kubewarm…, Quit
    app.choose(3, shot="tray-menu-wrap")
    assert wait_until(lambda: path.read_bytes() != original, 10)
    assert "kubewarm-exec" in path.read_text() and "KUBEWARM_USER" in path.read_text()
    assert wait_until(lambda: any("Wrapped 1 user" in n for n in desktop.notifications()), 10)
    note = next(n for n in desktop.notifications() if "Wrapped 1 user" in n)
    assert note.startswith("kubewarm: wrap kubeconfig|Wrapped 1 user (alice) in ~/.kube/config.")
    assert "Backup of ~/.kube/config" in note
    app.desktop.screenshot("tray-wrap-notification")
    # now Restore is enabled too: alice, Switch context, Clear all, Wrap, Restore, …
    app.choose(4)
    assert wait_until(lambda: path.read_bytes() == original, 10), path.read_text()
    assert wait_until(lambda: any("Restored 1 user" in n for n in desktop.notifications()), 10)


@pytest.mark.real
def test_start_at_login_then_quit(tray_app, kw_env, plugin_log, tmp_path):
    _config(kw_env, plugin_log, alice=True)
    config_home = tmp_path / "xdg-config"
    app = tray_app({"XDG_CONFIG_HOME": str(config_home)})
    assert wait_until(lambda: _shown(app), 20), app.output()
    entry = config_home / "autostart" / "kubewarm.desktop"
    # enabled items: alice, Switch context, Clear all, Wrap, Start at login, Open log,
    # Check setup (doctor)…, Uninstall kubewarm…, Quit
    app.choose(4)
    assert wait_until(entry.exists, 10)
    assert "Exec=" in entry.read_text() and " tray" in entry.read_text()
    app.click_icon()
    assert wait_until(app.menu_window, 10)
    app.desktop.screenshot("tray-menu-start-at-login")
    app.desktop.xdotool("key", "Escape")
    app.choose(4)
    assert wait_until(lambda: not entry.exists(), 10)
    app.choose(8)  # Quit (after "Uninstall kubewarm…")
    assert app.proc.wait(timeout=15) == 0
    assert wait_until(lambda: (g := app.desktop.tray_geometry()) is None or g[2] < 16, 10)


@pytest.mark.real
def test_gtk_backend_left_click_opens_the_menu_too(tray_app, kw_env, plugin_log):
    _config(kw_env, plugin_log, alice=True)
    app = tray_app({"PYSTRAY_BACKEND": "gtk"})
    assert wait_until(lambda: _shown(app), 20), app.output()
    app.click_icon(button=1)
    assert wait_until(app.menu_window, 10), "left click did not open the gtk menu"
    app.desktop.screenshot("tray-menu-gtk")
    app.desktop.xdotool("key", "Escape")
    app.choose(8)  # Quit (after "Uninstall kubewarm…")
    assert app.proc.wait(timeout=15) == 0


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        line = next(line for line in fh if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _cpu_seconds(pid: int) -> float:
    assert sys.platform != "win32"  # /proc and os.sysconf: the desktop tests run on Linux
    with open(f"/proc/{pid}/stat", "rb") as fh:
        fields = fh.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.real
@pytest.mark.slow
def test_idle_cost_is_small(tray_app, kw_env, plugin_log):
    """A short version of bench/bench_tray_idle.py: RSS <= 80 MB, next to no CPU when idle."""
    _config(kw_env, plugin_log, prod=True, dev=True)
    kubewarm("inject", env=kw_env)
    kubewarm("pin", "prod", "dev", env=kw_env)
    app = tray_app()
    assert wait_until(lambda: _icon_title(app).startswith("kubewarm: All 2 pinned"), 20)
    time.sleep(2)
    cpu, started = _cpu_seconds(app.proc.pid), time.monotonic()
    time.sleep(15)
    used = _cpu_seconds(app.proc.pid) - cpu
    rss = _rss_mb(app.proc.pid)
    print(f"tray idle: RSS {rss:.1f} MB, CPU {used:.2f}s in {time.monotonic() - started:.0f}s")
    assert rss <= 80, f"RSS {rss:.1f} MB"
    assert used <= 0.15, f"{used:.2f}s of CPU in 15 idle seconds"


@pytest.mark.real
@pytest.mark.slow
def test_failing_context_turns_the_icon_red_and_notifies_once(
    tray_app, kw_env, plugin_log, desktop, tmp_path
):
    control = tmp_path / "control.json"
    control.write_text('{"mode": "fail"}')
    argv = fake_plugin_argv(log=plugin_log, control=control)
    write_config(Path(kw_env["HOME"]) / ".kube" / "config", {"prod": argv})
    kubewarm("inject", env=kw_env)
    kubewarm("pin", "prod", env=kw_env)
    before = len(desktop.notifications())
    app = tray_app()
    assert wait_until(
        lambda: _icon_title(app).startswith("kubewarm: prod — failed: fake-plugin: AccessDenied"),
        20,
    )
    shot = app.desktop.screenshot("tray-icon-failing")
    assert _colour_pixels(shot, app.desktop.tray_geometry(), RED) > 20
    assert wait_until(lambda: len(desktop.notifications()) > before, 10)
    # the first retry comes 15 s later; it fails again and notifies nobody
    assert wait_until(lambda: len(plugin_runs(plugin_log)) >= 2, 25)
    time.sleep(1)
    mine = [n for n in desktop.notifications()[before:] if "prod" in n]
    assert len(mine) == 1, mine
    assert mine[0].startswith(
        "kubewarm: cannot refresh prod|python: exit 3: fake-plugin: AccessDenied"
    )
    app.click_icon()
    assert wait_until(app.menu_window, 10)
    app.desktop.screenshot("tray-menu-failing")
    app.desktop.xdotool("key", "Escape")


@pytest.mark.real
def test_switch_context_from_the_menu(tray_app, kw_env, plugin_log, desktop):
    path = _config(kw_env, plugin_log, alice=True, bob=True)
    before = path.read_text()
    assert "current-context: alice" in before
    app = tray_app()
    assert wait_until(lambda: _shown(app), 20), app.output()
    # enabled items: alice, bob, Switch context (alice) > [alice ✓, bob]
    app.choose(2, sub_index=1, shot="tray-menu-switch-context")
    assert wait_until(lambda: "current-context: bob" in path.read_text(), 10), app.output()
    assert path.read_text() == before.replace("current-context: alice", "current-context: bob")
    note = "kubewarm: switch context|Switched to context bob (~/.kube/config)"
    assert wait_until(lambda: note in desktop.notifications(), 10), desktop.notifications()
    app.click_icon()
    assert wait_until(app.menu_window, 10)
    app.desktop.xdotool("key", "Escape")


def test_a_tray_without_a_menu_is_refused_with_what_to_install(kw_env, tmp_path):
    """No PyGObject (or the xorg backend): not a dead icon but the exact packages to install."""
    for how in ("PYSTRAY_BACKEND=xorg has no menu", "PyGObject (the gi module) is not installed"):
        env = {**kw_env, "DISPLAY": ":99"}
        code = "from kubewarm.tray.cli import main; main()"
        if how.startswith("PYSTRAY"):
            env["PYSTRAY_BACKEND"] = "xorg"
        else:
            code = "import sys; sys.modules['gi'] = None; " + code
        result = subprocess.run(
            [sys.executable, "-I", "-c", code], env=env, capture_output=True, text=True,
            timeout=60, cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 1, result.stderr
        assert result.stderr == (
            f"kubewarm: the tray menu cannot work here: {how}.\n"
            "Install what the menu needs (Debian/Ubuntu), then start kubewarm again:\n"
            "  sudo apt-get install gcc python3-dev pkg-config libgirepository1.0-dev"
            " libcairo2-dev gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1\n"
            f"  {sys.executable} -m pip install 'PyGObject<3.51'"
            "   (kubewarm's [linux-tray] extra)\n"
            "Or run `kubewarm tray --no-icon` to keep pinned contexts warm without an icon.\n"
        )


@pytest.mark.real
def test_check_setup_from_the_menu_notifies_the_doctors_findings(tray_app, kw_env, plugin_log):
    """Check setup (doctor)… on the real tray: the doctor's verdict arrives as a notification
    with each problem's fix (alice's user is not wrapped yet: the fix is kubewarm inject)."""
    _config(kw_env, plugin_log, alice=True)
    app = tray_app()
    assert wait_until(lambda: _shown(app), 20), app.output()
    # enabled items: alice, Switch context, Clear all, Wrap, Start at login, Open log,
    # Check setup (doctor)…
    app.choose(6, shot="tray-menu-check-setup")

    def verdict() -> str:
        return next((n for n in app.desktop.notifications() if "kubewarm doctor: " in n), "")

    assert wait_until(verdict, 30), (app.desktop.notifications(), app.output())
    title, _, body = verdict().partition("|")
    assert title.startswith("kubewarm doctor: ") and "problem" in title, verdict()
    assert "alice" in body and "fix: kubewarm inject" in body, body
    app.desktop.screenshot("tray-doctor-notification")
