"""Layout rules of the product design: import names, the packaging/ folder, Briefcase settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the backport (a test dependency there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packaging"))
import briefcase_stage  # noqa: E402  (a script in packaging/, imported by path for testing)

sys.path.remove(str(ROOT / "packaging"))


def test_packaging_folder_does_not_shadow_the_packaging_library(tmp_path):
    assert not (ROOT / "packaging" / "__init__.py").exists()
    result = subprocess.run(
        [sys.executable, "-c", "import packaging.version as v; print(v.Version('1.2').major)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == "1", result.stderr


def test_import_names_live_under_kubewarm(tmp_path):
    code = (
        "import importlib.util as u, kubewarm.engine, kubewarm.tray;"
        "print(u.find_spec('engine') is None, u.find_spec('tray') is None)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.stdout.split() == ["True", "True"], result.stderr


def test_staged_pyproject_carries_briefcase_toml_and_our_project(tmp_path):
    pyproject = briefcase_stage.stage(tmp_path / "stage")
    staged = tomllib.loads(pyproject.read_text())
    ours = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    settings = tomllib.loads((ROOT / "briefcase.toml").read_text())["tool"]["briefcase"]
    assert staged["project"]["version"] == ours["version"]
    app = staged["tool"]["briefcase"]["app"]["kubewarm"]
    assert app["formal_name"] == settings["app"]["kubewarm"]["formal_name"]
    assert set(ours["dependencies"]) <= set(app["requires"])
    assert staged["tool"]["briefcase"]["app"]["kubewarm"]["macOS"]["info"]["LSUIElement"] is True
    package = tmp_path / "stage" / "src" / "kubewarm"
    assert (package / "__main__.py").exists()
    assert (package / "engine" / "hotpath.py").exists() and (package / "tray" / "cli.py").exists()


def test_briefcase_itself_accepts_the_staged_project(tmp_path):
    config = pytest.importorskip("briefcase.config", reason="needs briefcase (test extra)")
    from briefcase.console import Console

    pyproject = briefcase_stage.stage(tmp_path / "stage")
    global_config, apps = config.parse_config(
        pyproject, platform="linux", output_format="system", console=Console()
    )
    assert global_config["project_name"] == "kubewarm"
    app = apps["kubewarm"]
    assert app["sources"] == ["src/kubewarm"]
    assert "PyGObject<3.51" in app["requires"] and "keyring>=24" in app["requires"]
    assert (
        app["version"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    )
