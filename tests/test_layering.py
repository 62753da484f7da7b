"""The architecture, held by parsing every module's imports (``ast``, nothing is imported).

``RULES`` below is the map of which layer may import which; each rule names a breach it must
catch, and ``test_each_rule_catches_its_breach`` checks that it does. Imports inside functions
(kept out of start-up, or of a platform that lacks the module) carry their reason in a
``# lazy: ...`` comment on the same line or the line above.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# folder -> the import name of its modules (setuptools' package-dir in pyproject.toml)
PACKAGE_OF = {
    "engine": "kubewarm.engine",
    "tray": "kubewarm.tray",
    "icons": "kubewarm.icons",
    "tests": "tests",
    "bench": "",  # scripts, run by path
    "packaging": "",  # scripts, run by path; never a package (it would shadow pypa's)
}
PRODUCT = ("kubewarm",)  # where imports inside functions need their reason
PACKAGING_SCRIPTS = tuple(sorted(p.stem for p in (ROOT / "packaging").glob("*.py")))
ANY = "*"


@dataclass(frozen=True)
class Rule:
    why: str
    importers: tuple[str, ...]  # modules the rule holds for (name prefixes; ANY: every module)
    forbidden: tuple[str, ...]  # what they must not import (prefixes)
    allowed: tuple[str, ...] = ()  # exceptions among the forbidden
    exempt: tuple[str, ...] = ()  # importers the rule does not hold for
    breach: tuple[str, str] = ("", "")  # (importer, imported): one import the rule must refuse


RULES = (
    Rule(
        why="engine is the whole product without a GUI: it never imports the tray",
        importers=("kubewarm.engine",),
        forbidden=("kubewarm.tray",),
        breach=("kubewarm.engine.contexts.status", "kubewarm.tray.menu_model"),
    ),
    Rule(
        why="core is the bottom layer: it imports only itself, the hit path and the errors",
        importers=("kubewarm.engine.core",),
        forbidden=("kubewarm",),
        allowed=("kubewarm.engine.core", "kubewarm.engine.hotpath", "kubewarm.engine.errors"),
        breach=("kubewarm.engine.core.settings", "kubewarm.engine.stores.choice"),
    ),
    Rule(
        why="stores keep credentials and know nothing of what asks for them",
        importers=("kubewarm.engine.stores",),
        forbidden=(
            "kubewarm.engine.kubeconfig",
            "kubewarm.engine.contexts",
            "kubewarm.engine.warmer",
            "kubewarm.engine.cli",
            "kubewarm.engine.system",
        ),
        breach=("kubewarm.engine.stores.choice", "kubewarm.engine.contexts.state"),
    ),
    Rule(
        why="the CLI is an adaptor: only the tray's entry point (kubewarm tray | …) reaches it",
        importers=(ANY,),
        forbidden=("kubewarm.engine.cli",),
        exempt=("kubewarm.engine.cli", "kubewarm.tray", "tests"),  # tests may drive it directly
        breach=("kubewarm.engine.kubeconfig.inject", "kubewarm.engine.cli.kubeconfig"),
    ),
    Rule(
        why="the warmer is started by adaptors (CLI, tray), never by a use case",
        importers=("kubewarm.engine",),
        forbidden=("kubewarm.engine.warmer",),
        exempt=("kubewarm.engine.cli", "kubewarm.engine.warmer"),
        breach=("kubewarm.engine.contexts.pins", "kubewarm.engine.warmer.warmer"),
    ),
    Rule(
        why="packaging/ holds build scripts, run by path; only its own test loads one",
        importers=(ANY,),
        forbidden=("packaging", *PACKAGING_SCRIPTS),
        exempt=("tests.test_packaging", *PACKAGING_SCRIPTS),  # a script may use its sibling
        breach=("kubewarm.tray.icons", "draw_icons"),
    ),
)


# --- reading the imports ---------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports (a module, or the module a name comes from)
    path: Path
    line: int
    in_function: bool
    reason: str  # the "# lazy: ..." reason on its line or the line above ("" if none)


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    package = PACKAGE_OF[rel.parts[0]]
    parts = [*rel.parts[1:-1], *(() if rel.stem == "__init__" else (rel.stem,))]
    return ".".join(p for p in (package, *parts) if p)


def project_files() -> list[Path]:
    return sorted(f for folder in PACKAGE_OF for f in (ROOT / folder).rglob("*.py"))


_LAZY = re.compile(r"#\s*lazy:\s*(\S.*)$")


def _reason(lines: list[str], line: int) -> str:
    """The ``# lazy:`` reason on ``line`` (1-based) or on a comment line just above it."""
    found = _LAZY.search(lines[line - 1])
    if not found and line >= 2 and lines[line - 2].lstrip().startswith("#"):
        found = _LAZY.search(lines[line - 2])
    return found.group(1).strip() if found else ""


