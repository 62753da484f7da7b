"""Which plugin the user agreed to have run in the background, per pinned context.

The tray runs a pinned context's plugin on its own, every few minutes, with nobody watching.
If another program rewrites that user's ``exec`` block (command, args or env), the warmer must
not start running the new program within seconds: the context is *paused* until the user
chooses Refresh now (or pins it again). A context is approved as it is when first seen pinned
(trust on first use), and each approval is a SHA-256 of what would run, so the file holds no
secret. Likewise a kubeconfig file that someone else could have written (owned by another
user, or writable by group or others: ssh's StrictModes is the model) is never used for a
background refresh.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable, Mapping

from kubewarm.engine.core import paths
from kubewarm.engine.core.atomic_write import write_atomic
from kubewarm.engine.core.safe_files import private_dir
from kubewarm.engine.kubeconfig.model import ContextInfo, UserInfo

FILE_NAME = "approved-plugins.json"


def approvals_file() -> str:
    return os.path.join(paths.config_dir(), FILE_NAME)


def fingerprint(user: UserInfo) -> str:
    """What would run for ``user``: the plugin argv and its exec.env, hashed."""
    env = sorted(user.exec.env) if user.exec is not None else []
    blob = json.dumps([list(user.plugin_argv), env], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8", "surrogateescape")).hexdigest()


def load() -> dict[str, str]:
    """Context name -> approved fingerprint (an unreadable file approves nothing)."""
    try:
        with open(approvals_file(), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def save(approved: Mapping[str, str]) -> None:
    private_dir(paths.config_dir())
    text = json.dumps(dict(sorted(approved.items())), indent=1) + "\n"
    write_atomic(approvals_file(), text.encode("utf-8"), mode=0o600)


def approve(contexts: Iterable[ContextInfo]) -> None:
    """Approve what each of ``contexts`` runs now (Refresh now, pin)."""
    approved = load()
    for context in contexts:
        if context.user is not None:
            approved[context.name] = fingerprint(context.user)
    save(approved)


def unsafe_file(path: str) -> str:
    """Why ``path`` (a kubeconfig file) must not drive a background refresh ('' when fine):
    not the user's, or writable by group or others, or in such a folder."""
    if os.name != "posix" or not path:
        return ""
    for where in (path, os.path.dirname(os.path.abspath(path))):
        try:
            st = os.stat(where)
        except OSError:
            continue
        if st.st_uid not in (os.getuid(), 0):
            return f"{where} belongs to uid {st.st_uid}, not to you"
        sticky = stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX
        if st.st_mode & 0o022 and not sticky:
            return f"{where} is writable by others (mode {st.st_mode & 0o777:o})"
    return ""


def review(pinned: Iterable[ContextInfo]) -> dict[str, str]:
    """Why each pinned context may not be refreshed in the background now (name -> reason;
    absent = fine). Approves contexts seen for the first time."""
    approved = load()
    first_seen: dict[str, str] = {}
    paused: dict[str, str] = {}
    for context in pinned:
        user = context.user
        if user is None or user.exec is None:
            continue
        problem = unsafe_file(user.path)
        if problem:
            paused[context.name] = problem + "; not used in the background"
            continue
        now = fingerprint(user)
        before = approved.get(context.name)
        if before is None:
            first_seen[context.name] = now
        elif before != now:
            paused[context.name] = (
                f"its plugin changed ({user.plugin} {' '.join(user.plugin_argv[1:])[:60]});"
                " choose Refresh now to allow it"
            )
    if first_seen:
        try:
            save({**approved, **first_seen})
        except (OSError, ValueError):
            pass  # approved again next time
    return paused
