"""The launcher that kubeconfig's ``exec.command`` points to: the fastest way to start the shim.

A tiny script with a ``#!/abs/path/to/python -IS`` shebang (both flags in one word, the only
form every kernel passes on): no ``site`` import, no console-script wrapper (which would import
``re``), no pyenv shim. Its body makes ``kubewarm`` importable the way
``credentials.bootstrap_code`` does and calls ``kubewarm.engine.hotpath.main()``; site-packages
directories are appended to ``sys.path`` (free on the hit path, which imports nothing from
them) so the slow path can still import keyring and friends.

It lives in kubewarm's data directory, not in the installation, so a kubeconfig keeps working
across in-place upgrades; ``kubewarm inject`` rewrites it each time. If the installation it
names has moved, it falls back to ``site`` and says how to repair. On Windows, where kubectl
cannot run a script, the command is ``kubewarm.exe`` with ``exec`` as its first argument.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass

from kubewarm.engine.cache.credentials import package_root
from kubewarm.engine.core import paths
from kubewarm.engine.core.atomic_write import write_atomic
from kubewarm.engine.kubeconfig.model import has_separator, is_shim_command, shim_prefix

NAME = "kubewarm-exec"
_SHEBANG_MAX = 127  # Linux before 5.1 cut longer shebang lines; macOS allows 512


@dataclass(frozen=True)
class ShimCommand:
    """What ``exec.command`` becomes, and the arguments it takes before the plugin's argv."""

    command: str
    prefix: tuple[str, ...] = ()


def default_path() -> str:
    return os.path.join(paths.data_dir(), "bin", NAME)


def _site_dirs(python: str) -> list[str]:
    """Where ``python`` finds third-party packages (for the shim's slow path)."""
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        dirs = list(site.getsitepackages())
        user_site = site.getusersitepackages()
        if site.ENABLE_USER_SITE and user_site in sys.path:
            dirs.append(user_site)
        return [d for d in dirs if os.path.isdir(d)]
    code = "import site,sys;print('\\n'.join(site.getsitepackages()))"
    try:
        out = subprocess.run(
            [python, "-I", "-c", code],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            cwd=paths.neutral_dir(),
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [d for d in out.splitlines() if d and os.path.isdir(d)]


def launcher_text(python: str, package_root: str, site_dirs: list[str]) -> str:
    """The launcher script's source."""
    direct = " " not in python and "\t" not in python and len(python) + 6 <= _SHEBANG_MAX
    if direct:
        head = f"#!{python} -IS\n"
    else:  # a shebang cannot name this interpreter: let /bin/sh exec it (costs ~1 ms)
        quoted = "'" + python.replace("'", "'\"'\"'") + "'"
        head = f"#!/bin/sh\n''''exec {quoted} -IS -- \"$0\" \"$@\" # '''\n"
    return (
        head + "# kubewarm-exec launcher: the command kubeconfig runs for wrapped users.\n"
        "# Written by `kubewarm inject` (which rewrites it); do not edit.\n"
        "import gc\n"
        "import sys\n"
        "gc.disable()  # a short-lived process: no collection passes while it starts\n"
        "m = type(sys)('kubewarm')\n"
        f"m.__path__ = [{package_root!r}]\n"
        "sys.modules['kubewarm'] = m\n"
        f"sys.path.extend({site_dirs!r})\n"
        "try:\n"
        "    from kubewarm.engine.hotpath import main\n"
        "except ImportError:  # kubewarm moved (reinstalled elsewhere): try site-packages\n"
        "    for name in [n for n in sys.modules if n.partition('.')[0] == 'kubewarm']:\n"
        "        del sys.modules[name]\n"
        "    import site\n"
        "    site.main()\n"
        "    try:\n"
        "        from kubewarm.engine.hotpath import main\n"
        "    except ImportError as exc:\n"
        "        sys.stderr.write(\n"
        "            'kubewarm: this launcher ({}) points at {}, where kubewarm is no longer'\n"
        "            ' installed ({}). Run `kubewarm inject` to rewrite it.\\n'\n"
        "            .format(sys.argv[0], m.__path__[0], exc)\n"
        "        )\n"
        "        sys.exit(127)\n"
        "main()\n"
    )


def write_launcher(path: str | None = None, python: str | None = None) -> str:
    """Write (or refresh) the launcher; returns its absolute path. Unchanged files are left
    alone, so a kubeconfig pointing at it never sees a half-written script."""
    target = os.path.abspath(path or default_path())
    interpreter = os.path.abspath(python or sys.executable)
    text = launcher_text(interpreter, package_root(), _site_dirs(interpreter))
    data = text.encode("utf-8")
    try:
        with open(target, "rb") as fh:
            if fh.read() == data and os.access(target, os.X_OK):
                return target
    except OSError:
        pass
    os.makedirs(os.path.dirname(target), exist_ok=True)
    write_atomic(target, data, mode=0o755)
    return target


def windows_command() -> str:
    """``kubewarm.exe`` beside this interpreter (the console script pip installs)."""
    for directory in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(directory or "", "kubewarm.exe")
        if os.path.isfile(candidate):
            return candidate
    found = shutil.which("kubewarm")
    if found:
        return os.path.abspath(found)
    raise FileNotFoundError("kubewarm.exe was not found beside this Python; use --command")


def shim_command(override: str | None = None, write: bool = True) -> ShimCommand:
    """The command ``kubewarm inject`` writes: ``override`` (``--command``), else the launcher
    (written now unless ``write`` is false), else on Windows ``kubewarm.exe exec``."""
    if override:
        if not is_shim_command(override):
            raise ValueError(
                f"--command {override}: must be a kubewarm shim, named kubewarm-exec (or"
                " kubewarm, which then gets `exec` as its first argument), so that status and"
                " restore recognise wrapped users"
            )
        command = os.path.abspath(override) if has_separator(override) else override
        if has_separator(command):
            if not os.path.isfile(command):
                raise FileNotFoundError(f"--command {override}: no such file")
            if not os.access(command, os.X_OK):
                raise PermissionError(f"--command {override}: not executable")
        elif shutil.which(command) is None:
            raise FileNotFoundError(f"--command {override}: not found on PATH")
        return ShimCommand(command, shim_prefix(command))
    if sys.platform == "win32":
        return ShimCommand(windows_command(), ("exec",))
    return ShimCommand(write_launcher() if write else os.path.abspath(default_path()))
