"""How the command line words use-case results: tables, durations, expiry times, the one-line
error. Only the ``engine.cli`` modules print; the use cases they call return data."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from kubewarm.engine.cache.admin import CachedEntry
from kubewarm.engine.contexts.state import ContextState
from kubewarm.engine.core.text import format_duration, plural
from kubewarm.engine.diagnostics.plugins import MissingPlugin
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


STATUS_WIDTH = 100  # columns `kubewarm status` fits in (without --wide)
ELLIPSIS = "..."  # ASCII: a terminal or pipe without UTF-8 must not fail on it


def shorten(name: str, width: int) -> str:
    """``name`` in at most ``width`` characters. An ARN (EKS names contexts and users after
    the cluster's) loses ``arn:aws:`` and the account first, then its middle; any other name
    keeps its head and tail, which is where names differ."""
    if len(name) <= width:
        return name
    parts = name.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":  # arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
        resource = parts[5].split("/", 1)[-1]  # cluster/NAME -> NAME
        for compact in (f"{parts[2]}:{parts[3]}:{parts[5]}", f"{parts[3]}/{resource}"):
            if len(compact) <= width:
                return compact
        name = compact
    if width <= len(ELLIPSIS) + 2:
        return name[:width]
    keep = width - len(ELLIPSIS)
    head = keep // 3
    return name[:head] + ELLIPSIS + name[len(name) - (keep - head) :]


def _compact_cache(text: str, width: int) -> str:
    """A CACHE cell in ``width``: without its clock time first, then cut."""
    if len(text) <= width:
        return text
    bare = text.split(" (", 1)[0]
    return bare if len(bare) <= width else bare[: max(width - len(ELLIPSIS), 1)] + ELLIPSIS


def fit(rows: Sequence[Sequence[str]], shrinkable: dict[int, int], width: int) -> list[list[str]]:
    """``rows`` (header first) with the ``shrinkable`` columns (index -> narrowest width)
    narrowed, widest first, until the table fits ``width`` or none can shrink further. The
    last column, when shrinkable, is a CACHE column and is compacted rather than cut."""
    last = len(rows[0]) - 1
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def total() -> int:
        return sum(widths) + 2 * (len(widths) - 1)

    for _ in range(sum(widths)):  # each pass narrows one column by one: bounded
        if total() <= width:
            break
        candidates = [i for i, low in shrinkable.items() if widths[i] > low]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1
    out = [list(rows[0])]
    for row in rows[1:]:
        cells = []
        for i, cell in enumerate(row):
            if i not in shrinkable or len(cell) <= widths[i]:
                cells.append(cell)
            elif i == last:
                cells.append(_compact_cache(cell, widths[i]))
            else:
                cells.append(shorten(cell, widths[i]))
        out.append(cells)
    return out


def wrap_state(s: ContextState) -> str:
    """The WRAPPED cell: yes, DRIFT, no, or - (no exec plugin)."""
    if s.kind != "exec":
        return "-"
    return "yes" if s.wrapped and not s.drift else "DRIFT" if s.wrapped else "no"


def status_table(
    items: Sequence[ContextState],
    now: float | None = None,
    missing: Sequence[MissingPlugin] = (),
    width: int | None = STATUS_WIDTH,
) -> list[str]:
    """Lines of ``kubewarm status``: one row per context, then what drifted and how to fix it,
    then plugins that are not installed. Long names are shortened to fit ``width`` columns
    (None: never)."""
    gone = {m.user for m in missing}
    rows = [("", "CONTEXT", "USER", "PLUGIN", "WRAPPED", "CACHE")]
    for s in items:
        if s.kind == "exec":
            plugin = s.plugin + (" (missing)" if s.user in gone else "")
        else:
            plugin = (
                f"({AUTH_KINDS.get(s.kind, s.kind)})" if s.kind != "missing" else "(no such user)"
            )
        current = s.context is not None and s.context.current
        rows.append(
            ("*" if current else "", s.name, s.user or "-", plugin, wrap_state(s),
             describe_cache(s, now))
        )  # fmt: skip
    cells = fit(rows, {1: 16, 2: 16, 3: 14, 5: 18}, width) if width else [list(r) for r in rows]
    lines = table(cells)
    if any(list(row) != fitted for row, fitted in zip(rows, cells, strict=True)):
        lines.append("(shortened to fit 100 columns; --wide or -o json shows everything)")
    drifted = [s for s in items if s.drift]
    if drifted:
        lines.append("")
        for s in drifted:
            user = s.context.user if s.context is not None else None
            where_ = f"{display(user.path)} line {user.line}" if user is not None else "?"
            lines.append(f"{shorten(s.name, 40)}: user {shorten(s.user, 40)!r} ({where_}):")
            lines.extend(f"  {reason}" for reason in s.drift)
        lines.append("Run `kubewarm inject` to wrap or repair them.")
    if missing:
        lines.append("")
        for m in missing:
            lines.append(
                f"user {shorten(m.user, 40)!r} ({display(m.path)} line {m.line}): plugin"
                f" {m.command!r} is not"
                " installed (not on PATH); kubectl fails for it"
            )
            if m.hint:
                lines.extend("  " + line for line in m.hint.splitlines())
    return lines
