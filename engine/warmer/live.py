"""The running warmer's live phases, for ``kubewarm pins`` in another process.

The cache and the kubeconfig say *warm* or *not cached*; only the warmer knows that a context
is refreshing, failed (and why) or needs a login. It writes those phases to
``<cache dir>/warmer-live.json`` whenever they change, and touches the file on every heartbeat;
a reader trusts the file only while it is fresh (touched within three heartbeats), so a warmer
that died leaves nothing misleading behind. Never holds a credential.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping

from kubewarm.engine.contexts.state import FAILED, NEEDS_LOGIN, REFRESHING, ContextState
from kubewarm.engine.core import events_log, paths
from kubewarm.engine.core.atomic_write import write_atomic
from kubewarm.engine.core.safe_files import private_dir
from kubewarm.engine.errors import KubewarmError

LIVE_PHASES = (REFRESHING, FAILED, NEEDS_LOGIN)
FILE_NAME = "warmer-live.json"
FRESH_BEATS = 3


def live_file() -> str:
    return os.path.join(paths.cache_dir(), FILE_NAME)


def encode(states: Iterable[ContextState], heartbeat: float) -> bytes:
    """The file's bytes: the pid, the heartbeat and each context's live phase and reason."""
    live = {
        s.name: {"phase": s.phase, "reason": s.reason} for s in states if s.phase in LIVE_PHASES
    }
    body = {"version": 1, "pid": os.getpid(), "heartbeat": heartbeat, "contexts": live}
    return json.dumps(body, sort_keys=True).encode("utf-8")


def write(data: bytes) -> None:
    """Replace the file (in kubewarm's private cache folder)."""
    private_dir(paths.cache_dir())
    write_atomic(live_file(), data)


def touch() -> None:
    """Say "still running" without rewriting the file (one utime per heartbeat)."""
    try:
        os.utime(live_file())
    except OSError:
        pass


def remove() -> None:
    try:
        os.unlink(live_file())
    except OSError:
        pass


class Publisher:
    """The running warmer's side: writes the file when the phases changed, touches it on each
    heartbeat once written, removes it when the warmer stops."""

    def __init__(self, heartbeat: float) -> None:
        self._heartbeat = heartbeat
        self._data = b""  # what the file holds

    def publish(self, states: Iterable[ContextState]) -> None:
        """Write the live phases when they changed (never raises: logged instead)."""
        data = encode(states, self._heartbeat)
        if data == self._data:
            return
        try:
            write(data)
            self._data = data
        except (OSError, KubewarmError) as exc:
            events_log.write(f"warmer: cannot write {FILE_NAME}: {exc}")

    def touch(self) -> None:
        if self._data:
            touch()

    def remove(self) -> None:
        remove()
        self._data = b""


def read(now: float | None = None) -> dict[str, tuple[str, str]]:
    """{context: (phase, reason)} from a fresh file, else {} (no warmer running)."""
    now = time.time() if now is None else now
    try:
        with open(live_file(), "rb") as fh:
            mtime = os.fstat(fh.fileno()).st_mtime
            body = json.loads(fh.read(1 << 20))
        heartbeat = float(body.get("heartbeat", 10.0))
        if now - mtime > FRESH_BEATS * heartbeat:
            return {}
        contexts = body.get("contexts", {})
        return {
            str(name): (str(item["phase"]), str(item.get("reason", "")))
            for name, item in contexts.items()
            if item.get("phase") in LIVE_PHASES
        }
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return {}


def overlay(
    states: Mapping[str, ContextState], now: float | None = None
) -> dict[str, ContextState]:
    """``states`` with the running warmer's live phases laid over them."""
    live = read(now)
    return {
        name: state.with_phase(*live[name]) if name in live else state
        for name, state in states.items()
    }
