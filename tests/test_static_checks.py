"""ruff and pyright over the project, as CI runs them (the README's test command runs pytest).

pyright runs once per platform kubewarm supports, so that each ``sys.platform`` / ``os.name``
branch is checked where it runs; the three runs go in parallel (~20 s each alone). It resolves
``kubewarm.*`` to the installed copy, like the other tests: reinstall before running this.
A failure prints the tool's own output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PATHS = ["engine", "tray", "icons", "tests", "bench", "packaging"]
PLATFORMS = ["Linux", "Windows", "Darwin"]
TIMEOUT = 240  # seconds per tool run; each takes well under a minute here


def _tool(name: str) -> str:
    """The tool installed beside this interpreter (the test extra), else on PATH."""
    here = Path(sys.executable).parent / (name + (".exe" if os.name == "nt" else ""))
    found = str(here) if here.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install '.[test]'")
    return found


def _report(result: subprocess.CompletedProcess[str], what: str) -> str:
    return f"{what} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def test_ruff_check():
    result = _run([_tool("ruff"), "check", *PATHS])
    assert result.returncode == 0, _report(result, "ruff check")


def test_ruff_format():
    result = _run([_tool("ruff"), "format", "--check", *PATHS])
    assert result.returncode == 0, _report(result, "ruff format --check (run `ruff format`)")


@pytest.fixture(scope="module")
def pyright_runs() -> dict[str, subprocess.CompletedProcess[str]]:
    """pyright for each platform, started together and all waited for."""
    env = {**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}  # no look-up of newer versions
    argv = [_tool("pyright"), "--pythonpath", sys.executable, "--pythonplatform"]
    procs = {
        platform: subprocess.Popen(
            [*argv, platform],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for platform in PLATFORMS
    }
    results = {}
    try:
        for platform, proc in procs.items():
            out, _ = proc.communicate(timeout=TIMEOUT)
            results[platform] = subprocess.CompletedProcess(proc.args, proc.returncode, out, "")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    return results


@pytest.mark.parametrize("platform", PLATFORMS)
def test_pyright(platform: str, pyright_runs: dict[str, subprocess.CompletedProcess[str]]):
    result = pyright_runs[platform]
    assert result.returncode == 0, _report(result, f"pyright --pythonplatform {platform}")
    assert "0 errors" in result.stdout, result.stdout
