"""Remembering which kubectl process was served which credential, to spot a rejected token.

client-go tells a plugin nothing when the API server answers 401: it simply runs the plugin
again, in the same kubectl process. So the shim records, per key, the calling process and the
credential it got; when that same process asks again while the cache still holds that same
credential, the credential was rejected and is refreshed instead of served.

"The same process" is PID + start time + executable: gcloud's kubectl dispatcher runs the plugin
and then execs a versioned kubectl in the same PID, which asks again legitimately. Lean on
purpose: this runs on the hit path.
"""

from __future__ import annotations

import os
import sys

from kubewarm.engine import paths


def marker_dir() -> str:
    return os.path.join(paths.cache_dir(), "served")


def caller_identity() -> str:
    """A string naming the calling process (our parent) across its exec()s' distinctions."""
    ppid = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            with open(f"/proc/{ppid}/stat", "rb") as fh:
                stat = fh.read()
            start = stat[stat.rfind(b")") + 2 :].split(b" ")[19].decode()
            exe = os.readlink(f"/proc/{ppid}/exe")
            return f"{ppid}:{start}:{exe}"
        except (OSError, IndexError, UnicodeDecodeError):
            pass
    return str(ppid)


def _marker_path(key: str, identity: str) -> str:
    return os.path.join(marker_dir(), key[:32] + "-" + identity.split(":", 1)[0])


def was_served(key: str, digest: str, identity: str) -> bool:
    """True when this process was already served exactly this credential for this key."""
    try:
        with open(_marker_path(key, identity), encoding="utf-8", errors="replace") as fh:
            served_digest, _, served_identity = fh.read().partition(" ")
    except OSError:
        return False
    return served_digest == digest[:32] and served_identity == identity


def mark(key: str, digest: str, identity: str) -> None:
    """Record that the calling process got the credential with ``digest``; failures are ignored."""
    path = _marker_path(key, identity)
    data = (digest[:32] + " " + identity).encode("utf-8", "surrogateescape")
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except FileNotFoundError:
            try:
                os.makedirs(marker_dir(), mode=0o700, exist_ok=True)
            except OSError:
                return
            continue
        except OSError:
            return
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        return


def prune(max_age: float = 3600.0) -> int:
    """Delete markers older than ``max_age`` seconds; returns how many went."""
    import time

    removed = 0
    cutoff = time.time() - max_age
    try:
        entries = list(os.scandir(marker_dir()))
    except OSError:
        return 0
    for item in entries:
        try:
            if item.stat().st_mtime < cutoff:
                os.unlink(item.path)
                removed += 1
        except OSError:
            continue
    return removed
