"""Whether an exec user's plugin can be run, found the way kubectl would find it.

kubectl shows a user's ``installHint`` when the plugin is missing; ``kubewarm inject`` warns
about such users and ``kubewarm status`` and ``kubewarm doctor`` flag them, so a missing plugin
is seen before kubectl needs it, wrapped or not.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kubewarm.engine.kubeconfig.model import UserInfo, has_separator


@dataclass(frozen=True)
class MissingPlugin:
    """An exec user whose plugin cannot be run; ``hint`` is its kubeconfig ``installHint``."""

    user: str
    plugin: str
    command: str
    path: str  # the kubeconfig file that defines the user
    line: int
    hint: str


def locate(user: UserInfo, environ: Mapping[str, str] | None = None) -> str | None:
    """The executable the user's plugin runs as, or None when it cannot be found (or the user
    has no exec plugin). A bare name is looked up on ``PATH``, as kubectl does."""
    if user.kind != "exec" or not user.plugin_argv:
        return None
    command = user.plugin_argv[0]
    if has_separator(command):
        # relative paths were resolved against the kubeconfig's directory when parsed
        return command if os.path.isfile(command) and os.access(command, os.X_OK) else None
    env = os.environ if environ is None else environ
    return shutil.which(command, path=env.get("PATH", os.defpath))


def missing(
    users: Iterable[UserInfo], environ: Mapping[str, str] | None = None
) -> list[MissingPlugin]:
    """The exec users among ``users`` whose plugin is not found (each user once)."""
    found: list[MissingPlugin] = []
    seen: set[tuple[str, str]] = set()
    for user in users:
        if user.kind != "exec" or not user.plugin_argv or (user.path, user.name) in seen:
            continue
        seen.add((user.path, user.name))
        if locate(user, environ) is None:
            hint = user.exec.install_hint.strip() if user.exec is not None else ""
            found.append(
                MissingPlugin(
                    user.name, user.plugin, user.plugin_argv[0], user.path, user.line, hint
                )
            )
    return found
