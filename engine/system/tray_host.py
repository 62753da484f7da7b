"""Is there a tray host to show kubewarm's icon? (stock GNOME without the AppIndicator extension
has none: the icon is then invisible and nothing else would say so.)

Two kinds of host exist on Linux desktops: a StatusNotifierItem host, present when someone owns
``org.kde.StatusNotifierWatcher`` on the session bus (KDE, the GNOME AppIndicator extension,
waybar …), and an XEmbed system tray, present when someone owns the X selection
``_NET_SYSTEM_TRAY_S<screen>`` (XFCE, MATE, trayer, stalonetray …). Either one shows the icon.
Each is asked directly (the lean stdlib D-Bus client of the keyring reader; libX11 through
ctypes), and :func:`decide` turns the two answers into a verdict, so the rule is testable alone.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from kubewarm.engine.stores import StoreUnavailable
from kubewarm.engine.stores.secret_service_lean import Bus, _str

WATCHER = "org.kde.StatusNotifierWatcher"
TIMEOUT = 2.0  # seconds for the D-Bus question: a stuck bus must not hold up the tray or doctor
FOUND, MISSING, UNKNOWN = "found", "missing", "unknown"
ADVICE = (
    "install and enable the AppIndicator extension (GNOME: `sudo apt install"
    " gnome-shell-extension-appindicator`, then enable 'AppIndicator and KStatusNotifierItem"
    " Support' in Extensions and log in again), or run `kubewarm tray --no-icon` to keep pinned"
    " contexts warm without an icon"
)


@dataclass(frozen=True)
class TrayHost:
    """The verdict: ``status`` is found, missing or unknown; ``detail`` says what was seen."""

    status: str
    detail: str
    advice: str = ""
    watcher: bool | None = None  # the two answers, for the tray's choice of backend
    xembed: bool | None = None

    @property
    def xembed_only(self) -> bool:
        """Only an XEmbed tray: GTK's own status icon suits it better than an AppIndicator
        (which would fall back to the same status icon, without a tooltip, and trip a
        Gdk-CRITICAL assertion when its menu pops up)."""
        return bool(self.xembed) and not self.watcher


def decide(watcher: bool | None, xembed: bool | None) -> TrayHost:
    """The verdict from the two answers (None: that host could not be asked)."""
    if watcher:
        return TrayHost(
            FOUND, f"a StatusNotifierItem host ({WATCHER}) is running", "", watcher, xembed
        )
    if xembed:
        return TrayHost(
            FOUND, "an XEmbed system tray (_NET_SYSTEM_TRAY_S*) is running", "", watcher, xembed
        )
    if watcher is False and xembed is False:
        return TrayHost(
            MISSING,
            "no tray host is running (no StatusNotifierWatcher on D-Bus, no XEmbed system"
            " tray on X11): the icon is invisible",
            ADVICE,
            watcher,
            xembed,
        )
    return TrayHost(
        UNKNOWN,
        "cannot tell whether a tray host is running (a check could not run)",
        "",
        watcher,
        xembed,
    )


def detect(environ: Mapping[str, str] | None = None) -> TrayHost:
    """Ask the session bus and the X server (Linux and BSD; elsewhere the OS always has one)."""
    env = os.environ if environ is None else environ
    if sys.platform == "darwin" or os.name == "nt":
        return TrayHost(FOUND, "the system's menu bar / notification area")
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return TrayHost(UNKNOWN, "no graphical session here (DISPLAY is not set)")
    return decide(watcher_present(env), xembed_present(env))


def watcher_present(environ: Mapping[str, str]) -> bool | None:
    """Whether ``org.kde.StatusNotifierWatcher`` has an owner on the session bus; False without
    a session bus (no host can be there), None when the bus could not be asked."""
    if not environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return False
    try:
        bus = Bus(environ, TIMEOUT)
    except StoreUnavailable:
        return None
    try:
        body = bytearray()
        _str(body, WATCHER)
        serial = bus.call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "NameHasOwner",
            "s",
            bytes(body),
        )
        answer = bus.result(serial)
    except (StoreUnavailable, OSError, ValueError):
        return None
    finally:
        bus.close()
    return bool(answer and answer[0])


def xembed_present(environ: Mapping[str, str]) -> bool | None:
    """Whether the XEmbed tray selection of the default screen has an owner; False without an
    X display (Wayland only), None when libX11 or the display cannot be opened."""
    display_name = environ.get("DISPLAY", "")
    if not display_name:
        return False
    try:
        x11 = ctypes.CDLL("libX11.so.6")
    except OSError:
        return None
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XDefaultScreen.argtypes = [ctypes.c_void_p]
    x11.XDefaultScreen.restype = ctypes.c_int
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XGetSelectionOwner.restype = ctypes.c_ulong
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = x11.XOpenDisplay(display_name.encode())
    if not display:
        return None
    try:
        name = f"_NET_SYSTEM_TRAY_S{x11.XDefaultScreen(display)}".encode()
        atom = x11.XInternAtom(display, name, 1)  # only_if_exists: no atom, no owner
        # (atom 0 would make Xlib's default error handler exit the process)
        return bool(atom) and x11.XGetSelectionOwner(display, atom) != 0
    finally:
        x11.XCloseDisplay(display)
