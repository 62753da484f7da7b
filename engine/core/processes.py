"""How kubewarm starts a child it does not wait on in the foreground: in its own session (POSIX)
or process group (Windows), so that a terminal's Ctrl-C or the caller's exit does not reach it
and a timeout can kill it with everything it started."""

from __future__ import annotations

import os
import subprocess

NO_WINDOW, DETACHED = "no-window", "detached"


def own_group(windows: str = NO_WINDOW) -> tuple[bool, int]:
    """``(start_new_session, creationflags)`` for ``subprocess.Popen``. On Windows the child gets
    a new process group and, ``windows`` says, no console window (output captured) or none at
    all (``DETACHED``: not even the caller's)."""
    if os.name == "posix":
        return True, 0
    extra = subprocess.DETACHED_PROCESS if windows == DETACHED else subprocess.CREATE_NO_WINDOW
    return False, subprocess.CREATE_NEW_PROCESS_GROUP | extra
