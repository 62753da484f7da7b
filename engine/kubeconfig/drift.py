"""Drift: why an exec user is not wrapped the way kubewarm needs, in the user's words.

One rule, used by ``kubewarm status`` (and the tray) to report and by ``kubewarm inject`` to
decide what to repair, so both say the same thing about the same user. Another tool may have
set ``exec.command`` back (``kubectl config set-credentials``), replaced the whole user entry
(``aws eks update-kubeconfig``), copied a wrapped user under a new name, or the shim moved.
"""

from __future__ import annotations

import os
import shutil

from kubewarm.engine.kubeconfig.model import SHIM_NAMES, USER_ENV, UserInfo, has_separator

NOT_WRAPPED = "not wrapped: kubectl runs the plugin on every call"


def drift(user: UserInfo, shim: str | None = None) -> list[str]:
    """What is wrong with ``user`` ([] when nothing; always [] for a user without exec).

    ``shim``: the shim command inject writes. A wrapped user running another one has drifted
    (inject points it at ``shim``). Without it (status) the question is whether the shim the
    user runs is there, and whether it runs the shim twice over; inject leaves both alone, as
    a shim it writes is there and restore is what undoes a double wrapping.
    """
    if user.kind != "exec" or user.exec is None:
        return []
    if not user.wrapped:
        if user.kubewarm_user is not None:
            return [
                f"not wrapped: exec.command is {user.exec.command} (set back by another tool?)"
                f" but {USER_ENV} is still there"
            ]
        return [NOT_WRAPPED]
    problems = []
    if user.kubewarm_user is None:
        problems.append(f"its env has no {USER_ENV}")
    elif user.kubewarm_user != user.name:
        problems.append(
            f"{USER_ENV} is {user.kubewarm_user!r}, not {user.name!r} (copied from another user?)"
        )
    command = user.shim_command
    if shim is not None:
        if command != shim:
            problems.append(f"runs {command} instead of {shim}")
        return problems
    if has_separator(command):
        if not (os.path.isfile(command) and os.access(command, os.X_OK)):
            problems.append(f"its shim {command} does not exist")
    elif shutil.which(command) is None:
        problems.append(f"its shim {command} is not on PATH")
    if user.plugin_argv and user.plugin in SHIM_NAMES:
        problems.append("wrapped twice")
    return problems
