"""Start at login: the login item is really written and removed, and its state is read back
from the system. Linux end to end here (an XDG session's autostart, run by dex, starts the
tray on the test desktop); the macOS LaunchAgent and the Windows Run value on their own OS."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kubewarm.engine.system import autostart
from kubewarm.engine.system.single_instance import lock_path

from tests.fixtures_core import kill_pid, require
from tests.fixtures_desktop import wait_until

LINUX = sys.platform.startswith("linux")
linux_only = pytest.mark.skipif(not LINUX, reason="other platform: XDG autostart is Linux's")
macos_only = pytest.mark.skipif(sys.platform != "darwin", reason="other platform: macOS only")
windows_only = pytest.mark.skipif(sys.platform != "win32", reason="other platform: Windows only")


@pytest.fixture
def xdg_home(kw_env, tmp_path, monkeypatch):
    config = tmp_path / "home" / ".config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


def test_launch_command_starts_this_installation():
    command = autostart.launch_command()
    assert command[-1] == "tray"
    assert os.path.isabs(command[0]) and os.path.exists(command[0])
    result = subprocess.run(
        [*command[:-1], "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0 and "kubewarm" in result.stdout


@linux_only
def test_xdg_entry_written_validated_and_removed(xdg_home):
    entry = xdg_home / "autostart" / "kubewarm.desktop"
    assert not autostart.is_enabled()
    message = autostart.set_enabled(True)
    assert str(entry) in message and "will start at login" in message
    assert autostart.is_enabled()
    text = entry.read_text()
    assert "Exec=" + " ".join(autostart.launch_command()) in text  # no quoting needed here
    require(shutil.which("desktop-file-validate") is not None, "desktop-file-validate")
    check = subprocess.run(
        ["desktop-file-validate", str(entry)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    message = autostart.set_enabled(False)
    assert "will not start at login" in message
    assert not entry.exists() and not autostart.is_enabled()
    autostart.set_enabled(False)  # removing what is not there is fine


@linux_only
def test_state_is_read_from_the_system(xdg_home):
    entry = xdg_home / "autostart" / "kubewarm.desktop"
    autostart.set_enabled(True)
    original = entry.read_text()
    # what GNOME Tweaks and other session managers write to switch an entry off
    entry.write_text(original + "Hidden=true\n")
    assert not autostart.is_enabled()
    entry.write_text(
        original.replace("X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-enabled=false")
    )
    assert not autostart.is_enabled()
    entry.write_text(original)
    assert autostart.is_enabled()
    entry.unlink()  # deleted by hand
    assert not autostart.is_enabled()


@linux_only
def test_exec_line_quoting_round_trips_through_glib(xdg_home, tmp_path):
    gio = pytest.importorskip("gi.repository.Gio", reason="needs PyGObject (test extras)")
    GLib = pytest.importorskip("gi.repository.GLib", reason="needs PyGObject (test extras)")

    program = tmp_path / "my apps" / "kube$warm"  # GLib only loads entries whose program exists
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    odd = [str(program), "tray", 'say "hi"', "100%", "back\\slash"]
    item = autostart.XdgAutostart()
    item.enable(odd)
    info = gio.DesktopAppInfo.new_from_filename(item.path)
    assert info is not None, Path(item.path).read_text()
    ok, argv = GLib.shell_parse_argv(info.get_commandline().replace("%%", "%"))
    assert ok and argv == odd


@linux_only
def test_login_item_starts_the_tray_in_a_session(xdg_home, desktop, kw_env):
    """dex runs the autostart entries the way an XDG session does at login."""
    require(shutil.which("dex") is not None, "dex (tests/install-system-deps.sh)")
    autostart.set_enabled(True)
    env = {**os.environ, **desktop.session, "XDG_CONFIG_HOME": str(xdg_home)}
    before = desktop.tray_geometry()
    pid = 0
    try:
        subprocess.run(
            ["dex", "--autostart", "--search-paths", str(xdg_home / "autostart")],
            env=env,
            check=True,
            timeout=30,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pid = wait_until(_lock_holder, timeout=30)
        assert pid, "the login item did not start kubewarm"
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read().split(b"\0")
        assert b"tray" in cmdline
        grown = wait_until(
            lambda: (g := desktop.tray_geometry()) and before and g[2] > before[2], timeout=20
        )
        desktop.screenshot("autostart-tray-started")
        assert grown, "no tray icon appeared"
    finally:
        pid = pid or _lock_holder()
        if pid:
            kill_pid(pid)


def _lock_holder() -> int:
    try:
        text = Path(lock_path()).read_text().strip()
    except OSError:
        return 0
    if not text.isdigit() or not os.path.exists(f"/proc/{text}"):
        return 0
    return int(text)


def test_launch_agent_plist_content(tmp_path):
    """The LaunchAgent's content (plain file work, checked on every OS)."""
    agent = autostart.LaunchAgent(home=str(tmp_path))
    assert not agent.is_enabled()
    agent.enable(["/Applications/kubewarm.app/Contents/MacOS/kubewarm", "tray"])
    with open(agent.path, "rb") as fh:
        doc = plistlib.load(fh)
    assert doc["Label"] == autostart.LABEL
    assert doc["ProgramArguments"] == ["/Applications/kubewarm.app/Contents/MacOS/kubewarm", "tray"]
    assert doc["RunAtLoad"] is True and doc["LimitLoadToSessionType"] == "Aqua"
    assert agent.is_enabled()
    doc["Disabled"] = True
    with open(agent.path, "wb") as fh:
        plistlib.dump(doc, fh)
    assert not agent.is_enabled()
    agent.disable()
    assert not os.path.exists(agent.path) and not agent.is_enabled()


@macos_only
def test_launch_agent_on_macos(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    agent = autostart.login_item()
    assert isinstance(agent, autostart.LaunchAgent)
    assert agent.path.startswith(str(tmp_path))
    autostart.set_enabled(True)
    lint = subprocess.run(["plutil", "-lint", agent.path], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    assert autostart.is_enabled()
    autostart.set_enabled(False)
    assert not os.path.exists(agent.path) and not autostart.is_enabled()


@windows_only
def test_run_value_on_windows():
    assert sys.platform == "win32"  # windows_only above; tells pyright
    import winreg  # lazy: platform-only

    item = autostart.RunKey(value_name="kubewarm-test")
    try:
        assert not item.is_enabled()
        item.enable(["C:\\Program Files\\kubewarm\\pythonw.exe", "-m", "kubewarm.tray", "tray"])
        assert item.command_line() == (
            '"C:\\Program Files\\kubewarm\\pythonw.exe" -m kubewarm.tray tray'
        )
        assert item.is_enabled()
        # Task Manager's Startup tab switches it off with an odd first byte
        with winreg.CreateKeyEx(
            winreg.HKEY_CURRENT_USER, autostart.APPROVED_KEY, 0, winreg.KEY_SET_VALUE
        ) as key:
            winreg.SetValueEx(key, item.value_name, 0, winreg.REG_BINARY, b"\x03" + b"\0" * 11)
        assert not item.is_enabled()
        item.enable(["C:\\kubewarm.exe", "tray"])  # enabling again clears that switch
        assert item.is_enabled()
        item.disable()
        assert item.command_line() is None and not item.is_enabled()
    finally:
        item.disable()
