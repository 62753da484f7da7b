"""The pystray icon: shows the warmer's state and turns the menu model into a pystray menu.

All behaviour lives in the engine (``Warmer``) and in ``actions``; this module only draws.
The icon, its tooltip and the menu are updated when the warmer reports a change, and only
when what they show actually differs (an open menu is not rebuilt under the pointer for
nothing).
"""

from __future__ import annotations

import os
import sys
import threading
import time

from kubewarm.engine import __version__
from kubewarm.engine.cache import stats as cache_stats
from kubewarm.engine.core import events_log
from kubewarm.engine.kubeconfig import current_context
from kubewarm.engine.system import autostart, tray_host
from kubewarm.engine.warmer.warmer import Warmer
from kubewarm.tray import icons
from kubewarm.tray.actions import MenuActions
from kubewarm.tray.menu_model import Item, MenuView, build, saved_line

TOOLTIP_MAX = 127  # Windows' limit for a notification-area tooltip
SAVED_EVERY = 60.0  # seconds between reads of the stats counters for the menu's line
HOST_GRACE = 10.0  # seconds a missing tray host may take to appear (both start at login)


class TrayIcon:
    """The tray app: one warmer, one icon, one menu."""

    def __init__(self) -> None:
        self.host = tray_host.detect()
        pystray = _import_pystray("gtk" if self.host.xembed_only else "")
        self._pystray = pystray
        self._lock = threading.RLock()
        self._shown: tuple = ()
        self._menu_signature: tuple = ()
        self._quitting = False
        self._saved: tuple[float, str] | None = None
        self.warmer = Warmer(notify=self.notify, on_change=self.refresh_view)
        self.actions = MenuActions(self.warmer, self.notify, self.quit, self.refresh_view)
        self.icon = pystray.Icon(
            "kubewarm",
            icons.image("idle"),
            "kubewarm",
            menu=pystray.Menu(self._pystray_items),
        )

    # --- running -------------------------------------------------------------------------------

    def run(self) -> None:
        """Show the icon and run the GUI loop until Quit."""
        try:
            self.icon.run(setup=self._setup)
        except Exception as exc:
            if not self._quitting:
                raise
            # The gtk/appindicator backends raise while closing a notification when no
            # notification daemon is running; we are leaving anyway.
            events_log.write(f"tray: ignored while quitting: {type(exc).__name__}: {exc}")
        finally:
            self.warmer.stop()

    def _setup(self, icon) -> None:
        icon.visible = True
        self.warmer.start()
        self.refresh_view()
        events_log.write(f"tray: icon shown ({type(icon).__module__.rsplit('.', 1)[-1]})")
        if self.host.status == tray_host.MISSING:
            threading.Thread(target=self._warn_without_host, name="tray-host", daemon=True).start()

    def _warn_without_host(self) -> None:
        """Say once, on stderr and as a notification, that no tray host shows the icon, unless
        one appears within HOST_GRACE seconds (a panel may start after us at login)."""
        deadline = time.monotonic() + HOST_GRACE
        while time.monotonic() < deadline and not self._quitting:
            time.sleep(1.0)
            self.host = tray_host.detect()
            if self.host.status != tray_host.MISSING:
                events_log.write(f"tray: tray host appeared: {self.host.detail}")
                return
        if self._quitting:
            return
        message = f"{self.host.detail}. To show it, {tray_host.ADVICE}."
        print(f"kubewarm: {message}", file=sys.stderr, flush=True)
        self.notify("kubewarm: no tray host", message)

    def quit(self) -> None:
        self._quitting = True
        self.warmer.stop()
        self.icon.stop()

    # --- showing state -------------------------------------------------------------------------

    def view(self) -> MenuView:
        return MenuView(
            states=self.warmer.states(),
            summary=self.warmer.summary(),
            problem=self.warmer.problem,
            start_at_login=_start_at_login(),
            version=__version__,
            last_result=self.actions.last_result,
            all_contexts=self.warmer.all_contexts(),
            current=_current_context(),
            saved=self._saved_line(),
        )

    def _saved_line(self) -> str:
        """'Saved 14 min this week', read from ``kubewarm stats``' counters at most once a
        minute (the menu is rebuilt far more often)."""
        now = time.monotonic()
        if self._saved is None or now - self._saved[0] > SAVED_EVERY:
            self._saved = (now, saved_line(*cache_stats.saved_this_week()))
        return self._saved[1]

    def refresh_view(self) -> None:
        """Bring icon, tooltip and menu up to date with the warmer (any thread)."""
        with self._lock:
            view = self.view()
            state = self.warmer.overall()
            title = ("kubewarm: " + (view.problem or view.summary))[:TOOLTIP_MAX]
            tooltip = title
            if view.last_result:  # the last action's result: here, not as a menu line
                tooltip = (title + "\n" + view.last_result)[:TOOLTIP_MAX]
            if (state, tooltip) != self._shown:
                if not self._shown or state != self._shown[0]:
                    self.icon.icon = icons.image(state)
                try:
                    self.icon.title = title
                except UnicodeEncodeError:  # a backend that takes Latin-1 titles only
                    self.icon.title = title.replace("—", "-").encode("ascii", "replace").decode()
                self._set_tooltip(tooltip)
                self._shown = (state, tooltip)
            signature = _signature(build(view, self.actions))
            if signature != self._menu_signature:
                self._menu_signature = signature
                self.icon.update_menu()

    def _set_tooltip(self, text: str) -> None:
        """pystray's gtk backend sets only the accessible title; give it a real tooltip."""
        status_icon = getattr(self.icon, "_status_icon", None)
        if status_icon is None:
            return
        from gi.repository import GLib  # lazy: optional dependency (PyGObject, gtk backend)

        GLib.idle_add(lambda: status_icon.set_tooltip_text(text) and False)

    def notify(self, title: str, message: str) -> None:
        """A desktop notification (best effort: the log has every event anyway)."""
        events_log.write(f"tray: notification: {title}: {message}")
        try:
            self.icon.notify(message, title)
        except Exception as exc:
            events_log.write(f"tray: notification failed: {type(exc).__name__}: {exc}")

    # --- the pystray menu ----------------------------------------------------------------------

    def _pystray_items(self):
        items = self._convert(build(self.view(), self.actions))
        pystray = self._pystray
        # Left click on a gtk status icon "activates" it: open the menu, as everywhere else.
        items.append(pystray.MenuItem("Menu", self._popup, default=True, visible=False))
        return items

    def _convert(self, items: list[Item] | tuple[Item, ...]) -> list:
        pystray = self._pystray
        result = []
        for item in items:
            if item.separator:
                result.append(pystray.Menu.SEPARATOR)
                continue
            if item.submenu:
                action = pystray.Menu(*self._convert(item.submenu))
            else:
                action = _guarded(item.action) if item.action else _nothing
            kwargs = {}
            if item.checked is not None:
                kwargs["checked"] = lambda _item, value=item.checked: value
            result.append(pystray.MenuItem(item.text, action, enabled=item.enabled, **kwargs))
        return result

    def _popup(self, icon, _item) -> None:
        status_icon = getattr(icon, "_status_icon", None)
        handler = getattr(icon, "_on_status_icon_popup_menu", None)
        if status_icon is not None and handler is not None:
            handler(status_icon, 1, 0)