def imports_of(
    source: str,
    module: str,
    path: Path,
    is_package: bool = False,
    modules: frozenset[str] = frozenset(),
) -> list[Import]:
    """Every import in ``source``, resolved to absolute names: ``from pkg import mod`` counts
    as importing ``pkg.mod`` when that is one of ``modules``, else as importing ``pkg``."""
    tree = ast.parse(source, str(path))
    lines = source.splitlines()
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                if isinstance(child, ast.Import):
                    targets = [alias.name for alias in child.names]
                else:
                    base = child.module or ""
                    if child.level:
                        anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                        base = ".".join([*anchor, *([base] if base else [])])
                    targets = [
                        f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                        for alias in child.names
                    ]
                reason = _reason(lines, child.lineno)
                for target in targets:
                    found.append(Import(module, target, path, child.lineno, inside, reason))
            visit(child, inside)

    visit(tree, False)
    return found


def all_imports() -> list[Import]:
    files = project_files()
    modules = frozenset(module_name(path) for path in files)
    result: list[Import] = []
    for path in files:
        source = path.read_text(encoding="utf-8")
        name, is_package = module_name(path), path.name == "__init__.py"
        result += imports_of(source, name, path, is_package, modules)
    return result


# --- the rules -------------------------------------------------------------------------------


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(p == ANY or name == p or name.startswith(p + ".") for p in prefixes)


def breaches(rule: Rule, imports: list[Import]) -> list[Import]:
    return [
        imp
        for imp in imports
        if _under(imp.module, rule.importers)
        and not _under(imp.module, rule.exempt)
        and _under(imp.target, rule.forbidden)
        and not _under(imp.target, rule.allowed)
    ]


def _where(imp: Import) -> str:
    return f"{imp.path.relative_to(ROOT)}:{imp.line}: {imp.module} imports {imp.target}"


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return all_imports()


@pytest.mark.parametrize("rule", RULES, ids=[r.why.split(":")[0] for r in RULES])
def test_layering(rule: Rule, imports: list[Import]):
    found = breaches(rule, imports)
    assert not found, f"{rule.why}:\n" + "\n".join(_where(imp) for imp in found)


@pytest.mark.parametrize("rule", RULES, ids=[r.why.split(":")[0] for r in RULES])
def test_each_rule_catches_its_breach(rule: Rule):
    """A rule that could not fail would hold nothing: the breach it names must be refused, in
    both spellings of an import."""
    importer, target = rule.breach
    package, _, name = target.rpartition(".")
    spellings = [f"import {target}\n"] + ([f"from {package} import {name}\n"] if package else [])
    for source in spellings:
        found = imports_of(source, importer, ROOT / "x.py", modules=frozenset({target}))
        assert breaches(rule, found), f"{rule.why}: {importer} may {source.strip()}"


def test_rules_name_modules_that_exist(imports: list[Import]):
    """A rule about a renamed or moved package would silently hold nothing."""
    modules = {module_name(p) for p in project_files()}
    named = {
        p
        for rule in RULES
        for p in (*rule.importers, *rule.forbidden, *rule.allowed, *rule.exempt)
        if p not in (ANY, "packaging", "kubewarm") and p not in PACKAGING_SCRIPTS
    }
    missing = {p for p in named if not any(m == p or m.startswith(p + ".") for m in modules)}
    assert not missing, f"rules name modules that do not exist: {sorted(missing)}"
    assert PACKAGING_SCRIPTS, "packaging/ has no scripts: the packaging rule holds nothing"


def test_packaging_is_not_a_package():
    """An ``__init__.py`` would make packaging/ shadow pypa's ``packaging`` library from the
    checkout (pip, setuptools and briefcase import it)."""
    assert not (ROOT / "packaging" / "__init__.py").exists()


def test_imports_inside_functions_say_why(imports: list[Import]):
    unexplained = sorted(
        {
            f"{imp.path.relative_to(ROOT)}:{imp.line}"
            for imp in imports
            if imp.in_function and _under(imp.module, PRODUCT) and not imp.reason
        }
    )
    assert not unexplained, (
        "an import inside a function needs its reason, e.g. `# lazy: start-up`,"
        " `# lazy: optional dependency` or `# lazy: platform-only`, on its line or the line"
        " above:\n" + "\n".join(unexplained)
    )


def test_lazy_reason_is_read_from_the_line_or_the_line_above():
    source = (
        "import os\n"
        "def f():\n"
        "    import json  # lazy: start-up\n"
        "    # lazy: platform-only\n"
        "    import winreg\n"
        "    import yaml\n"
        "    import re  # fast enough\n"
    )
    found = {
        imp.target: (imp.in_function, imp.reason)
        for imp in imports_of(source, "kubewarm.engine.x", ROOT / "x.py")
    }
    assert found == {
        "os": (False, ""),
        "json": (True, "start-up"),
        "winreg": (True, "platform-only"),
        "yaml": (True, ""),
        "re": (True, ""),
    }


def test_relative_and_from_imports_resolve():
    source = "from . import paths\nfrom ..stores import choice, StoreUnavailable\n"
    known = frozenset({"kubewarm.engine.core.paths", "kubewarm.engine.stores.choice"})
    found = imports_of(source, "kubewarm.engine.core.settings", ROOT / "x.py", modules=known)
    assert {imp.target for imp in found} == {
        "kubewarm.engine.core.paths",
        "kubewarm.engine.stores.choice",
        "kubewarm.engine.stores",  # StoreUnavailable is a name in the package
    }
