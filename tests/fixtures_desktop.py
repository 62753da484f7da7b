"""Desktop fixtures: a real X session for the tray app, started here and ended by PID.

``desktop`` (session-wide): Xvfb on a display it picks itself (``-displayfd``), a private
D-Bus session bus, dunst as the notification daemon (each notification recorded through a
dunst rule script), and trayer as the system-tray host. ``tray_app`` starts ``kubewarm`` (the
real console script) on it and waits until the icon is embedded. Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fixtures_core import kill_pid, require
from tests.shim_helpers import wait_for

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TOOLS = ("Xvfb", "dbus-daemon", "dunst", "trayer", "xdotool", "import", "xwininfo")
SCREEN = (1024, 640)


def _children(pid: int) -> list[int]:
    """PIDs whose parent is ``pid`` (processes D-Bus activated, say)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split(b" ")
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.1):
    """Poll ``predicate`` until it returns something truthy, at most ``timeout`` seconds."""
    return wait_for(predicate, timeout, interval)


@dataclass
class Desktop:
    """Handle on the running X session."""

    display: str
    env: dict[str, str]  # the full environment for tools run on this desktop
    session: dict[str, str]  # only what names the session: DISPLAY, the bus …
    notification_log: Path
    pids: list[int] = field(default_factory=list)

    def run(self, *argv: str, check: bool = True, timeout: float = 20) -> str:
        result = subprocess.run(
            list(argv), env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def xdotool(self, *args: str, check: bool = True) -> str:
        return self.run("xdotool", *args, check=check)

    def screenshot(self, name: str) -> Path:
        """Save the whole screen as ``test-artifacts/<name>.png``."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.run("import", "-window", "root", str(path))
        return path

    def tray_geometry(self) -> tuple[int, int, int, int] | None:
        """(x, y, width, height) of trayer's panel window, or None."""
        out = self.xdotool("search", "--onlyvisible", "--name", "^panel$", check=False).split()
        for window in out:
            geometry = self.xdotool("getwindowgeometry", "--shell", window, check=False)
            values = dict(line.split("=", 1) for line in geometry.splitlines() if "=" in line)
            try:
                x, y = int(values["X"]), int(values["Y"])
                w, h = int(values["WIDTH"]), int(values["HEIGHT"])
            except (KeyError, ValueError):
                continue
            if w > 1 and h > 1:
                return x, y, w, h
        return None

    def notifications(self) -> list[str]:
        """Every notification dunst received so far, as 'summary|body' lines."""
        if not self.notification_log.exists():
            return []
        return [ln for ln in self.notification_log.read_text().split("\x1e\n") if ln]


def _start(argv: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, **kwargs)


@pytest.fixture(scope="session")
def desktop(tmp_path_factory):
    """Xvfb + D-Bus session + dunst + trayer, for the whole test session."""
    require(sys.platform.startswith("linux"), "Linux (Xvfb)")
    for tool in TOOLS:
        require(shutil.which(tool) is not None, f"{tool} (tests/install-system-deps.sh)")
    with running_desktop(tmp_path_factory.mktemp("desktop")) as handle:
        yield handle


@contextmanager
def running_desktop(work: Path, tray_host: bool = True) -> Iterator[Desktop]:
    """Start the X session in ``work`` (also used by bench/bench_tray_idle.py), with trayer as
    the tray host unless ``tray_host`` is False; every process is ended by PID on exit."""
    procs: list[subprocess.Popen] = []
    bus_pid = 0
    try:
        read_fd, write_fd = os.pipe()
        xvfb = _start(
            [
                "Xvfb",
                "-displayfd",
                str(write_fd),
                "-screen",
                "0",
                f"{SCREEN[0]}x{SCREEN[1]}x24",
                "-nolisten",
                "tcp",
                "-noreset",
            ],
            dict(os.environ),
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(xvfb)
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number.isdigit():
            raise RuntimeError("Xvfb did not report a display number")
        display = f":{number}"
        base = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DBUS_SESSION_BUS_ADDRESS", "WAYLAND_DISPLAY", "XDG_CURRENT_DESKTOP")
        }
        runtime = work / "runtime"
        runtime.mkdir(mode=0o700)
        base.update(DISPLAY=display, NO_AT_BRIDGE="1", XDG_RUNTIME_DIR=str(runtime))
        bus = _start(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            base,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        procs.append(bus)
        bus_pid = bus.pid
        assert bus.stdout is not None  # stdout=PIPE
        address = bus.stdout.readline().strip()
        if not address:
            raise RuntimeError("dbus-daemon did not print its address")
        env = {**base, "DBUS_SESSION_BUS_ADDRESS": address}
        log = work / "notifications.log"
        recorder = work / "record-notification.sh"
        recorder.write_text(
            f'#!/bin/sh\nprintf "%s|%s\\036\\n" "$2" "$3" >> "{log}"\n', encoding="utf-8"
        )
        recorder.chmod(0o755)
        dunstrc = work / "dunstrc"
        dunstrc.write_text(
            '[global]\n    font = DejaVu Sans 9\n    geometry = "360x5-10+40"\n'
            f'[record]\n    summary = "*"\n    script = {recorder}\n',
            encoding="utf-8",
        )
        procs.append(
            _start(
                ["dunst", "-config", str(dunstrc)],
                env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        if tray_host:
            procs.append(
                _start(
                    [
                        "trayer",
                        "--edge", "top", "--align", "right", "--widthtype", "request",
                        "--height", "28", "--SetDockType", "true", "--transparent", "true",
                        "--alpha", "0", "--tint", "0x2b2b2b", "--iconspacing", "4",
                    ],
                    env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip
        session = {k: env[k] for k in ("DISPLAY", "NO_AT_BRIDGE", "XDG_RUNTIME_DIR")}
        session["DBUS_SESSION_BUS_ADDRESS"] = address
        handle = Desktop(display, env, session, log, [p.pid for p in procs])
        if tray_host and not wait_until(handle.tray_geometry, timeout=15):
            raise RuntimeError("trayer did not map its panel")
        if not wait_until(lambda: _name_owned(handle, "org.freedesktop.Notifications")):
            raise RuntimeError("dunst did not take the notification bus name")
        yield handle
    finally:
        extra = _children(bus_pid) if bus_pid else []
        for proc in reversed(procs):
            if proc.pid == bus_pid:
                for pid in extra:
                    kill_pid(pid)
            kill_pid(proc.pid)
            if proc.stdout is not None:
                proc.stdout.close()


def _name_owned(desktop: Desktop, name: str) -> bool:
    out = desktop.run(
        "dbus-send",
        "--session",
        "--print-reply",
        "--dest=org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus.NameHasOwner",
        f"string:{name}",
        check=False,
    )
    return "boolean true" in out


@dataclass
class TrayApp:
    """A running ``kubewarm`` tray process on the test desktop."""

    proc: subprocess.Popen
    desktop: Desktop
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def icon_center(self, timeout: float = 10.0) -> tuple[int, int]:
        deadline = time.monotonic() + timeout  # trayer maps and sizes its panel lazily
        geometry = self.desktop.tray_geometry()
        while geometry is None and time.monotonic() < deadline:
            time.sleep(0.2)
            geometry = self.desktop.tray_geometry()
        assert geometry is not None, "trayer has no panel"
        x, y, w, h = geometry
        return x + w // 2, y + h // 2

    def click_icon(self, button: int = 1) -> None:
        x, y = self.icon_center()
        self.desktop.xdotool("mousemove", str(x), str(y), "click", str(button))

    def windows(self) -> list[tuple[int, int, int, int]]:
        """(x, y, width, height) of every visible kubewarm window (icon, menu, tooltip)."""
        found = self.desktop.xdotool(
            "search", "--onlyvisible", "--classname", "^kubewarm$", check=False
        ).split()
        shown = []
        for window in found:
            out = self.desktop.xdotool("getwindowgeometry", "--shell", window, check=False)
            values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
            try:
                shown.append(
                    (
                        int(values["X"]),
                        int(values["Y"]),
                        int(values["WIDTH"]),
                        int(values["HEIGHT"]),
                    )
                )
            except (KeyError, ValueError):
                continue
        return shown

    def menu_window(self) -> tuple[int, int, int, int] | None:
        """(x, y, width, height) of the open popup menu (a visible kubewarm window larger than
        a tray icon), or None."""
        return next(((x, y, w, h) for x, y, w, h in self.windows() if w >= 100 and h >= 60), None)

    def choose(self, index: int, sub_index: int | None = None, shot: str = "") -> None:
        """Open the menu with a click and pick the ``index``-th enabled item (and in its
        submenu the ``sub_index``-th enabled one) with the keyboard, as a user would."""
        self.click_icon()
        assert wait_until(self.menu_window, 10), "the menu did not open"
        time.sleep(0.3)
        keys = ["Down"] * (index + 1)
        if sub_index is not None:
            keys += ["Right"] + ["Down"] * sub_index
        self.desktop.xdotool("key", "--delay", "80", *keys)
        time.sleep(0.3)
        if shot:
            self.desktop.screenshot(shot)
        self.desktop.xdotool("key", "Return")
        wait_until(lambda: self.menu_window() is None, 5)


@pytest.fixture
def tray_app(desktop, kw_env, tmp_path):
    """Start ``kubewarm`` (no arguments: the tray app) on the test desktop; returns a factory
    taking extra environment; the process is killed by PID at teardown."""
    started: list[TrayApp] = []
    kubewarm = Path(sys.executable).parent / "kubewarm"
    require(kubewarm.exists(), "the kubewarm console script in the test venv")

    def start(extra_env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> TrayApp:
        log = tmp_path / f"tray-{len(started)}.log"
        env = {**kw_env, **desktop.session, **(extra_env or {})}
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [str(kubewarm), *args], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        app = TrayApp(proc, desktop, log)
        started.append(app)
        return app

    yield start
    for app in started:
        kill_pid(app.proc.pid)
