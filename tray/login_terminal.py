"""Run a login command (``gcloud auth login``, ``aws sso login --profile …``, ``az login``, or
the plugin itself) where a person can answer it, then call back so the context is refreshed.

On Linux it runs in the desktop's terminal (``x-terminal-emulator`` and the usual ones): these
tools print a code or a link and open the browser themselves, and some ask questions. The
terminal program may return at once (gnome-terminal hands the window to a server), so the
command itself drops a marker file when it is done; we wait for that, at most 15 minutes.
Without a terminal (macOS, Windows, none found) the command runs directly: the browser-based
logins still work, and a failure is reported.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping

from kubewarm.engine.core.paths import neutral_dir
from kubewarm.engine.warmer.login import LoginPlan

TERMINALS = (
    ("x-terminal-emulator", "-e"),
    ("gnome-terminal", "--"),
    ("konsole", "-e"),
    ("xfce4-terminal", "-x"),
    ("xterm", "-e"),
)
WAIT_SECONDS = 15 * 60
# a terminal program that returns sooner has handed the window to a server (gnome-terminal);
# one that ran longer and is gone without the status was closed before the login finished
HANDOFF_SECONDS = 3.0
PREFIX = "kubewarm-login-"  # the status folders in the temp dir
STALE_SECONDS = WAIT_SECONDS + 3600  # older than any wait: its tray stopped during a login
# "$@" runs the login; the marker says it ended (and how), written whole (a rename) so that it
# is never read half-written; a failure stays on screen
_SCRIPT = (
    'echo "kubewarm: $KUBEWARM_LOGIN_TITLE"; "$@"; s=$?; m="$KUBEWARM_LOGIN_MARKER";'
    ' echo $s > "$m.part" && mv -f "$m.part" "$m";'
    ' if [ $s -ne 0 ]; then echo "login failed (exit $s); press Enter to close"; read _; fi'
)


def terminal() -> list[str] | None:
    """argv prefix of the desktop's terminal, running what follows it (None: no terminal)."""
    if not sys.platform.startswith("linux"):
        return None
    for name, flag in TERMINALS:
        path = shutil.which(name)
        if path:
            return [path, flag]
    return None


def command(plan: LoginPlan, marker: str) -> tuple[list[str], dict[str, str]]:
    """(argv, extra environment) that runs ``plan`` in a terminal and writes ``marker``."""
    prefix = terminal()
    if prefix is None:
        return list(plan.argv), {}
    extra = {"KUBEWARM_LOGIN_MARKER": marker, "KUBEWARM_LOGIN_TITLE": plan.title}
    return [*prefix, "sh", "-c", _SCRIPT, "sh", *plan.argv], extra


def _remove(folder: str, marker: str) -> None:
    """Remove the marker's private directory (a login that timed out may write it later)."""
    for remove, path in ((os.unlink, marker), (os.unlink, marker + ".part"), (os.rmdir, folder)):
        try:
            remove(path)
        except OSError:
            pass


def remove_stale(now: float | None = None) -> int:
    """Remove status folders a tray left when it stopped during a login (this user's, older
    than any wait); returns how many went."""
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError:
        return 0
    removed = 0
    for entry in entries:
        if not entry.name.startswith(PREFIX):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or now - st.st_mtime < STALE_SECONDS:
            continue
        if sys.platform != "win32" and st.st_uid != os.getuid():
            continue
        _remove(entry.path, os.path.join(entry.path, "status"))
        removed += not os.path.lexists(entry.path)
    return removed


def run_login(
    plan: LoginPlan,
    env: Mapping[str, str],
    done: Callable[[], None],
    failed: Callable[[str], None],
) -> None:
    """Start the login without blocking; ``done()`` after it succeeded, ``failed(why)`` else."""
    # in a directory only this user can write: the shell's `>` follows a symlink someone
    # could plant at a known path in the shared temp dir
    remove_stale()
    folder = tempfile.mkdtemp(prefix=PREFIX)
    marker = os.path.join(folder, "status")
    argv, extra = command(plan, marker)
    try:
        proc = subprocess.Popen(
            argv,
            env={**os.environ, **env, **extra},
            stdin=subprocess.DEVNULL if not extra else None,
            start_new_session=True,
            cwd=neutral_dir(),
        )
    except OSError as exc:
        _remove(folder, marker)
        failed(f"cannot run {argv[0]}: {exc.strerror}")
        return

    def wait() -> None:
        started = time.monotonic()
        deadline = started + WAIT_SECONDS
        code: int | None = None
        why = "timed out"
        gone: float | None = None  # when the terminal program exited
        while time.monotonic() < deadline:
            if os.path.exists(marker):
                with open(marker, encoding="ascii", errors="replace") as fh:
                    text = fh.read().strip()
                code = int(text) if text.isdigit() else 1
                break
            status = proc.poll()
            if status is not None and not extra:
                code = status
                break
            if status is not None:
                gone = gone or time.monotonic()
                if gone - started < HANDOFF_SECONDS and status != 0:
                    why = f"the terminal exited with status {status}"
                    break
                if gone - started >= HANDOFF_SECONDS and time.monotonic() - gone >= 1.0:
                    why = "the terminal was closed before it finished"  # no status after 1 s
                    break
            time.sleep(0.5)
        _remove(folder, marker)
        if code == 0:
            done()
        else:
            failed(f"{plan.title} did not succeed ({why if code is None else f'exit {code}'})")

    threading.Thread(target=wait, name="login", daemon=True).start()
