"""Running the wrapped credential plugin (slow path only)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping

from kubewarm.engine.core.paths import neutral_dir
from kubewarm.engine.errors import KubewarmError


class PluginResult:
    """A finished plugin run. ``stderr`` is only captured in the background (else: the tty's)."""

    __slots__ = ("returncode", "stderr", "stdout", "timed_out")

    def __init__(self, returncode: int, stdout: bytes, stderr: bytes = b"", timed_out=False):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out

    def reason(self) -> str:
        """One short line saying why the run failed (the last non-empty stderr line)."""
        if self.timed_out:
            return "timed out"
        lines = [ln.strip() for ln in self.stderr.decode("utf-8", "replace").splitlines()]
        lines = [ln for ln in lines if ln]
        tail = lines[-1] if lines else ""
        return (f"exit {self.returncode}: {tail}" if tail else f"exit {self.returncode}")[:200]


class PluginNotFound(KubewarmError):
    """The plugin's executable does not exist or cannot be run."""


def _clean_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != "KUBEWARM_BACKGROUND_REFRESH"}


def run_foreground(argv: list[str], env: Mapping[str, str]) -> PluginResult:
    """Run with stdin and stderr passed through (prompts work) and stdout captured.

    A plugin that hangs here is the user's to wait for: it may be showing an MFA prompt.
    """
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, env=_clean_env(env), check=False)
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        raise PluginNotFound(f"cannot run plugin {argv[0]!r}: {exc.strerror}") from exc
    return PluginResult(proc.returncode, proc.stdout)


def run_background(argv: list[str], env: Mapping[str, str], timeout: float) -> PluginResult:
    """Run with no terminal, all output captured, in a neutral working directory (the caller
    may be a tray started anywhere); on timeout kill it and its children."""
    kwargs: dict = {}
    if os.name == "posix":
        kwargs["start_new_session"] = True
    else:  # pragma: no cover - Windows
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_clean_env(env),
            cwd=neutral_dir(),
            **kwargs,
        )
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        raise PluginNotFound(f"cannot run plugin {argv[0]!r}: {exc.strerror}") from exc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_tree(proc)
        proc.communicate()
        return PluginResult(-9, b"", b"", timed_out=True)
    return PluginResult(proc.returncode, out, err)


def kill_tree(proc: subprocess.Popen) -> None:
    """Kill ``proc`` and everything it started (its own session / process group)."""
    if os.name == "posix":
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    else:  # pragma: no cover - Windows
        subprocess.run(
            ["taskkill", "/F", "/T", "/PID", str(proc.pid)],
            capture_output=True,
            check=False,
            cwd=neutral_dir(),
        )
    try:
        proc.kill()
    except OSError:
        pass


def spawn_detached(argv: list[str], env: Mapping[str, str]) -> None:
    """Start ``argv`` detached from the caller, in a neutral working directory: kubectl neither
    waits for it nor sees its output, and nothing in the caller's folder can affect it."""
    kwargs: dict = {"close_fds": True}
    if os.name == "posix":
        kwargs["start_new_session"] = True
    else:  # pragma: no cover - Windows
        kwargs["creationflags"] = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
    subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(env),
        cwd=neutral_dir(),
        **kwargs,
    )
    sys.stderr.flush()
