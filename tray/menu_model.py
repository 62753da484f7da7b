"""The tray menu as plain data, built from the engine's state: no GUI toolkit here.

``build(view, actions)`` returns the items top to bottom; ``tray_icon`` turns them into a
pystray menu, and the tests read them directly. Every action is one call on ``actions``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kubewarm.engine.contexts.state import (
    MISSING,
    NEEDS_LOGIN,
    NOT_WRAPPED,
    REFRESHING,
    ContextState,
)
from kubewarm.engine.core.text import about, plural


@dataclass(frozen=True)
class Item:
    """One menu entry. ``checked`` None: not a checkbox. ``separator``: a line."""

    text: str = ""
    action: Callable[[], object] | None = field(default=None, compare=False)
    checked: bool | None = None
    enabled: bool = True
    submenu: tuple[Item, ...] = ()
    separator: bool = False

    def find(self, text: str) -> Item:
        """The submenu item labelled ``text`` (tests and keyboard users alike)."""
        return find(self.submenu, text)


SEPARATOR = Item(separator=True)
PINNED_CAPTION = "Pinned: kept warm"
RECENT_CAPTION = "Kept warm: used recently"
OTHERS_CAPTION = "Other contexts"
CONTEXTS_CAPTION = "Contexts"
SWITCH_CAPTION = "Switch context"
LOGIN = "Log in…"
DOCTOR = "Check setup (doctor)…"
UNINSTALL = "Uninstall kubewarm…"
UNINSTALL_CONFIRM = "Confirm: restore kubeconfig, remove cache and login item, quit"


@dataclass(frozen=True)
class MenuView:
    """A snapshot of everything the menu shows."""

    states: Sequence[ContextState]
    summary: str
    problem: str = ""
    start_at_login: bool = False
    version: str = ""
    last_result: str = ""  # shown in the tooltip (and notified), never as a menu line
    saved: str = ""  # "Saved 14 min this week" (kubewarm stats), under the summary
    all_contexts: Sequence[str] = ()  # every kubeconfig context, for Switch context
    current: str = ""  # kubectl's current context


def saved_line(seconds: float, hits: int) -> str:
    """The menu's line on what the cache saved this week (last 7 days)."""
    if not hits:
        return "Nothing served from the cache this week yet"
    return f"Saved {about(seconds)} this week ({plural(hits, 'call')} from the cache)"


def find(items: Sequence[Item], text: str) -> Item:
    """The item labelled ``text``, or ``text — state`` / ``text (detail)``."""
    for item in items:
        if item.text == text or item.text.startswith((text + " — ", text + " (")):
            return item
    raise KeyError(f"no menu item {text!r} in {[i.text for i in items if not i.separator]}")


def context_label(state: ContextState) -> str:
    return f"{state.name} — {state.label()}"


def _context_item(state: ContextState, actions) -> Item:
    name = state.name
    usable = state.phase not in (NOT_WRAPPED, MISSING)
    pinned = state.pinned and not state.recent  # by the user: a recent one is kept warm anyway
    submenu = (
        Item("Pin (keep warm)", lambda: actions.set_pinned(name, not pinned), checked=pinned),
        Item(
            "Refresh now",
            lambda: actions.refresh(name),
            enabled=usable and state.phase != REFRESHING,
        ),
        Item("Clear cached credential", lambda: actions.clear(name), enabled=bool(state.user)),
    )
    if state.phase == NEEDS_LOGIN:  # last: the items above keep their places
        submenu += (Item(LOGIN, lambda: actions.login(name)),)
    # Not a checkbox itself: GTK toggles a check item's mark when its submenu is opened.
    return Item(context_label(state), submenu=submenu)


def _switch_item(view: MenuView, actions) -> Item:
    """Every context, the current one checked; choosing one is `kubectl config use-context`."""
    entries = tuple(
        Item(name, lambda name=name: actions.use_context(name), checked=name == view.current)
        for name in view.all_contexts
    )
    suffix = f" ({view.current})" if view.current else ""
    return Item(SWITCH_CAPTION + suffix, submenu=entries)


def build(view: MenuView, actions) -> list[Item]:
    """The whole menu, top to bottom."""
    items: list[Item] = [Item(view.summary, enabled=False)]
    if view.problem:
        items.append(Item("⚠ " + view.problem, enabled=False))
    if view.saved:
        items.append(Item(view.saved, enabled=False))
    items.append(SEPARATOR)
    pinned = [s for s in view.states if s.pinned and not s.recent]
    recent = [s for s in view.states if s.recent]
    others = [s for s in view.states if not s.pinned]
    if pinned:
        items.append(Item(PINNED_CAPTION, enabled=False))
        items.extend(_context_item(s, actions) for s in pinned)
    if recent:
        items.append(Item(RECENT_CAPTION, enabled=False))
        items.extend(_context_item(s, actions) for s in recent)
    if others:
        caption = OTHERS_CAPTION if pinned or recent else CONTEXTS_CAPTION
        items.append(Item(caption, enabled=False))
        items.extend(_context_item(s, actions) for s in others)
    if not view.states:
        items.append(Item("No exec-plugin contexts in kubeconfig", enabled=False))
    if view.all_contexts:
        items.append(_switch_item(view, actions))
    refreshable = [s for s in view.states if s.pinned and s.phase not in (NOT_WRAPPED, MISSING)]
    unwrapped = sum(1 for s in view.states if s.phase == NOT_WRAPPED and s.user)
    wrapped = sum(1 for s in view.states if s.phase not in (NOT_WRAPPED, MISSING))
    items += [
        SEPARATOR,
        Item("Refresh all pinned", actions.refresh_all_pinned, enabled=bool(refreshable)),
        Item("Clear all cached credentials", actions.clear_all),
        SEPARATOR,
        Item(
            "Wrap kubeconfig" + (f" ({unwrapped} not wrapped)" if unwrapped else ""),
            actions.wrap,
        ),
        Item("Restore kubeconfig", actions.restore, enabled=wrapped > 0),
    ]
    items += [
        SEPARATOR,
        Item("Start at login", actions.toggle_start_at_login, checked=view.start_at_login),
        Item("Open log", actions.open_log),
        Item(DOCTOR, actions.doctor),
        Item(f"kubewarm {view.version}", enabled=False),
    ]
    if getattr(actions, "uninstall_pending", False):  # a confirmation, in the menu itself
        items += [
            Item(UNINSTALL_CONFIRM, actions.confirm_uninstall),
            Item("Cancel uninstall", actions.cancel_uninstall),
        ]
    else:
        items.append(Item(UNINSTALL, actions.request_uninstall))
    items.append(Item("Quit", actions.quit))
    return items
