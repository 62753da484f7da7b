"""Open a file in the desktop's default application (``xdg-open``, ``open``, ``os.startfile``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable

from kubewarm.engine.core.paths import neutral_dir
from kubewarm.engine.core.processes import own_group


def opener(path: str) -> list[str] | None:
    """The command that opens ``path`` on this desktop (None on Windows: ``os.startfile``)."""
    if sys.platform == "win32":
        return None
    if sys.platform == "darwin":
        return ["open", path]
    tool = shutil.which("xdg-open") or shutil.which("gio")
    if tool is None:
        return []
    return [tool, "open", path] if os.path.basename(tool) == "gio" else [tool, path]


def open_path(path: str, on_error: Callable[[str], None], create: bool = False) -> None:
    """Open ``path`` without blocking; ``on_error(message)`` is called if that fails."""
    if create and not os.path.exists(path):
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            on_error(f"cannot create {path}: {exc.strerror}")
            return
    if sys.platform == "win32":  # opener() gives no command there: os.startfile, Windows only
        try:
            os.startfile(path)
        except OSError as exc:
            on_error(f"cannot open {path}: {exc}")
        return
    command = opener(path)
    if not command:
        on_error(f"no program to open files with (xdg-open); the log is {path}")
        return
    new_session, flags = own_group()
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=new_session,
            creationflags=flags,
            cwd=neutral_dir(),
        )
    except OSError as exc:
        on_error(f"cannot run {command[0]}: {exc.strerror}")
        return

    def reap() -> None:
        try:
            code = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            return
        if code != 0:
            on_error(f"{os.path.basename(command[0])} could not open {path} (exit {code})")

    threading.Thread(target=reap, name="open-path", daemon=True).start()
