"""Start at login: install or remove the OS's login item for the tray app.

- Linux and other XDG desktops: ``$XDG_CONFIG_HOME/autostart/kubewarm.desktop``;
- macOS: a LaunchAgent, ``~/Library/LaunchAgents/dev.kubewarm.tray.plist`` (RunAtLoad);
- Windows: the ``kubewarm`` value under ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``.

Whether it is enabled is always read back from the system (the file or registry value, and the
switches other tools flip: ``Hidden``/``X-GNOME-Autostart-enabled``, the plist's ``Disabled``,
Task Manager's ``StartupApproved`` flag), never remembered by kubewarm.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from kubewarm.engine.errors import KubewarmError
from kubewarm.engine.system.install import current

LABEL = "dev.kubewarm.tray"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
VALUE_NAME = "kubewarm"
APP_DIR = "kubewarm"


class AutostartError(KubewarmError):
    """The login item could not be changed; the message names the file or registry key."""


def launch_command() -> list[str]:
    """How the login item starts the tray: this installation's ``kubewarm tray`` (a Python run
    with ``-I``, so the login session's folder and ``PYTHONPATH`` are never imported from). In
    a Briefcase bundle, the app itself (``install.current()``): its stub runs isolated."""
    installation = current()
    if installation.is_bundle:
        return installation.tray_argv()
    bindir = os.path.dirname(os.path.abspath(sys.executable))
    if sys.platform == "win32":
        pythonw = os.path.join(bindir, "pythonw.exe")  # no console window at login
        if os.path.isfile(pythonw):
            return [pythonw, "-I", "-m", "kubewarm.tray", "tray"]
        script = os.path.join(bindir, "Scripts", "kubewarm.exe")
        if not os.path.isfile(script):
            script = os.path.join(bindir, "kubewarm.exe")
    else:
        script = os.path.join(bindir, "kubewarm")
    if os.path.isfile(script) and os.access(script, os.X_OK):
        return [script, "tray"]
    return [os.path.abspath(sys.executable), "-I", "-m", "kubewarm.tray", "tray"]


# --- Linux / XDG --------------------------------------------------------------------------------


def _desktop_quote(arg: str) -> str:
    """One Exec argument as the Desktop Entry Specification asks: quoted when it holds a
    reserved character, then escaped once more as a string value (a backslash doubles)."""
    arg = arg.replace("%", "%%")
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    for c in ("\\", '"', "`", "$"):
        arg = arg.replace(c, "\\" + c)
    return '"' + arg.replace("\\", "\\\\") + '"'


class XdgAutostart:
    """A ``.desktop`` file in the user's XDG autostart directory."""

    name = "XDG autostart entry"

    def __init__(self, config_home: str | None = None) -> None:
        base = config_home or os.environ.get("XDG_CONFIG_HOME", "").strip()
        self.path = os.path.join(
            base or os.path.expanduser("~/.config"), "autostart", "kubewarm.desktop"
        )

    @property
    def location(self) -> str:
        return self.path

    def _fields(self) -> dict[str, str] | None:
        try:
            with open(self.path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError):
            return None
        fields: dict[str, str] = {}
        section = ""
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Desktop Entry]" and "=" in line and not line.startswith("#"):
                key, _, value = line.partition("=")
                fields.setdefault(key.strip(), value.strip())
        return fields

    def is_enabled(self) -> bool:
        fields = self._fields()
        if fields is None:
            return False
        return not (
            fields.get("Hidden", "").lower() == "true"
            or fields.get("X-GNOME-Autostart-enabled", "").lower() == "false"
        )

    def enable(self, command: Sequence[str]) -> None:
        # lazy: start-up (only enabling writes a file)
        from kubewarm.engine.core.atomic_write import write_atomic

        text = "\n".join(
            [
                "[Desktop Entry]",
                "Type=Application",
                "Name=kubewarm",
                "Comment=Keeps kubectl's exec-plugin credentials warm",
                "Exec=" + " ".join(_desktop_quote(a) for a in command),
                "Icon=" + _icon_path(),
                "Terminal=false",
                "Categories=Utility;",
                "X-GNOME-Autostart-enabled=true",
                "",
            ]
        )
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_atomic(self.path, text.encode("utf-8"), mode=0o644)
        except OSError as exc:
            raise AutostartError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def disable(self) -> None:
        _remove(self.path)


def _icon_path() -> str:
    """The installed 64 px 'warm' icon, for desktop entries (empty when not installed)."""
    try:
        # lazy: start-up (only a desktop entry names the icon)
        from importlib.resources import files

        path = str(files("kubewarm.icons").joinpath("kubewarm-warm-64.png"))
    except (ImportError, ModuleNotFoundError, TypeError):
        return ""
    return path if os.path.isfile(path) else ""


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise AutostartError(f"cannot remove {path}: {exc.strerror or exc}") from None


# --- macOS ---------------------------------------------------------------------------------------


def launch_agent_log_dir(home: str) -> str:
    """Where the LaunchAgent's stdout and stderr go: ``~/Library/Logs/kubewarm``. Not under
    ``~/Library/Caches``, which macOS may purge: launchd fails an agent whose log folder is
    missing at login, so the tray would silently not start."""
    return os.path.join(home, "Library", "Logs", APP_DIR)


def launch_agent_plist(command: Sequence[str], log_dir: str) -> dict[str, object]:
    """The LaunchAgent's property list for ``command``."""
    log = os.path.join(log_dir, "tray.out.log")
    return {
        "Label": LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        "KeepAlive": False,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
        "StandardOutPath": log,
        "StandardErrorPath": log,
    }


