"""The launcher that kubeconfig's ``exec.command`` points to: the fastest way to start the shim.

A tiny ``sh`` script that runs itself with ``/abs/path/to/python -IS``: no ``site`` import, no
console-script wrapper (which would import ``re``), no pyenv shim. ``sh`` first checks that the
interpreter still exists, and otherwise runs the plugin directly (as the body does when
kubewarm's files are gone), so an uninstall never breaks kubectl. Its Python body makes
``kubewarm`` importable the way ``credentials.bootstrap_code`` does and calls
``kubewarm.engine.hotpath.main()``; site-packages directories are appended to ``sys.path``
(free on the hit path, which imports nothing from them) so the slow path can still import
keyring and friends.

It lives in kubewarm's data directory, not in the installation, so a kubeconfig keeps working
across in-place upgrades; ``kubewarm inject`` rewrites it each time. If the installation it
names has moved, it falls back to ``site``; if kubewarm is gone, it runs the plugin. On
Windows, where kubectl cannot run a script, the command is a console program
(:func:`windows_command`).
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass

from kubewarm.engine.core import paths
from kubewarm.engine.core.atomic_write import write_atomic
from kubewarm.engine.kubeconfig.model import has_separator, is_shim_command, shim_prefix
from kubewarm.engine.system.install import current

NAME = "kubewarm-exec"


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


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


GONE_MESSAGE = (
    "kubewarm: this launcher ({launcher}) cannot start kubewarm ({what} is gone): running"
    " {plugin} directly. To clean up, reinstall kubewarm and run `kubewarm uninstall`, or set"
    " each wrapped user's exec.command back to the first of its exec.args."
)


def _gone_echo(what: str) -> str:
    """The ``sh`` line that prints :data:`GONE_MESSAGE` (``$0`` and ``$1`` expanded by sh)."""

    def escape(text: str) -> str:
        for c in ("\\", '"', "`", "$"):
            text = text.replace(c, "\\" + c)
        return text

    text = escape(GONE_MESSAGE).format(launcher="$0", what=escape(what), plugin="$1")
    return f"printf '%s\\n' \"{text}\" >&2\n"


BODY = """import gc
import sys
gc.disable()  # a short-lived process: no collection passes while it starts
m = type(sys)('kubewarm')
m.__path__ = [{root!r}]
sys.modules['kubewarm'] = m
sys.path.extend({site_dirs!r})
try:
    from kubewarm.engine.hotpath import main
except ImportError:  # kubewarm moved (reinstalled elsewhere): try site-packages
    for name in [n for n in sys.modules if n.partition('.')[0] == 'kubewarm']:
        del sys.modules[name]
    import site
    site.main()
    try:
        from kubewarm.engine.hotpath import main
    except ImportError as exc:  # gone: never break kubectl, run the plugin itself
        import os
        plugin = sys.argv[1] if len(sys.argv) > 1 else 'no plugin'
        what = '{{}} ({{}})'.format(m.__path__[0], exc)
        sys.stderr.write({message!r}.format(launcher=sys.argv[0], what=what, plugin=plugin))
        sys.stderr.write('\\n')
        if len(sys.argv) < 2:
            sys.exit(127)
        try:
            os.execvp(sys.argv[1], sys.argv[1:])
        except OSError as err:
            sys.stderr.write('kubewarm: cannot run {{}}: {{}}\\n'.format(sys.argv[1], err))
            sys.exit(127)
main()
"""


def launcher_text(
    python: str | None, package_root: str, site_dirs: list[str], app: str | None = None
) -> str:
    """The launcher script's source: a POSIX ``sh`` script that is also a Python script.

    ``sh`` checks that the interpreter is still there and runs this same file with
    ``python -IS`` (~1 ms); when it is gone (package removed, venv deleted, the
    Python under a pipx venv upgraded away) it runs the plugin itself, with one stderr line
    saying how to clean up, so kubectl keeps working after an uninstall; the Python body does
    the same when kubewarm's files are gone (a package removed, its interpreter kept). With
    ``python`` None (a macOS bundle) ``sh`` runs ``app exec`` instead: the app's signed stub
    is the shim."""
    if python:
        guard = f"[ -x {_sh_quote(python)} ] && "
        run = f'exec {_sh_quote(python)} -IS "$0" "$@"'
        what = python
    else:
        if not app:
            raise ValueError("a launcher needs an interpreter or the app's program")
        guard = f"[ -x {_sh_quote(app)} ] && "
        run = f'exec {_sh_quote(app)} exec "$@"'
        what = app
    head = (
        "#!/bin/sh\n"
        "''':'\n"
        "# kubewarm-exec launcher: the command kubeconfig runs for wrapped users.\n"
        "# Written by `kubewarm inject` (which rewrites it); do not edit.\n"
        f"{guard}{run}\n" + _gone_echo(what) + 'exec "$@"\n'
        "'''\n"
    )
    return head + BODY.format(root=package_root, site_dirs=site_dirs, message=GONE_MESSAGE)


def write_launcher(path: str | None = None, python: str | None = None) -> str:
    """Write (or refresh) the launcher; returns its absolute path. Unchanged files are left
    alone, so a kubeconfig pointing at it never sees a half-written script. The interpreter
    is this installation's real Python (``install.current()``), never a Briefcase stub."""
    installation = current()
    target = os.path.abspath(path or default_path())
    interpreter = os.path.abspath(python) if python else installation.python
    if interpreter and installation.is_bundle and not python:
        site_dirs = [d for d in installation.extra_path if os.path.isdir(d)]
    elif interpreter:
        site_dirs = _site_dirs(interpreter)
    else:
        site_dirs = []
    text = launcher_text(interpreter, installation.package_root, site_dirs, installation.app)
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


def windows_command() -> ShimCommand:
    """The exec command on Windows, where kubectl cannot run a script: a console program.
    In a Briefcase bundle, ``kubewarm-exec.exe`` (a console stub beside the app's GUI stub,
    which would send the token to a console window or a log file instead of to kubectl);
    from pip, the ``kubewarm.exe`` console script with ``exec`` as its first argument."""
    installation = current()
    if installation.is_bundle:
        if installation.exec_program:
            return ShimCommand(installation.exec_program)
        raise FileNotFoundError(
            f"kubewarm-exec.exe is missing beside {installation.app}: reinstall kubewarm"
        )
    for directory in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(directory or "", "kubewarm.exe")
        if os.path.isfile(candidate):
            return ShimCommand(candidate, ("exec",))
    found = shutil.which("kubewarm")
    if found:
        return ShimCommand(os.path.abspath(found), ("exec",))
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
        return windows_command()
    return ShimCommand(write_launcher() if write else os.path.abspath(default_path()))
