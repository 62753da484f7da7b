"""The GitHub workflow (``.github/workflows/ci.yml``) cannot run here: its structure is checked
instead, and the smoke test it runs on the installed .dmg and .msi
(``packaging/smoke_installed.py``) runs here on a venv's ``kubewarm``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.fixtures_core import require

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
SMOKE = ROOT / "packaging" / "smoke_installed.py"


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _runs(job: dict) -> list[str]:
    return [step.get("run", "") for step in job["steps"]]


def test_jobs_and_the_installed_app_matrix():
    jobs = _workflow()["jobs"]
    assert {"linux", "other-os", "installed-app"} <= set(jobs)
    job = jobs["installed-app"]
    pairs = {(m["os"].split("-")[0], m["format"]) for m in job["strategy"]["matrix"]["include"]}
    assert pairs == {("macos", "dmg"), ("windows", "msi")}
    assert job["strategy"]["fail-fast"] is False
    assert job["env"]["CI"] == "true", "a skip for a missing tool is an error (conftest)"
    assert job["timeout-minutes"] <= 60


def test_installed_app_builds_installs_and_smoke_tests_in_order():
    steps = _workflow()["jobs"]["installed-app"]["steps"]
    text = [str(s.get("run", "")) + str(s.get("uses", "")) for s in steps]

    def first(fragment: str) -> int:
        found = [i for i, t in enumerate(text) if fragment in t]
        assert found, f"no step runs {fragment!r}"
        return found[0]

    tools = first("kubectl version --client")
    assert first("openssl version") == tools
    build = first("packaging/build.py ${{ matrix.format }}")
    dmg, msi = first("hdiutil attach"), first("msiexec.exe")
    smoke = first("packaging/smoke_installed.py --app")
    assert tools < build < dmg < smoke and build < msi < smoke
    assert steps[dmg]["if"] == "matrix.format == 'dmg'"
    assert steps[msi]["if"] == "matrix.format == 'msi'"
    assert "/qn" in text[msi] and "/l*v" in text[msi], "quiet, with a log"
    assert "kubewarm-exec.exe" in text[msi], "the console stub must be installed"
    assert "smoke_installed.py" not in text[dmg] + text[msi]
    assert not steps[smoke].get("if"), "the smoke test runs for both formats"


def test_no_step_can_fail_quietly():
    """A missing tool or a failed command fails the job: no continue-on-error, every multi-line
    bash script stops at its first error, and PowerShell stops on errors."""
    for name, job in _workflow()["jobs"].items():
        assert not job.get("continue-on-error"), name
        shell = job.get("defaults", {}).get("run", {}).get("shell", "bash")
        for step in job["steps"]:
            assert not step.get("continue-on-error"), (name, step.get("name"))
            run = step.get("run", "")
            if step.get("shell", shell) == "bash" and run.count("\n") > 1:
                assert run.startswith("set -euo pipefail"), (name, step.get("name"))
            if step.get("shell") == "pwsh" and step.get("if") != "always()":
                assert '$ErrorActionPreference = "Stop"' in run, (name, step.get("name"))


def _smoke(app: str, work: Path, path: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": path if path is not None else os.environ["PATH"]}
    return subprocess.run(
        [sys.executable, str(SMOKE), "--app", app, "--work", str(work)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.real
def test_smoke_passes_on_an_installed_kubewarm(tmp_path):
    require(shutil.which("kubectl") is not None, "kubectl on PATH")
    require(shutil.which("openssl") is not None, "openssl")
    app = shutil.which("kubewarm", path=str(Path(sys.executable).parent))
    assert app, "the test venv's kubewarm"
    result = _smoke(app, tmp_path / "smoke")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "kubectl miss then hit" in result.stdout


def test_smoke_fails_without_kubectl_rather_than_skipping(tmp_path):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    result = _smoke(sys.executable, tmp_path / "smoke", path=str(empty))
    assert result.returncode == 1
    assert result.stderr.strip() == "smoke_installed.py: kubectl is not on PATH"


@pytest.mark.real
def test_smoke_fails_when_the_app_does_not_wrap_kubectl(tmp_path):
    if sys.platform == "win32":
        pytest.skip("other platform: the stand-in app is a /bin/sh script")
    require(shutil.which("kubectl") is not None, "kubectl on PATH")
    require(shutil.which("openssl") is not None, "openssl")
    fake = tmp_path / "kubewarm"
    fake.write_text("#!/bin/sh\nexit 0\n")  # answers, but injects nothing
    fake.chmod(0o755)
    result = _smoke(str(fake), tmp_path / "smoke")
    assert result.returncode == 1 and "not a kubewarm-exec" in result.stderr, result.stderr