class LaunchAgent:
    """A per-user LaunchAgent that runs the tray when the user logs in."""

    name = "LaunchAgent"

    def __init__(self, home: str | None = None) -> None:
        base = home or os.path.expanduser("~")
        self.path = os.path.join(base, "Library", "LaunchAgents", LABEL + ".plist")
        self.log_dir = launch_agent_log_dir(base)

    @property
    def location(self) -> str:
        return self.path

    def _doc(self) -> dict | None:
        import plistlib  # lazy: platform-only (macOS LaunchAgent)

        try:
            with open(self.path, "rb") as fh:
                doc = plistlib.load(fh)
        except (OSError, ValueError, plistlib.InvalidFileException):
            return None
        return doc if isinstance(doc, dict) else None

    def is_enabled(self) -> bool:
        doc = self._doc()
        return bool(doc) and doc.get("Disabled") is not True and bool(doc.get("RunAtLoad"))

    def enable(self, command: Sequence[str]) -> None:
        import plistlib  # lazy: platform-only (macOS LaunchAgent)

        # lazy: start-up (only enabling writes a file)
        from kubewarm.engine.core.atomic_write import write_atomic

        doc = launch_agent_plist(command, self.log_dir)
        try:
            os.makedirs(self.log_dir, mode=0o700, exist_ok=True)
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_atomic(self.path, plistlib.dumps(doc), mode=0o644)
        except OSError as exc:
            raise AutostartError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def disable(self) -> None:
        _remove(self.path)


# --- Windows -------------------------------------------------------------------------------------


def run_key_value(command: Sequence[str]) -> str:
    """The Run value's command line: Windows' own quoting of ``command``."""
    import subprocess  # lazy: start-up (only the Run key needs a command line)

    return subprocess.list2cmdline(list(command))


def startup_approved(value: object) -> bool:
    """Whether a ``StartupApproved\\Run`` value lets the item start: Task Manager's Startup
    tab writes 12 bytes whose first is odd when the user disabled it; absent means allowed."""
    return not (isinstance(value, bytes) and value and value[0] % 2 == 1)


_ONLY_WINDOWS = "the Run registry value exists only on Windows"


class RunKey:
    """A value under ``HKCU\\...\\CurrentVersion\\Run``."""

    name = "Run registry value"

    def __init__(self, value_name: str = VALUE_NAME) -> None:
        self.value_name = value_name

    @property
    def location(self) -> str:
        return f"HKEY_CURRENT_USER\\{RUN_KEY}\\{self.value_name}"

    def _value(self, key_path: str) -> object | None:
        """Our value under ``HKEY_CURRENT_USER\\key_path``, or None (no such key or value)."""
        if sys.platform != "win32":
            raise AutostartError(_ONLY_WINDOWS)
        import winreg  # lazy: platform-only

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key_path) as key:
                value, _ = winreg.QueryValueEx(key, self.value_name)
        except OSError:
            return None
        return value

    def command_line(self) -> str | None:
        """The registered command line, or None."""
        value = self._value(RUN_KEY)
        return None if value is None else str(value)

    def _approved(self) -> bool:
        """False when Task Manager's Startup tab disabled it (odd first byte)."""
        value = self._value(APPROVED_KEY)
        return value is None or startup_approved(value)

    def is_enabled(self) -> bool:
        return self.command_line() is not None and self._approved()

    def enable(self, command: Sequence[str]) -> None:
        if sys.platform != "win32":
            raise AutostartError(_ONLY_WINDOWS)
        import winreg  # lazy: platform-only

        try:
            with winreg.CreateKeyEx(
                winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE
            ) as k:
                winreg.SetValueEx(k, self.value_name, 0, winreg.REG_SZ, run_key_value(command))
        except OSError as exc:
            raise AutostartError(f"cannot write {self.location}: {exc}") from None
        self._forget_approval()

    def disable(self) -> None:
        if sys.platform != "win32":
            raise AutostartError(_ONLY_WINDOWS)
        import winreg  # lazy: platform-only

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as k:
                winreg.DeleteValue(k, self.value_name)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise AutostartError(f"cannot remove {self.location}: {exc}") from None
        self._forget_approval()

    def _forget_approval(self) -> None:
        if sys.platform != "win32":
            raise AutostartError(_ONLY_WINDOWS)
        import winreg  # lazy: platform-only

        try:
            with winreg.OpenKey(
                winreg.HKEY_CURRENT_USER, APPROVED_KEY, 0, winreg.KEY_SET_VALUE
            ) as k:
                winreg.DeleteValue(k, self.value_name)
        except OSError:
            pass


# --- the use cases ---------------------------------------------------------------------------


def login_item(platform: str | None = None):
    """This platform's login item (an :class:`XdgAutostart`, :class:`LaunchAgent` or
    :class:`RunKey`)."""
    platform = platform or sys.platform
    if platform == "win32":
        return RunKey()
    if platform == "darwin":
        return LaunchAgent()
    return XdgAutostart()


def is_enabled() -> bool:
    """Whether the tray starts at login, as the system says now."""
    return login_item().is_enabled()


def set_enabled(enabled: bool) -> str:
    """Install or remove the login item; returns a sentence saying what was done."""
    item = login_item()
    if enabled:
        item.enable(launch_command())
        return f"kubewarm will start at login ({item.name} {item.location})"
    item.disable()
    return f"kubewarm will not start at login (removed {item.name} {item.location})"