def _import_pystray(backend: str = ""):
    """Import pystray (~100 ms; only the tray pays for it) with GDK's OpenGL off, and with
    ``backend`` unless the user chose one (PYSTRAY_BACKEND, read at import too).

    On X11, GDK probes GLX while it opens the display, which maps the Mesa driver and
    libLLVM: ~55 MB of resident memory a tray icon never uses (97 MB -> 41 MB measured).
    GDK reads ``GDK_GL`` once, at that moment; the variable is removed again afterwards so
    that plugins and the log viewer we start do not inherit it.
    """
    ours = {"GDK_GL": "disable"}
    if backend:
        ours["PYSTRAY_BACKEND"] = backend
    ours = {k: v for k, v in ours.items() if k not in os.environ}
    os.environ.update(ours)
    try:
        import pystray  # lazy: GTK reads GDK_GL, set just above, when pystray loads it
    finally:
        for name in ours:
            os.environ.pop(name, None)
    return pystray


def _nothing() -> None:
    return None


def _guarded(action):
    """A menu callback that logs instead of killing the GUI loop when an action fails."""

    def run() -> None:
        try:
            action()
        except Exception as exc:
            events_log.write(f"tray: menu action failed: {type(exc).__name__}: {exc}")
            print(f"kubewarm: {exc}", file=sys.stderr)

    return run


def _start_at_login() -> bool:
    try:
        return autostart.is_enabled()
    except Exception:
        return False


def _current_context() -> str:
    try:
        return current_context.current()
    except Exception:  # a broken kubeconfig: the warmer's problem line says so
        return ""


def _signature(items) -> tuple:
    return tuple((i.text, i.checked, i.enabled, i.separator, _signature(i.submenu)) for i in items)


# What the Linux menu needs, for the message that refuses a tray without one (Debian/Ubuntu
# package names; PyGObject and pycairo have no Linux wheels, so they build from source).
APT_PACKAGES = (
    "gcc python3-dev pkg-config libgirepository1.0-dev libcairo2-dev"
    " gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1"
)
PIP_REQUIREMENT = "PyGObject<3.51"


def install_hint(python: str) -> str:
    """The exact commands that give this installation a working tray menu on Debian/Ubuntu."""
    return (
        "Install what the menu needs (Debian/Ubuntu), then start kubewarm again:\n"
        f"  sudo apt-get install {APT_PACKAGES}\n"
        f"  {python} -m pip install '{PIP_REQUIREMENT}'"
        "   (kubewarm's [linux-tray] extra)"
    )


def menu_problem() -> str:
    """Why pystray could show an icon here but no menu (clicks would do nothing), or ''.

    On Linux only the gtk and appindicator backends have menus; both need PyGObject and GTK 3's
    typelib. Checked without loading GTK (GDK must first see GDK_GL, see _import_pystray)."""
    if not sys.platform.startswith("linux"):
        return ""
    if os.environ.get("PYSTRAY_BACKEND") == "xorg":
        return "PYSTRAY_BACKEND=xorg has no menu"
    try:
        import gi  # lazy: optional dependency (PyGObject), only to see whether it is there
    except ImportError:
        return "PyGObject (the gi module) is not installed"
    try:
        repository = getattr(gi, "Repository", None)  # gi's C module; typeshed lacks it
        versions = repository.get_default().enumerate_versions("Gtk") if repository else []
    except Exception as exc:  # a broken PyGObject build
        return f"PyGObject does not work ({type(exc).__name__}: {exc})"
    if "3.0" not in versions:
        return "the GTK 3 typelib (gir1.2-gtk-3.0) is not installed"
    return ""


def display_problem() -> str:
    """Why no tray icon can be shown here, or '' (checked before importing pystray)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return "no graphical session (DISPLAY is not set)"
    return ""
