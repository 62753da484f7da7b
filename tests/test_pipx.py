"""``pipx install`` from this checkout gives working ``kubewarm`` and ``kubewarm-exec`` commands,
and a kubeconfig wrapped by ``kubewarm inject`` keeps working across ``pipx reinstall`` (the
launcher names the pipx venv's own ``bin/python``, a path pipx re-creates)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fixtures_core import fake_plugin_argv, plugin_runs, require
from tests.tray_helpers import write_config

pytestmark = [pytest.mark.real, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent


def test_pipx_install_inject_and_reinstall(kw_env, tmp_path, plugin_log):
    pipx = shutil.which("pipx")
    require(pipx is not None, "pipx (apt-get install pipx)")
    env = {
        **kw_env,
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(tmp_path / "bin"),
        "PIPX_DEFAULT_PYTHON": "/usr/bin/python3",
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
    }

    def run(*argv: str, timeout: float = 600, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            list(argv), env={**env, **extra}, capture_output=True, text=True,
            timeout=timeout, check=False, cwd=tmp_path,
        )  # fmt: skip

    installed = run(str(pipx), "install", str(ROOT))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    bin_dir = tmp_path / "bin"
    assert run(str(bin_dir / "kubewarm"), "--version").stdout.startswith("kubewarm ")
    assert run(str(bin_dir / "kubewarm-exec"), "--version").stdout.startswith("kubewarm-exec ")
    argv = fake_plugin_argv(log=plugin_log, ttl=3600)
    config = write_config(tmp_path / "config", {"u": argv})
    inject = run(str(bin_dir / "kubewarm"), "inject", "--kubeconfig", str(config))
    assert inject.returncode == 0, inject.stderr
    launcher = Path(kw_env["KUBEWARM_DATA_DIR"]) / "bin" / "kubewarm-exec"
    venv_python = tmp_path / "pipx" / "venvs" / "kubewarm" / "bin" / "python"
    assert f"exec '{venv_python}' -IS" in launcher.read_text()
    for _ in range(2):
        shim = run(str(launcher), *argv, KUBEWARM_USER="u")
        assert shim.returncode == 0 and "ExecCredential" in shim.stdout, shim.stderr
    assert plugin_runs(plugin_log) == 1
    reinstalled = run(str(pipx), "reinstall", "kubewarm")
    assert reinstalled.returncode == 0, reinstalled.stdout + reinstalled.stderr
    shim = run(str(launcher), *argv, KUBEWARM_USER="u")
    assert shim.returncode == 0 and "ExecCredential" in shim.stdout, shim.stderr
    assert shim.stderr == "" and plugin_runs(plugin_log) == 1, "a hit, as before the reinstall"
    uninstalled = run(str(pipx), "uninstall", "kubewarm")
    assert uninstalled.returncode == 0
    shim = run(str(launcher), *argv, KUBEWARM_USER="u")
    assert shim.returncode == 0 and "cannot start kubewarm" in shim.stderr
