"""Which kind of installation this is, and which program starts kubewarm's own processes.

One decision, used by the background helpers (``credentials.helper_command``), the launcher
``kubewarm inject`` writes and the login item: inside a Briefcase bundle ``sys.executable`` is
the app's stub (``/usr/bin/kubewarm``, ``…/Contents/MacOS/kubewarm``, ``kubewarm.exe``), which
runs a fixed module, so it must never be used as a Python interpreter.

- **venv / pipx / plain Python**: ``sys.executable`` is a real interpreter; its unresolved path
  is kept (a venv's ``bin/python`` finds the venv's site-packages; pipx re-creates the same path
  on ``pipx reinstall``).
- **Briefcase, Linux system package**: the stub embeds the system Python, so
  ``/usr/bin/python3.X`` of the same version runs the bundle's files (``app`` and
  ``app_packages`` on ``sys.path``), with ``-I -S`` and the shipped ``.pyc``.
- **Briefcase, macOS and Windows**: the bundle holds no usable interpreter; the stub itself
  runs kubewarm's ``__main__``, which dispatches ``exec`` (the shim) and helpers. On macOS
  that also gives the keychain one code signature for writer and reader. On Windows the
  exec command must be a console program: ``kubewarm-exec.exe``, a console stub beside the GUI
  one (added by ``packaging/build.py msi``).

:func:`describe` is a pure function of the facts it is given (tested with recorded layouts);
:func:`current` gives it this process's facts.
"""

from __future__ import annotations

import ntpath
import os
import posixpath
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

VENV = "venv"
PIPX = "pipx"
PYTHON = "python"  # a plain interpreter (system or user site-packages)
BRIEFCASE_LINUX = "briefcase-linux"
BRIEFCASE_MACOS = "briefcase-macos"
BRIEFCASE_WINDOWS = "briefcase-windows"
HELPER_FLAG = "--kubewarm-helper"  # the bundle's __main__: run argv[2] as a helper statement


@dataclass(frozen=True)
class Installation:
    """How this copy of kubewarm is installed, and how to start its processes.

    ``python`` is a real interpreter that accepts ``-I -S -c`` (None inside a macOS or Windows
    bundle, where :attr:`app` runs helpers instead); ``extra_path`` is what that interpreter
    needs on ``sys.path`` beyond ``package_root`` (a bundle's ``app_packages``); ``app`` is the
    program a user starts (the stub, or the ``kubewarm`` console script); ``exec_program`` the
    console program a kubeconfig may name directly when no launcher script can be used."""

    kind: str
    package_root: str
    python: str | None
    app: str | None
    extra_path: tuple[str, ...] = field(default_factory=tuple)
    exec_program: str | None = None

    @property
    def is_bundle(self) -> bool:
        return self.kind.startswith("briefcase-")

    def helper_argv(self, code: str) -> list[str]:
        """argv that runs the Python source ``code`` in an isolated process of this installation."""
        if self.python:
            return [self.python, "-I", "-c", code]
        assert self.app, "a bundle without an interpreter has its stub"
        return [self.app, HELPER_FLAG, code]

    def tray_argv(self) -> list[str]:
        """argv of this installation's tray (for the login item)."""
        if self.is_bundle:
            assert self.app
            return [self.app, "tray"]
        if self.app:
            return [self.app, "tray"]
        assert self.python
        return [self.python, "-I", "-m", "kubewarm.tray", "tray"]


def _is_python(executable: str) -> bool:
    name = os.path.basename(executable).lower()
    return name.startswith("python") or name.startswith("pypy")


def describe(
    executable: str,
    package_root: str,
    platform: str,
    version: tuple[int, int],
    prefix: str,
    base_prefix: str,
    exists: Callable[[str], bool] = os.path.exists,
    scripts_dir: str | None = None,
) -> Installation:
    """Decide the installation from ``sys.executable``, the directory holding kubewarm's
    subpackages, ``sys.platform``, the Python version and ``sys.prefix``/``base_prefix``.
    ``exists`` is the only access to the file system (a set's ``__contains__`` in tests)."""
    join = _join_for(platform)
    dirname = _dirname_for(platform)
    app_dir = dirname(package_root)
    bundle_root = dirname(app_dir)
    in_bundle = (
        app_dir.replace("\\", "/").rsplit("/", 1)[-1] == "app"
        and exists(join(bundle_root, "app_packages"))
        and not _is_python(executable)
    )
    if in_bundle:
        extra = (app_dir, join(bundle_root, "app_packages"))
        if platform == "darwin":
            return Installation(BRIEFCASE_MACOS, package_root, None, executable, extra)
        if platform == "win32":
            # Run as kubewarm-exec.exe (the shim, e.g. starting a background refresh), the
            # app is still the GUI stub beside it: the console stub runs the shim whatever
            # its arguments, and a console program would open a window for a helper.
            console = join(dirname(executable), "kubewarm-exec.exe")
            app = join(dirname(executable), "kubewarm.exe")
            return Installation(
                BRIEFCASE_WINDOWS,
                package_root,
                None,
                app if exists(app) else executable,
                extra,
                console if exists(console) else None,
            )
        major, minor = version
        python = None
        for candidate in (
            f"/usr/bin/python{major}.{minor}",
            f"/usr/local/bin/python{major}.{minor}",
        ):
            if exists(candidate):
                python = candidate
                break
        return Installation(BRIEFCASE_LINUX, package_root, python, executable, extra)
    bindir = dirname(executable)
    if platform == "win32":
        script_dirs = [d for d in (scripts_dir, bindir, join(bindir, "Scripts")) if d]
        app = next(
            (join(d, "kubewarm.exe") for d in script_dirs if exists(join(d, "kubewarm.exe"))), None
        )
    else:
        candidate = join(bindir, "kubewarm")
        app = candidate if exists(candidate) else None
    if prefix != base_prefix:
        parts = prefix.replace("\\", "/").split("/")
        kind = PIPX if "pipx" in parts and "venvs" in parts else VENV
    else:
        kind = PYTHON
    return Installation(kind, package_root, executable, app)


def _join_for(platform: str) -> Callable[..., str]:
    if platform == "win32":
        return ntpath.join

    return posixpath.join


def _dirname_for(platform: str) -> Callable[[str], str]:
    if platform == "win32":
        return ntpath.dirname

    return posixpath.dirname


def package_root() -> str:
    """The directory that ``kubewarm``'s subpackages live in (site-packages/kubewarm, a bundle's
    app/kubewarm, or the source tree of an editable install)."""
    here = os.path.abspath(__file__)  # <root>/engine/system/install.py
    return os.path.dirname(os.path.dirname(os.path.dirname(here)))


def current() -> Installation:
    """This process's installation."""
    scripts = None
    if sys.platform == "win32":  # where pip puts kubewarm.exe (sysconfig is slow elsewhere)
        import sysconfig  # lazy: start-up (only for a pip install on Windows)

        scripts = sysconfig.get_path("scripts")
    return describe(
        os.path.abspath(sys.executable),
        package_root(),
        sys.platform,
        (sys.version_info[0], sys.version_info[1]),
        sys.prefix,
        getattr(sys, "base_prefix", sys.prefix),
        scripts_dir=scripts,
    )
