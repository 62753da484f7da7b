"""Per context: wrapped or not, plugin, cached or not, expiry, drift (``kubewarm status``, tray).

The cache lookup uses the key the shim will compute for the context's next kubectl call in
this environment (plugin argv, identity variables, ``KUBERNETES_EXEC_INFO`` as kubectl sends
it). An entry recorded for the same kubeconfig user under another environment (say, another
``AWS_PROFILE``) is reported as such rather than as a hit.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kubewarm.engine.cache.admin import format_duration
from kubewarm.engine.core import key as cache_key
from kubewarm.engine.core import settings
from kubewarm.engine.kubeconfig import drift as kubeconfig_drift
from kubewarm.engine.kubeconfig.clientgo import plugin_invocation
from kubewarm.engine.kubeconfig.files import KubeconfigPath, display
from kubewarm.engine.kubeconfig.model import ContextInfo, UserInfo

_KINDS = {
    "token": "token",
    "client-certificate": "client certificate",
    "auth-provider": "auth-provider",
    "basic": "username/password",
    "none": "no credentials",
}


@dataclass(frozen=True)
class ContextStatus:
    """What ``kubewarm status`` shows for one context (never a credential)."""

    context: ContextInfo
    kind: str  # exec, token, client-certificate, auth-provider, basic, none, missing
    wrapped: bool
    plugin: str
    drift: tuple[str, ...]
    cached: bool
    expires: float = 0.0
    explicit: bool = True
    key: str = ""
    note: str = ""  # e.g. "cached under another environment", "store unavailable: ..."

    @property
    def name(self) -> str:
        return self.context.name

    @property
    def user(self) -> str:
        return self.context.user_name


def user_drift(user: UserInfo) -> list[str]:
    """Why an exec user is not wrapped the way kubewarm needs ([] when it is): the one drift
    rule, shared with ``kubewarm inject``."""
    return kubeconfig_drift.drift(user)


def statuses(
    files: Sequence[KubeconfigPath] | None = None,
    environ: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    store=None,
) -> list[ContextStatus]:
    """The status of every context in ``files`` (default: the files kubectl would use)."""
    from kubewarm.engine.kubeconfig import files as kubeconfig_files
    from kubewarm.engine.kubeconfig import merge as kubeconfig_merge

    files = list(files) if files is not None else kubeconfig_files.resolve(environ=environ)
    contexts = kubeconfig_merge.merge_contexts(kubeconfig_merge.load(files))
    env = dict(os.environ if environ is None else environ)
    values = dict(values) if values is not None else settings.load(env)
    entries, note = _entries(values, store, any(_is_exec(c) for c in contexts))
    names = cache_key.identity_env_names(values.get("KUBEWARM_KEY_ENV", ""))
    return [_status(c, env, names, entries, note) for c in contexts]


def _is_exec(context: ContextInfo) -> bool:
    return context.user is not None and context.user.kind == "exec"


def _entries(values: dict[str, str], store, needed: bool) -> tuple[dict, str]:
    if not needed:
        return {}, ""
    from kubewarm.engine.cache import admin as cache_admin
    from kubewarm.engine.stores import StoreUnavailable

    try:
        return {e.key: e for e in cache_admin.list_entries(values, store)}, ""
    except StoreUnavailable as exc:
        return {}, f"store unavailable: {exc}"


def _status(
    context: ContextInfo, env: dict[str, str], names: tuple[str, ...], entries: dict, note: str
) -> ContextStatus:
    user = context.user
    if user is None:
        return ContextStatus(context, "missing", False, "", (), False, note="user not defined")
    if user.kind != "exec":
        return ContextStatus(context, user.kind, False, "", (), False)
    drift = tuple(user_drift(user))
    invocation = plugin_invocation(context, env)
    key = cache_key.compute(list(invocation.argv), invocation.env, names)
    entry = entries.get(key)
    now = time.time()
    if entry is not None and entry.expires > now:
        return ContextStatus(
            context, "exec", user.wrapped, user.plugin, drift, True, entry.expires,
            entry.explicit, key, note,
        )  # fmt: skip
    others = [e for e in entries.values() if e.user == user.name and e.expires > now]
    if others and not note:
        note = "cached under another environment (different identity variables)"
    elif entry is not None and not note:
        note = "expired" if entry.expires else "unreadable entry"
    return ContextStatus(
        context, "exec", user.wrapped, user.plugin, drift, False, 0.0, True, key, note
    )


def describe_cache(status: ContextStatus, now: float | None = None) -> str:
    """'expires in 12m (14:03:00)', 'not cached', … for one exec context."""
    if status.kind != "exec":
        return "-"
    if not status.cached:
        return "not cached" + (f" ({status.note})" if status.note else "")
    left = status.expires - (time.time() if now is None else now)
    when = time.strftime("%H:%M:%S", time.localtime(status.expires))
    suffix = "" if status.explicit else ", default TTL"
    return f"cached, expires in {format_duration(left)} ({when}{suffix})"


def format_table(items: Sequence[ContextStatus], now: float | None = None) -> list[str]:
    """Lines of ``kubewarm status``: one row per context, then what drifted and how to fix it."""
    rows = [("", "CONTEXT", "USER", "PLUGIN", "WRAPPED", "CACHE")]
    for s in items:
        if s.kind == "exec":
            wrapped = "yes" if s.wrapped and not s.drift else "DRIFT" if s.wrapped else "no"
            plugin = s.plugin
        else:
            wrapped = "-"
            plugin = f"({_KINDS.get(s.kind, s.kind)})" if s.kind != "missing" else "(no such user)"
        rows.append(
            ("*" if s.context.current else "", s.name, s.user or "-", plugin, wrapped,
             describe_cache(s, now))
        )  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    drifted = [s for s in items if s.drift]
    if drifted:
        lines.append("")
        for s in drifted:
            where = f"{display(s.context.user.path)} line {s.context.user.line}"
            lines.append(f"{s.name}: user {s.user!r} ({where}): " + "; ".join(s.drift))
        lines.append("Run `kubewarm inject` to wrap or repair them.")
    return lines
