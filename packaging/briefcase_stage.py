"""Stage a Briefcase project from ``briefcase.toml`` and run Briefcase on it.

    python packaging/briefcase_stage.py [--out build/briefcase] [--print-config] [-- BRIEFCASE ARGS]

Briefcase reads settings only from ``[tool.briefcase]`` in a ``pyproject.toml``; kubewarm keeps
them in ``briefcase.toml``. This script writes ``<out>/pyproject.toml`` with ``[project]`` taken
from the repository's pyproject (name, version, description, dependencies: written once) and
``[tool.briefcase]`` from briefcase.toml (each app's ``requires`` gains the project's
dependencies), copies ``engine/`` and ``tray/`` into the app package ``src/kubewarm`` with a
``__main__`` that starts the tray, copies ``icons/``, then runs ``briefcase ARGS`` in ``<out>``
(e.g. ``-- create``, ``-- build``, ``-- package``; Briefcase clones its templates from the
network at ``create``: pass ``-C 'template="PATH"'`` for a local one where there is none;
``packaging/build.py`` does all of this in one command per format).

This file is a script, not a module of an importable ``packaging`` package: that name belongs
to the well-known ``packaging`` library.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the backport (a test dependency there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
MAIN = '''"""Briefcase entry point. The app's stub runs this module whatever its arguments.

- ``kubewarm-exec[.exe]`` (the Windows console stub beside the GUI one): the credential shim;
- ``kubewarm exec PLUGIN ...``: the shim (the launcher in a macOS bundle, which has no Python);
- ``kubewarm --kubewarm-helper CODE ARGS...``: a background helper (refresh, housekeeping),
  as ``python -I -c CODE ARGS...`` would run it where there is an interpreter;
- anything else: the tray app and the command line.
"""

import os
import sys


def _run() -> None:
    args = sys.argv[1:]
    stem = os.path.splitext(os.path.basename(sys.executable))[0].lower()
    if args[:1] == ["--kubewarm-helper"] and len(args) >= 2:  # whichever stub started it
        sys.argv = ["-c", *args[2:]]
        exec(compile(args[1], "<kubewarm helper>", "exec"), {"__name__": "__main__"})
    elif stem == "kubewarm-exec" or args[:1] == ["exec"]:
        from kubewarm.engine.hotpath import main

        main(args if stem == "kubewarm-exec" else args[1:])
    else:
        from kubewarm.tray.cli import main

        main()


_run()
'''


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_key(key: str) -> str:
    bare = key.replace("-", "").replace("_", "").isalnum()
    return key if bare else _toml_value(key)


def dump_toml(doc: dict, prefix: tuple[str, ...] = ()) -> str:
    """A small TOML writer for plain config documents (tables, strings, lists, booleans)."""
    scalars = {k: v for k, v in doc.items() if not isinstance(v, dict) or not v or _inline(v)}
    tables = {k: v for k, v in doc.items() if k not in scalars}
    out = []
    if prefix and (scalars or not tables):
        out.append("[" + ".".join(_toml_key(p) for p in prefix) + "]")
    out += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in scalars.items()]
    text = "\n".join(out) + ("\n\n" if out else "")
    for key, table in tables.items():
        text += dump_toml(table, (*prefix, key))
    return text


def _inline(value: dict) -> bool:
    return (
        all(not isinstance(v, dict) for v in value.values())
        and len(value) <= 3
        and all("." not in k for k in value)
    )


def merged_config(root: Path = ROOT) -> dict:
    """The staged pyproject: our [project] plus briefcase.toml's [tool.briefcase]."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    briefcase = tomllib.loads((root / "briefcase.toml").read_text())["tool"]["briefcase"]
    staged_project = {
        "name": project["name"],
        "version": project["version"],
        "description": project["description"],
        "requires-python": project.get("requires-python", ">=3.10"),
        "license": {"file": "LICENSE"},  # Briefcase packages the file itself
        "dependencies": list(project.get("dependencies", [])),
    }
    briefcase = dict(briefcase)
    briefcase.setdefault("version", project["version"])
    apps = {}
    for name, app in briefcase.get("app", {}).items():
        app = dict(app)
        app["requires"] = [*project.get("dependencies", []), *app.get("requires", [])]
        apps[name] = app
    briefcase["app"] = apps
    return {"project": staged_project, "tool": {"briefcase": briefcase}}


def stage(out: Path, root: Path = ROOT) -> Path:
    """Write the staged Briefcase project into ``out``; returns its pyproject path."""
    if out.exists():
        shutil.rmtree(out)
    package = out / "src" / "kubewarm"
    package.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(root / "engine", package / "engine", ignore=ignore)
    shutil.copytree(root / "tray", package / "tray", ignore=ignore)
    if (root / "icons").is_dir():
        shutil.copytree(root / "icons", out / "icons", ignore=ignore)
        shutil.copytree(root / "icons", package / "icons", ignore=ignore)
    (package / "__init__.py").write_text('"""kubewarm, as packaged by Briefcase."""\n')
    (package / "__main__.py").write_text(MAIN)
    for name in ("README.md", "LICENSE", "CHANGELOG.md"):
        if (root / name).exists():
            shutil.copy2(root / name, out / name)
    pyproject = out / "pyproject.toml"
    pyproject.write_text(
        "# Generated by packaging/briefcase_stage.py from pyproject.toml and briefcase.toml:"
        " do not edit.\n\n" + dump_toml(merged_config(root))
    )
    return pyproject


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "briefcase")
    parser.add_argument("--print-config", action="store_true", help="print the staged pyproject")
    parser.add_argument("briefcase_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    pyproject = stage(args.out)
    if args.print_config:
        print(pyproject.read_text())
    rest = [a for a in args.briefcase_args if a != "--"]
    if not rest:
        return 0
    return subprocess.run([sys.executable, "-m", "briefcase", *rest], cwd=args.out).returncode


if __name__ == "__main__":
    sys.exit(main())
