"""The README: its two set-up commands are the ones CI runs, the install puts `kubewarm` on
PATH (the venv route and the pipx route), every example names a real command, and a quick
start comes before the how-to and the reference."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures_core import require
from tests.tray_helpers import KUBEWARM

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("```sh", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_starts_with_install_and_test_commands():
    text = (ROOT / "README.md").read_text()
    assert text.index("```sh") < text.index("\n## ")  # before any section
    install, test = _readme_commands()
    assert "pip install ." in install and "kubewarm" in install.rsplit("&&", 1)[1]
    assert "pytest" in test and "install-system-deps.sh" in test


def test_ci_runs_exactly_the_readme_test_command():
    _, test = _readme_commands()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci_lines


def _sh_lines() -> list[str]:
    """Every command line of the README's ``sh`` blocks (comments after ``#`` cut off)."""
    text = (ROOT / "README.md").read_text()
    lines = []
    for block in text.split("```sh")[1:]:
        for line in block.split("```", 1)[0].splitlines():
            line = line.split("  #", 1)[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def test_readme_leads_with_a_quick_start_then_how_to_then_reference():
    text = (ROOT / "README.md").read_text()
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[0] == "## Quick start"
    for how_to in ("## Installing", "## Wiring a kubeconfig", "## Uninstalling"):
        assert headings.index(how_to) < headings.index("## Reference")
    before_reference = text[: text.index("\n## Reference")]
    for internal in ("D-Bus", "SecKeychain", "CredReadW", "APScheduler", "_sha256"):
        assert internal not in before_reference, f"{internal} belongs in docs/, not the how-to"
    for link in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / link).is_file(), link


def test_every_kubewarm_example_names_a_real_command():
    """The examples use the bare ``kubewarm`` the install command puts on PATH; each names a
    subcommand that exists (``kubewarm SUB --help`` succeeds)."""
    subcommands = set()
    for line in _sh_lines():
        for part in re.split(r"&&|;", line):
            words = part.split()
            if words and words[0] == "kubewarm" and len(words) > 1:
                subcommands.add(words[1])
    assert {"inject", "pin", "pins", "restore", "status", "unpin"} <= subcommands
    require(KUBEWARM.exists(), "the kubewarm console script in the test venv")
    for sub in sorted(subcommands):
        result = subprocess.run(
            [str(KUBEWARM), sub, "--help"], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, f"kubewarm {sub}: {result.stderr}"


def _clean_env(home: Path) -> dict[str, str]:
    """A user's environment with a fresh HOME and nothing of this test venv on PATH."""
    path = [p for p in os.environ["PATH"].split(os.pathsep) if ".venv" not in p]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "KUBEWARM_"))}
    return {**env, "HOME": str(home), "PATH": os.pathsep.join(path)}


@pytest.mark.slow
def test_readme_install_command_puts_kubewarm_on_path(tmp_path):
    """The README's first command, verbatim up to its last step (which starts the tray), run
    in a fresh HOME: afterwards the bare ``kubewarm`` the examples use is found."""
    install, _ = _readme_commands()
    steps, last = install.rsplit("&&", 1)
    assert last.strip() == "kubewarm"
    home = tmp_path / "home"
    home.mkdir()
    env = _clean_env(home)
    assert shutil.which("kubewarm", path=env["PATH"]) is None
    script = f"{steps} && command -v kubewarm && kubewarm --version"
    result = subprocess.run(
        ["sh", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found = result.stdout.splitlines()[-2]
    assert found == str(home / ".local" / "bin" / "kubewarm")
    assert result.stdout.splitlines()[-1].startswith("kubewarm ")
    # a new login shell on Debian/Ubuntu finds it too: ~/.profile adds ~/.local/bin when present
    assert (home / ".local" / "bin" / "kubewarm").resolve().is_file()


@pytest.mark.slow
def test_pipx_install_from_the_checkout(tmp_path):
    """The README's pipx route: ``pipx install .`` with a private PIPX_HOME and PIPX_BIN_DIR
    puts a working ``kubewarm`` (and ``kubewarm-exec``) in the bin folder."""
    home, bin_dir = tmp_path / "home", tmp_path / "bin"
    home.mkdir()
    env = {
        **_clean_env(home),
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(bin_dir),
        "PIPX_MAN_DIR": str(tmp_path / "man"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pipx", "install", "."],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    version = subprocess.run(
        ["kubewarm", "--version"], env=env, capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0 and version.stdout.startswith("kubewarm "), version
    assert (bin_dir / "kubewarm-exec").exists()
    removed = subprocess.run(
        [sys.executable, "-m", "pipx", "uninstall", "kubewarm"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert removed.returncode == 0, removed.stderr
    assert not (bin_dir / "kubewarm").exists()
