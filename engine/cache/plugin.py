"""Running the wrapped credential plugin (slow path only)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Mapping

from kubewarm.engine.core.paths import neutral_dir
from kubewarm.engine.core.processes import DETACHED, own_group
from kubewarm.engine.errors import KubewarmError
from kubewarm.engine.hotpath import write_stdout

# The most plugin output kubewarm caches (an ExecCredential is a few KB; a client certificate
# chain tens). Larger output still reaches kubectl unchanged, but is neither held in memory
# whole nor stored.
CACHE_LIMIT = 1 << 20


class PluginResult:
    """A finished plugin run. ``stderr`` is only captured in the background (else: the tty's).
    ``passed_through``: the output was over :data:`CACHE_LIMIT` and went straight to stdout."""

    __slots__ = ("passed_through", "returncode", "stderr", "stdout", "timed_out")

    def __init__(
        self,
        returncode: int,
        stdout: bytes,
        stderr: bytes = b"",
        timed_out: bool = False,
        passed_through: bool = False,
    ) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out
        self.passed_through = passed_through

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


def run_foreground(
    argv: list[str], env: Mapping[str, str], limit: int = CACHE_LIMIT
) -> PluginResult:
    """Run with stdin and stderr passed through (prompts work) and stdout captured, up to
    ``limit`` bytes; past that, everything is streamed to our stdout unchanged.

    A plugin that hangs here is the user's to wait for: it may be showing an MFA prompt.
    """
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=_clean_env(env))
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        raise PluginNotFound(f"cannot run plugin {argv[0]!r}: {exc.strerror}") from exc
    stdout = proc.stdout
    # stdout=PIPE with the default buffering is a BufferedReader, which has read1.
    assert isinstance(stdout, io.BufferedReader)
    held = bytearray()
    passed = False
    with stdout:
        while chunk := stdout.read1(1 << 16):
            if not passed and len(held) + len(chunk) <= limit:
                held += chunk
                continue
            if not passed:
                passed = True
                _pass_on(bytes(held))
                held.clear()
            _pass_on(chunk)
    return PluginResult(proc.wait(), bytes(held), passed_through=passed)


def _pass_on(data: bytes) -> None:
    """Write to stdout; a reader that went away (kubectl killed) does not stop the drain."""
    try:
        write_stdout(data)
    except OSError:
        pass


def run_background(argv: list[str], env: Mapping[str, str], timeout: float) -> PluginResult:
    """Run with no terminal, all output captured, in a neutral working directory (the caller
    may be a tray started anywhere); on timeout kill it and its children."""
    # Passed by name, not as **kwargs: a dict would hide from the type checker that this
    # Popen reads bytes (no text=...). Both are the defaults where they do not apply.
    new_session, flags = own_group()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_clean_env(env),
            cwd=neutral_dir(),
            start_new_session=new_session,
            creationflags=flags,
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
    new_session, flags = own_group(DETACHED)
    subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(env),
        cwd=neutral_dir(),
        close_fds=True,
        start_new_session=new_session,
        creationflags=flags,
    )
    if sys.stderr is not None:  # None under pythonw
        sys.stderr.flush()
