"""What to run, in which environment and under which cache key, to refresh a context's credential
exactly where its next kubectl call will look for it.

The tray's environment is not the shell's: a login item has no ``AWS_PROFILE`` from ``.zshrc``
and a different ``PATH``. So the recipe the shim recorded beside the entry (plugin argv, the
whole environment the plugin ran in, ``KUBERNETES_EXEC_INFO``) wins whenever it still matches
the kubeconfig: the plugin runs again in exactly that environment, under the entry's key, which
is the key the next kubectl call from that shell computes again. Of several matching recipes
(say, two ``AWS_PROFILE`` values), the one kubectl was served most recently wins (the shim's
served markers say when), then the newest. Only a context that no kubectl call has gone
through yet falls back to the kubeconfig and the tray's own environment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kubewarm.engine.cache.admin import CachedEntry
from kubewarm.engine.cache.credentials import RECIPE_VERSION
from kubewarm.engine.core import key as cache_key
from kubewarm.engine.core.served import marker_dir
from kubewarm.engine.kubeconfig.clientgo import plugin_invocation
from kubewarm.engine.kubeconfig.model import ContextInfo

EXEC_INFO_ENV = "KUBERNETES_EXEC_INFO"


@dataclass(frozen=True)
class Target:
    """One refresh to run: never holds a credential."""

    context: str
    user: str
    argv: list[str]
    env: dict[str, str] = field(repr=False)
    key: str
    values: dict[str, str] = field(repr=False)
    source: str  # "recipe" (what the shim recorded) or "kubeconfig" (no kubectl call seen yet)

    @property
    def plugin(self) -> str:
        return os.path.basename(self.argv[0]) if self.argv else "?"


def _cluster_server(exec_info: str) -> str | None:
    try:
        spec = json.loads(exec_info).get("spec") or {}
        return (spec.get("cluster") or {}).get("server")
    except (ValueError, AttributeError):
        return None


def _api_version(exec_info: str) -> str:
    try:
        return str(json.loads(exec_info).get("apiVersion", ""))
    except (ValueError, AttributeError):
        return ""


def recipe_matches(recipe: Mapping, context: ContextInfo, invocation_info: str) -> bool:
    """Whether a recorded recipe still describes ``context`` as the kubeconfig has it now:
    same plugin argv, same ``exec.env`` identity values, same apiVersion and cluster."""
    user = context.user
    if user is None or user.exec is None:
        return False
    if list(recipe.get("argv") or ()) != list(user.plugin_argv):
        return False
    recorded_env = recipe.get("env") or {}
    if not isinstance(recorded_env, dict):
        return False
    for name, value in user.exec.env:
        if name in recorded_env and recorded_env[name] != value:
            return False
    info = str(recipe.get("exec_info") or "")
    if _api_version(info) != _api_version(invocation_info):
        return False
    return _cluster_server(info) == _cluster_server(invocation_info)


def _replay(
    context: str, marker: str, entry: CachedEntry, values: Mapping[str, str]
) -> Target | None:
    """The refresh that runs the plugin again in exactly the environment the shim recorded
    for ``entry``, under ``entry``'s key; None when the recipe cannot reproduce that key (an
    older recipe that kept only some variables): such an entry is left alone."""
    recipe = entry.recipe
    if recipe.get("version") != RECIPE_VERSION or not isinstance(recipe.get("env"), dict):
        return None
    env = {str(k): str(v) for k, v in recipe["env"].items()}
    env[EXEC_INFO_ENV] = str(recipe.get("exec_info") or "")  # non-interactive: same key
    argv = [str(a) for a in recipe.get("argv") or ()]
    names = tuple(str(n) for n in recipe.get("key_names") or ())
    if cache_key.compute(argv, env, names) != entry.key:
        return None
    extra = [n for n in names if n not in cache_key.IDENTITY_ENV]
    refresh_values = {**values, "KUBEWARM_KEY_ENV": ",".join(extra)}
    return Target(context, marker, argv, env, entry.key, refresh_values, "recipe")


def last_served() -> dict[str, float]:
    """When kubectl was last served each key (by its first 32 hex digits), from the shim's
    served markers (``<cache>/served/<key32>-<pid>``, touched on every answer to kubectl)."""
    result: dict[str, float] = {}
    try:
        items = list(os.scandir(marker_dir()))
    except OSError:
        return result
    for item in items:
        key = item.name.partition("-")[0]
        try:
            mtime = item.stat().st_mtime
        except OSError:
            continue
        if mtime > result.get(key, 0.0):
            result[key] = mtime
    return result


def resolve(
    context: ContextInfo,
    entries: Sequence[CachedEntry],
    values: Mapping[str, str],
    environ: Mapping[str, str] | None = None,
) -> Target | None:
    """The refresh for ``context`` (None when its user runs no exec plugin through kubewarm).

    ``entries`` are the store's entries (``cache_admin.list_entries``); the newest recipe of
    the context's user that still matches the kubeconfig is replayed.
    """
    user = context.user
    if user is None or user.exec is None or not user.wrapped or not user.plugin_argv:
        return None
    env_in = dict(os.environ if environ is None else environ)
    invocation = plugin_invocation(context, env_in)
    marker = invocation.env.get("KUBEWARM_USER", user.name)
    served = last_served()
    recipes = sorted(
        (e for e in entries if e.user == marker and e.recipe.get("argv")),
        key=lambda e: (served.get(e.key[:32], 0.0), e.recipe.get("obtained", 0)),
        reverse=True,
    )
    for entry in recipes:
        if not recipe_matches(entry.recipe, context, invocation.exec_info):
            continue
        target = _replay(context.name, marker, entry, values)
        if target is not None:
            return target
    names = cache_key.identity_env_names(values.get("KUBEWARM_KEY_ENV", ""))
    argv = list(invocation.argv)
    key = cache_key.compute(argv, invocation.env, names)
    return Target(context.name, marker, argv, dict(invocation.env), key, dict(values), "kubeconfig")
