"""Two installations of kubewarm on one machine (pipx and the .deb side by side, or a downgrade):
``kubewarm inject`` says which one the launcher runs, never switches it behind the user's back,
and refuses to replace a newer kubewarm's launcher, unless ``--force``.

Two real venvs, each with its own copy of the installed package (its dependencies come from the
test venv through a ``.pth`` file), run the real CLI as a user would."""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest
from kubewarm.engine import __version__
from kubewarm.engine.kubeconfig import launcher
from kubewarm.engine.system.install import package_root

from tests import kubeconfig_helpers
from tests.fixtures_core import fake_plugin_argv, plugin_runs, require
from tests.tray_helpers import write_config

kw_data = kubeconfig_helpers.kw_data  # fixture: kw_env plus a private data dir

CLI = "import sys; from kubewarm.tray.cli import main; sys.argv[0] = 'kubewarm'; sys.exit(main())"


class Venv:
    """A venv holding its own copy of kubewarm."""

    def __init__(self, root: Path) -> None:
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120
        )
        self.python = root / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
        out = subprocess.run(
            [str(self.python), "-I", "-c", "import site; print(site.getsitepackages()[0])"],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.strip()  # fmt: skip
        self.site = Path(out)
        self.package = self.site / "kubewarm"
        shutil.copytree(
            Path(package_root()), self.package, ignore=shutil.ignore_patterns("__pycache__")
        )
        deps = [d for d in site.getsitepackages() if Path(d).is_dir()]
        (self.site / "kubewarm_test_deps.pth").write_text("\n".join(deps) + "\n")

    def set_version(self, version: str) -> None:
        init = self.package / "engine" / "__init__.py"
        init.write_text(init.read_text().replace(f'"{__version__}"', f'"{version}"'))

    def kubewarm(self, env: dict, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.python), "-I", "-c", CLI, *args],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip


@pytest.fixture
def two(tmp_path):
    require(sys.platform != "win32", "other platform: Windows writes no launcher script")
    return Venv(tmp_path / "venv-a"), Venv(tmp_path / "venv-b")


def _launcher(env: dict) -> Path:
    return Path(env["KUBEWARM_DATA_DIR"]) / "bin" / "kubewarm-exec"


def _runs(path: Path) -> str:
    """The program the launcher starts (its recorded owner)."""
    owner = launcher.read_owner(path.read_text())
    assert owner is not None, "the launcher records the installation it runs"
    return owner.program


def test_a_second_installation_is_named_and_kept_unless_force(kw_data, two, tmp_path):
    a, b = two
    log = tmp_path / "runs.log"
    argv = fake_plugin_argv(log=log, ttl=3600)
    config = write_config(tmp_path / "config", {"u": argv})
    first = a.kubewarm(kw_data, "inject", "--kubeconfig", str(config))
    assert first.returncode == 0, first.stderr
    assert "another installation" not in first.stdout
    path = _launcher(kw_data)
    assert _runs(path) == str(a.python)
    wrapped = config.read_bytes()
    before = path.read_bytes()

    for extra in ((), ("--dry-run",)):
        second = b.kubewarm(kw_data, "inject", "--kubeconfig", str(config), *extra)
        assert second.returncode == 0, second.stderr
        notes = [line for line in second.stdout.splitlines() if "another installation" in line]
        assert len(notes) == 1, second.stdout
        assert str(a.package) in notes[0] and str(b.package) in notes[0], notes[0]
        assert "--force" in notes[0]
        assert path.read_bytes() == before, "kept: kubectl runs what it ran"
        assert config.read_bytes() == wrapped
    hit = subprocess.run(
        [str(path), *argv], env={**kw_data, "KUBEWARM_USER": "u"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert hit.returncode == 0 and "ExecCredential" in hit.stdout, hit.stderr

    forced = b.kubewarm(kw_data, "inject", "--kubeconfig", str(config), "--force")
    assert forced.returncode == 0, forced.stderr
    assert _runs(path) == str(b.python)
    assert "now runs this installation" in forced.stdout
    assert str(a.package) in forced.stdout

    shutil.rmtree(b.package)  # the installation the launcher runs is gone: a silent takeover
    again = a.kubewarm(kw_data, "inject", "--kubeconfig", str(config))
    assert again.returncode == 0, again.stderr
    assert "another installation" not in again.stdout and "now runs" not in again.stdout
    assert _runs(path) == str(a.python)
    hit = subprocess.run(
        [str(path), *argv], env={**kw_data, "KUBEWARM_USER": "u"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert hit.returncode == 0 and hit.stderr == "" and plugin_runs(log) == 1


def test_a_downgrade_is_refused_unless_force(kw_data, two, tmp_path):
    a, b = two
    b.set_version("99.0.0")
    config = write_config(tmp_path / "config", {"u": fake_plugin_argv(ttl=3600)})
    newer = b.kubewarm(kw_data, "inject", "--kubeconfig", str(config))
    assert newer.returncode == 0, newer.stderr
    path = _launcher(kw_data)
    assert launcher.read_owner(path.read_text()) == launcher.Owner(
        "99.0.0", str(b.package), str(b.python)
    )
    shutil.rmtree(b.package)  # even when the newer one is gone: an in-place downgrade
    before = (path.read_bytes(), config.read_bytes())
    for extra in ((), ("--dry-run",)):
        older = a.kubewarm(kw_data, "inject", "--kubeconfig", str(config), *extra)
        assert older.returncode != 0
        lines = older.stderr.strip().splitlines()
        assert len(lines) == 1 and "newer kubewarm" in lines[0] and "99.0.0" in lines[0], lines
        assert "--force" in lines[0]
        assert (path.read_bytes(), config.read_bytes()) == before, "nothing written"
    forced = a.kubewarm(kw_data, "inject", "--kubeconfig", str(config), "--force")
    assert forced.returncode == 0, forced.stderr
    assert _runs(path) == str(a.python)


@pytest.mark.parametrize(
    ("older", "newer"),
    [("0.1.0", "0.2.0"), ("0.9", "0.10.1"), ("1.0.0+local", "1.0.1"), ("0.1.0rc1", "0.2")],
)
def test_versions_compare_by_release_numbers(older, newer):
    assert launcher.version_key(older) < launcher.version_key(newer)


def test_an_old_launcher_without_an_owner_is_rewritten_silently(tmp_path):
    mine = launcher.Owner("0.1.0", str(tmp_path / "mine"), "/usr/bin/python3")
    assert launcher.read_owner("#!/bin/sh\n''':'\nexec python -IS \"$0\"\n'''\n") is None
    assert launcher.decide(None, mine, False, "L") == (True, None)
    quoted = launcher.Owner("0.1.0", "/o'dd\npath", "/bin/py")
    assert launcher.read_owner("#!/bin/sh\n" + quoted.line()) == quoted
    assert "'" not in quoted.line() and quoted.line().count("\n") == 1
