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

import json
import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass, field

from kubewarm.engine import __version__
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
    note: str | None = field(default=None, compare=False)  # one line for the report


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


OWNER_MARK = "# installation: "


@dataclass(frozen=True)
class Owner:
    """The installation a launcher runs, as recorded in its comment: kubewarm's version, its
    package root and the program the launcher starts (an interpreter, or a macOS app's stub)."""

    version: str
    package_root: str
    program: str

    def line(self) -> str:
        """The comment line; JSON with every quote escaped, so neither ``sh`` nor the
        launcher's Python string literal can be ended by a path."""
        text = json.dumps(
            {"version": self.version, "package_root": self.package_root, "program": self.program}
        )
        return OWNER_MARK + text.replace("'", "\\u0027") + "\n"

    def describe(self) -> str:
        return f"kubewarm {self.version} at {self.package_root} (run by {self.program})"


def read_owner(text: str) -> Owner | None:
    """The :class:`Owner` recorded in a launcher's text; None for a launcher written before
    kubewarm recorded it, or anything else."""
    for line in text.splitlines()[:12]:
        if line.startswith(OWNER_MARK):
            try:
                data = json.loads(line[len(OWNER_MARK) :])
                return Owner(str(data["version"]), str(data["package_root"]), str(data["program"]))
            except (ValueError, KeyError, TypeError):
                return None
    return None


def version_key(version: str) -> tuple[int, ...]:
    """``"0.10.2"`` > ``"0.9"``: the release numbers only (a local ``+tag`` is ignored; a
    pre-release counts as its release)."""
    release = re.match(r"\d+(?:\.\d+)*", version.split("+", 1)[0].strip())
    return tuple(int(n) for n in release.group(0).split(".")) if release else ()


class LauncherRefused(ValueError):
    """``inject`` would replace a launcher written by a newer kubewarm (a downgrade)."""


def _installed(owner: Owner, exists: Callable[[str], bool]) -> bool:
    """Whether the installation ``owner`` names is still there (its shim and its program)."""
    hotpath = os.path.join(owner.package_root, "engine", "hotpath.py")
    return exists(hotpath) and exists(owner.program)


def decide(
    existing: Owner | None,
    mine: Owner,
    force: bool,
    path: str,
    exists: Callable[[str], bool] = os.path.exists,
) -> tuple[bool, str | None]:
    """Whether ``inject`` (re)writes the launcher at ``path`` for this installation
    (``mine``), and the one line to report. Raises :class:`LauncherRefused` for a downgrade.

    - no launcher, one written before kubewarm recorded its owner, or one for this same
      installation (package root): rewrite silently — an upgrade in place;
    - written by a newer kubewarm: refused unless ``force``, even in place (an older
      kubewarm cannot know what the newer one's launcher or cache entries need);
    - another installation that still exists (pipx and the .deb side by side): left as it
      is, and said, unless ``force``: kubectl keeps running the one it ran, and which one
      that is never changes behind the user's back; with ``force`` it switches, and says so;
    - another installation that is gone: rewritten silently (that is an upgrade or a move).
    """
    if existing is None:
        return True, None
    if version_key(existing.version) > version_key(mine.version) and not force:
        raise LauncherRefused(
            f"the launcher {path} was written by a newer kubewarm ({existing.describe()});"
            f" this is kubewarm {mine.version}: refusing to downgrade it"
            " (`kubewarm inject --force` does)"
        )
    same = os.path.normcase(os.path.realpath(existing.package_root)) == os.path.normcase(
        os.path.realpath(mine.package_root)
    )
    if same or not _installed(existing, exists):
        return True, None
    if force:
        return True, (
            f"the launcher {path} now runs this installation ({mine.describe()})"
            f" instead of {existing.describe()}"
        )
    return False, (
        f"kubeconfig's launcher {path} runs another installation, {existing.describe()},"
        f" not this one ({mine.describe()}); left it as it is"
        " (`kubewarm inject --force` switches it to this one)"
    )


def launcher_text(
    python: str | None,
    package_root: str,
    site_dirs: list[str],
    app: str | None = None,
    version: str = __version__,
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
        # Briefcase's macOS GUI stub logs two lines through NSLog (stderr, so on every
        # kubectl call) when the app ships no std-nslog handler, unless it believes Xcode
        # captures its output: this variable is the stub's own test for that.
        run = f'IDE_DISABLED_OS_ACTIVITY_DT_MODE=1 exec {_sh_quote(app)} exec "$@"'
        what = app
    head = (
        "#!/bin/sh\n"
        "''':'\n"
        "# kubewarm-exec launcher: the command kubeconfig runs for wrapped users.\n"
        "# Written by `kubewarm inject` (which rewrites it); do not edit.\n"
        + Owner(version, package_root, what).line()
        + f"{guard}{run}\n"
        + _gone_echo(what)
        + 'exec "$@"\n'
        "'''\n"
    )
    return head + BODY.format(root=package_root, site_dirs=site_dirs, message=GONE_MESSAGE)


def _text_for(installation, python: str | None) -> str:
    """This installation's launcher text (``python`` overrides its interpreter)."""
    interpreter = os.path.abspath(python) if python else installation.python
    if interpreter and installation.is_bundle and not python:
        site_dirs = [d for d in installation.extra_path if os.path.isdir(d)]
    elif interpreter:
        site_dirs = _site_dirs(interpreter)
    else:
        site_dirs = []
    return launcher_text(interpreter, installation.package_root, site_dirs, installation.app)


def write_launcher(path: str | None = None, python: str | None = None) -> str:
    """Write (or refresh) the launcher; returns its absolute path. Unchanged files are left
    alone, so a kubeconfig pointing at it never sees a half-written script. The interpreter
    is this installation's real Python (``install.current()``), never a Briefcase stub."""
    target = os.path.abspath(path or default_path())
    data = _text_for(current(), python).encode("utf-8")
    try:
        with open(target, "rb") as fh:
            if fh.read() == data and os.access(target, os.X_OK):
                return target
    except OSError:
        pass
    os.makedirs(os.path.dirname(target), exist_ok=True)
    write_atomic(target, data, mode=0o755)
    return target


def _existing_owner(path: str) -> Owner | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return read_owner(fh.read(4096))
    except OSError:
        return None


def inject_launcher(
    path: str | None = None, write: bool = True, force: bool = False
) -> ShimCommand:
    """The launcher as ``kubewarm inject`` leaves it: written for this installation unless
    it runs another installation that still exists (or a newer kubewarm), see :func:`decide`;
    the returned command's ``note`` says what was kept or switched. ``write`` false (a dry
    run) decides and reports the same without writing."""
    target = os.path.abspath(path or default_path())
    installation = current()
    program = installation.python or installation.app or ""
    mine = Owner(__version__, installation.package_root, program)
    rewrite, note = decide(_existing_owner(target), mine, force, target)
    if rewrite and write:
        write_launcher(target)
    return ShimCommand(target, (), note)


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


def shim_command(
    override: str | None = None, write: bool = True, force: bool = False
) -> ShimCommand:
    """The command ``kubewarm inject`` writes: ``override`` (``--command``), else the launcher
    (written now unless ``write`` is false; ``force`` as in :func:`inject_launcher`), else on
    Windows ``kubewarm.exe exec``."""
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
    return inject_launcher(write=write, force=force)
