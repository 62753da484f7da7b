"""How the command line words use-case results: tables, durations, expiry times, the one-line
error. Only the ``engine.cli`` modules print; the use cases they call return data."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from kubewarm.engine.cache.admin import CachedEntry
from kubewarm.engine.contexts.state import ContextState
from kubewarm.engine.core.text import plural
from kubewarm.engine.kubeconfig.files import display
from kubewarm.engine.stores.base import Store

__all__ = ["fail", "plural"]

AUTH_KINDS = {  # what a user's credentials are, for a context without an exec plugin
    "token": "token",
    "client-certificate": "client certificate",
    "auth-provider": "auth-provider",
    "basic": "username/password",
    "none": "no credentials",
}


def fail(message: str) -> int:
    """Say ``kubewarm: message`` on stderr; the exit status 1 to return."""
    print(f"kubewarm: {message}", file=sys.stderr)
    return 1


def where(store: Store) -> str:
    """'the OS keyring (Secret Service keyring)', "kubewarm's file store"."""
    return f"the OS keyring ({store.describe()})" if store.name == "keyring" else store.describe()


def format_duration(seconds: float) -> str:
    """'45s', '12m05s', '2h03m', '1d4h' (negative counts as 0)."""
    seconds = max(int(seconds), 0)
    if seconds >= 86400:
        return f"{seconds // 86400}d{seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as left-aligned columns two spaces apart (no trailing blanks)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def describe_expiry(entry: CachedEntry, now: float | None = None) -> str:
    """'in 12m', 'expired 3m ago', 'unreadable' — for listings."""
    if not entry.expires:
        return "unreadable"
    left = entry.remaining(now)
    text = format_duration(abs(left))
    when = time.strftime("%H:%M:%S", time.localtime(entry.expires))
    suffix = "" if entry.explicit else ", default TTL"
    return f"in {text} ({when}{suffix})" if left > 0 else f"expired {text} ago ({when})"


def format_entries(entries: Sequence[CachedEntry], now: float | None = None) -> list[str]:
    """A table (one line per entry) for ``kubewarm entries``: user, plugin, cluster, expiry,
    store, key prefix. Never the credential."""
    rows = [("USER", "PLUGIN", "CLUSTER", "EXPIRES", "STORE", "KEY")]
    for e in entries:
        rows.append(
            (e.user or "-", e.plugin or "-", e.cluster or "-", describe_expiry(e, now), e.store,
             e.key[:12])
        )  # fmt: skip
    return table(rows)


def describe_cache(state: ContextState, now: float | None = None) -> str:
    """'expires in 12m (14:03:00)', 'not cached', … for one exec context."""
    if state.kind != "exec":
        return "-"
    if not state.cached:
        return "not cached" + (f" ({state.note})" if state.note else "")
    left = state.expires - (time.time() if now is None else now)
    when = time.strftime("%H:%M:%S", time.localtime(state.expires))
    suffix = "" if state.explicit else ", default TTL"
    return f"cached, expires in {format_duration(left)} ({when}{suffix})"


def status_table(items: Sequence[ContextState], now: float | None = None) -> list[str]:
    """Lines of ``kubewarm status``: one row per context, then what drifted and how to fix it."""
    rows = [("", "CONTEXT", "USER", "PLUGIN", "WRAPPED", "CACHE")]
    for s in items:
        if s.kind == "exec":
            wrapped = "yes" if s.wrapped and not s.drift else "DRIFT" if s.wrapped else "no"
            plugin = s.plugin
        else:
            wrapped = "-"
            plugin = (
                f"({AUTH_KINDS.get(s.kind, s.kind)})" if s.kind != "missing" else "(no such user)"
            )
        current = s.context is not None and s.context.current
        rows.append(
            ("*" if current else "", s.name, s.user or "-", plugin, wrapped, describe_cache(s, now))
        )
    lines = table(rows)
    drifted = [s for s in items if s.drift]
    if drifted:
        lines.append("")
        for s in drifted:
            user = s.context.user if s.context is not None else None
            where_ = f"{display(user.path)} line {user.line}" if user is not None else "?"
            lines.append(f"{s.name}: user {s.user!r} ({where_}): " + "; ".join(s.drift))
        lines.append("Run `kubewarm inject` to wrap or repair them.")
    return lines
