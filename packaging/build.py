"""Build kubewarm's installable packages with Briefcase: one command per format.

    python3 packaging/build.py deb [--template PATH] [--out DIR]   # Debian/Ubuntu, here
    python3 packaging/build.py dmg [--out DIR]                     # macOS (GitHub workflow)
    python3 packaging/build.py msi [--out DIR]                     # Windows (GitHub workflow)

Runs with the system Python and installs its own build tools: a venv in ``build/tools`` with
Briefcase 0.4.x (from PyPI) and, for ``deb``, the apt packages the build needs (as root; else
it says which are missing and the command that installs them). ``briefcase.toml`` holds every
Briefcase setting; ``briefcase_stage.py`` stages the project. ``--template`` is a local copy of
Briefcase's app template (``-C template="PATH"``) for machines that cannot reach GitHub; with
it the build needs the network only for PyPI. The package gets ``.pyc`` files (they save ~5 ms
per kubectl call, and a package's files are not writable to create them later), and exactly
one ``kubewarm_*.deb`` / ``.dmg`` / ``.msi`` is written to ``--out`` (default ``dist/``).

On Windows the package also gets ``kubewarm-exec.exe``, a console-subsystem copy of the app's
stub: kubectl reads an exec plugin's stdout, which the GUI stub would send to a console window
or a log file (see README, *Installing*).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BRIEFCASE = "briefcase>=0.4,<0.5"
DEB_APT = ("gcc", "make", "python3-dev", "python3-venv", "libgirepository1.0-dev",
           "libcairo2-dev", "pkg-config", "dpkg-dev")  # fmt: skip
FORMATS = {
    "deb": ("linux", "system", ".deb"),
    "dmg": ("macOS", "app", ".dmg"),
    "msi": ("windows", "app", ".msi"),
}


class BuildError(Exception):
    """A build cannot go on; the message says what is missing and how to get it."""


def _run(argv: list[str], cwd: Path | None = None, env: dict | None = None) -> None:
    print("+ " + " ".join(argv), flush=True)
    result = subprocess.run(argv, cwd=cwd, env=env, check=False)
    if result.returncode != 0:
        raise BuildError(f"{argv[0]} {' '.join(argv[1:3])} … failed (exit {result.returncode})")


def missing_apt(packages=DEB_APT) -> list[str]:
    """The apt packages of ``packages`` not installed."""
    if not shutil.which("dpkg-query"):
        return list(packages)
    missing = []
    for name in packages:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True
        ).stdout
        if "install ok installed" not in out:
            missing.append(name)
    return missing


def ensure_apt(packages=DEB_APT) -> None:
    missing = missing_apt(packages)
    if not missing:
        return
    command = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if sys.platform == "win32" or os.geteuid() != 0:
        raise BuildError(
            f"missing build tools: {', '.join(missing)};"
            f" install them with: sudo {' '.join(command)}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-qq"], env=env)
    _run(command, env=env)


def tools_venv(build: Path, base: str = sys.executable) -> Path:
    """A venv over ``base`` with Briefcase 0.4.x (and Pillow, for the icons); returns its
    Python. A Linux system package must be built by the system python3 (Briefcase checks)."""
    venv = build / ("tools-" + Path(base).name)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        try:
            import venv as _venv  # noqa: F401
        except ImportError:  # checks this Python; a failing `base -m venv` says it too
            raise BuildError(
                "this Python has no venv module: apt-get install python3-venv"
            ) from None
        _run([base, "-m", "venv", str(venv)])
    check = subprocess.run(
        [str(python), "-c", "import briefcase, PIL"], capture_output=True, check=False
    )
    if check.returncode != 0:
        _run([str(python), "-m", "pip", "install", "-q", BRIEFCASE, "pillow>=9"])
    return python


def _compile(python: str, folders: list[Path]) -> None:
    """Ship ``.pyc``: unchecked hashes, valid whatever the installed files' times."""
    names = [str(f) for f in folders if f.is_dir()]
    if names:
        _run([python, "-m", "compileall", "-q", "-j", "0",
              "--invalidation-mode", "unchecked-hash", *names])  # fmt: skip


