"""Per context: wrapped or not, plugin, cached or not, expiry, drift (``kubewarm status``).

Fills the one per-context model, :class:`~kubewarm.engine.contexts.state.ContextState`, for
every context (exec or not); ``engine.cli.text`` turns it into the table.

The cache lookup uses the key the shim will compute for the context's next kubectl call in
this environment (plugin argv, identity variables, ``KUBERNETES_EXEC_INFO`` as kubectl sends
it). An entry recorded for the same kubeconfig user under another environment (say, another
``AWS_PROFILE``) is reported as such rather than as a hit.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence

from kubewarm.engine.cache import admin as cache_admin
from kubewarm.engine.contexts.state import COLD, NOT_WRAPPED, WARM, ContextState
from kubewarm.engine.core import key as cache_key
from kubewarm.engine.core import settings
from kubewarm.engine.kubeconfig import drift as kubeconfig_drift
from kubewarm.engine.kubeconfig import files as kubeconfig_files
from kubewarm.engine.kubeconfig import merge as kubeconfig_merge
from kubewarm.engine.kubeconfig.clientgo import plugin_invocation
from kubewarm.engine.kubeconfig.files import KubeconfigPath
from kubewarm.engine.kubeconfig.model import ContextInfo, KubeconfigError, UserInfo
from kubewarm.engine.stores import StoreUnavailable
from kubewarm.engine.stores.base import Store


def user_drift(user: UserInfo) -> list[str]:
    """Why an exec user is not wrapped the way kubewarm needs ([] when it is): the one drift
    rule, shared with ``kubewarm inject``."""
    return kubeconfig_drift.drift(user)


def statuses(
    files: Sequence[KubeconfigPath] | None = None,
    environ: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    store: Store | None = None,
) -> list[ContextState]:
    """The status of every context in ``files`` (default: the files kubectl would use)."""
    files = list(files) if files is not None else kubeconfig_files.resolve(environ=environ)
    contexts = kubeconfig_merge.merge_contexts(kubeconfig_merge.load(files))
    env = dict(os.environ if environ is None else environ)
    values = dict(values) if values is not None else settings.load(env)
    entries, note = _entries(values, store, any(_is_exec(c) for c in contexts))
    names = cache_key.identity_env_names(values.get("KUBEWARM_KEY_ENV", ""))
    return [_status(c, env, names, entries, note) for c in contexts]


def _is_exec(context: ContextInfo) -> bool:
    return context.user is not None and context.user.kind == "exec"


def _entries(values: dict[str, str], store: Store | None, needed: bool) -> tuple[dict, str]:
    if not needed:
        return {}, ""

    try:
        return {e.key: e for e in cache_admin.list_entries(values, store)}, ""
    except StoreUnavailable as exc:
        return {}, f"store unavailable: {exc}"


def _status(
    context: ContextInfo, env: dict[str, str], names: tuple[str, ...], entries: dict, note: str
) -> ContextState:
    user = context.user
    if user is None:
        return ContextState(
            context.name, context.user_name, phase=NOT_WRAPPED, kind="missing",
            note="user not defined", context=context,
        )  # fmt: skip
    if user.kind != "exec":
        return ContextState(
            context.name, context.user_name, phase=NOT_WRAPPED, reason="no exec plugin",
            kind=user.kind, context=context,
        )  # fmt: skip
    drift = tuple(user_drift(user))
    invocation = plugin_invocation(context, env)
    key = cache_key.compute(list(invocation.argv), invocation.env, names)
    entry = entries.get(key)
    now = time.time()
    phase = COLD if user.wrapped else NOT_WRAPPED
    if entry is not None and entry.expires > now:
        return ContextState(
            context.name, context.user_name, user.plugin, phase=WARM if user.wrapped else phase,
            expires=entry.expires, key=key, wrapped=user.wrapped, cached=True,
            explicit=entry.explicit, drift=drift, note=note, context=context,
        )  # fmt: skip
    others = [e for e in entries.values() if e.user == user.name and e.expires > now]
    if others and not note:
        note = "cached under another environment (different identity variables)"
    elif entry is not None and not note:
        note = "expired" if entry.expires else "unreadable entry"
    return ContextState(
        context.name, context.user_name, user.plugin, phase=phase, key=key,
        wrapped=user.wrapped, drift=drift, note=note, context=context,
    )  # fmt: skip


def users_for_context(context: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """The kubeconfig user that context ``context`` names, in the files kubectl would read;
    empty when no file defines it (or none can be read: the caller says so)."""
    try:
        paths = kubeconfig_files.resolve(environ=environ)
        contexts = kubeconfig_merge.merge_contexts(kubeconfig_merge.load(paths))
    except KubeconfigError:
        return []
    return [c.user_name for c in contexts if c.name == context and c.user_name]