def build(fmt: str, out: Path, template: str | None, workdir: Path) -> Path:
    platform, output, suffix = FORMATS[fmt]
    expected = {"deb": "linux", "dmg": "darwin", "msi": "win32"}[fmt]
    if not sys.platform.startswith(expected):
        raise BuildError(f"{fmt} packages are built on {expected}, not {sys.platform}")
    if fmt == "deb":
        ensure_apt()
    system = "/usr/bin/python3"
    python = tools_venv(
        workdir, system if fmt == "deb" and os.path.exists(system) else sys.executable
    )
    _run([str(python), str(ROOT / "packaging" / "draw_icons.py")])
    sys.path.insert(0, str(ROOT / "packaging"))
    import briefcase_stage  # its sibling script, by path (packaging/ is no package)

    stage = workdir / "briefcase"
    briefcase_stage.stage(stage)
    bc = [str(python), "-m", "briefcase"]
    create = [*bc, "create", platform, output, "--no-input"]
    if template:
        create += ["-C", f'template="{Path(template).resolve()}"']
    _run(create, cwd=stage)
    _run([*bc, "build", platform, output, "--no-input"], cwd=stage)
    if fmt == "msi":
        _add_console_stub(bc, stage, template)
    if fmt == "deb":
        bundle = next((stage / "build" / "kubewarm").glob("*/*/kubewarm-*/usr/lib/kubewarm"))
        _compile("/usr/bin/python3", [bundle / "app", bundle / "app_packages"])
    else:  # the bundle's app/ and app_packages/ only (build/kubewarm/<os>/app is the bundle)
        app_dirs = [
            p for p in (stage / "build").rglob("app") if (p.parent / "app_packages").is_dir()
        ]
        _compile(str(python), app_dirs + [p.parent / "app_packages" for p in app_dirs])
    package = [*bc, "package", platform, output, "--no-input"]
    if fmt in ("dmg", "msi"):
        package.append("--adhoc-sign")
    _run(package, cwd=stage)
    built = sorted((stage / "dist").glob(f"*{suffix}"))
    if len(built) != 1:
        raise BuildError(f"expected one {suffix} in {stage / 'dist'}, found {len(built)}")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(f"kubewarm*{suffix}"):
        old.unlink()
    name = built[0].name
    if fmt == "deb" and not name.startswith("kubewarm_"):
        name = "kubewarm_" + name.split("_", 1)[-1]
    target = out / name
    shutil.copy2(built[0], target)
    return target


def _add_console_stub(bc: list[str], stage: Path, template: str | None) -> None:
    """Windows: build the console-app variant too, and put its stub beside the GUI one as
    ``kubewarm-exec.exe`` (the MSI takes every file under the bundle's ``src``).

    Briefcase's Windows template ships the stub as ``src/Stub.exe``; ``briefcase build``
    renames it (``<formal_name>.exe`` for a GUI app, ``<app_name>.exe`` for a console app: both
    ``kubewarm.exe`` here) and stamps its version resource, whose ``InternalName`` (the module
    name, ``kubewarm``) is the module the stub runs when ``BRIEFCASE_MAIN_MODULE`` is unset. So
    the console stub is taken after ``build``: an unbuilt one would run no module at all. The
    ``kubewarm`` module's ``__main__`` starts the shim when the program is named
    kubewarm-exec."""
    console = stage.parent / "briefcase-console"
    if console.exists():
        shutil.rmtree(console)
    shutil.copytree(stage, console, ignore=shutil.ignore_patterns("build", "dist"))
    pyproject = console / "pyproject.toml"
    text = pyproject.read_text()
    if "console_app = false" not in text:
        raise BuildError(f"no `console_app = false` in {pyproject} to switch")
    pyproject.write_text(text.replace("console_app = false", "console_app = true"))
    create = [*bc, "create", "windows", "app", "--no-input"]
    if template:
        create += ["-C", f'template="{Path(template).resolve()}"']
    _run(create, cwd=console)
    _run([*bc, "build", "windows", "app", "--no-input"], cwd=console)
    stub = console / "build" / "kubewarm" / "windows" / "app" / "src" / "kubewarm.exe"
    if not stub.is_file():
        raise BuildError(f"the console build left no {stub}")
    target = stage / "build" / "kubewarm" / "windows" / "app" / "src" / "kubewarm-exec.exe"
    shutil.copy2(stub, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("format", choices=sorted(FORMATS))
    parser.add_argument("--template", metavar="PATH", help="a local Briefcase app template")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--workdir", type=Path, default=ROOT / "build")
    args = parser.parse_args(argv)
    try:
        target = build(args.format, args.out.resolve(), args.template, args.workdir.resolve())
    except BuildError as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 1
    print(f"built {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
