"""``kubewarm --help`` / ``--version`` and ``kubewarm exec``, as installed console scripts."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kubewarm.engine import __version__

from tests.fixtures_core import BIN, fake_plugin_argv, plugin_runs, require


def _kubewarm(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    path = BIN / "kubewarm"
    require(path.exists(), "the kubewarm console script installed in the test venv")
    return subprocess.run(
        [str(path), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_version():
    result = _kubewarm("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"kubewarm {__version__}"


def test_help_lists_every_command():
    result = _kubewarm("--help")
    assert result.returncode == 0
    for command in ("exec", "inject", "restore", "status", "clear", "pin", "unpin", "pins", "tray"):
        assert command in result.stdout, command


def test_shim_help_and_version():
    shim = BIN / "kubewarm-exec"
    require(shim.exists(), "kubewarm-exec installed in the test venv")
    version = subprocess.run([str(shim), "--version"], capture_output=True, text=True, check=False)
    assert version.stdout.strip() == f"kubewarm-exec {__version__}"
    bare = subprocess.run([str(shim)], capture_output=True, text=True, check=False)
    assert bare.returncode == 2 and "usage: kubewarm-exec PLUGIN" in bare.stderr


def test_kubewarm_exec_is_the_shim(kw_env, plugin_log: Path):
    argv = fake_plugin_argv(log=plugin_log)
    first = _kubewarm("exec", *argv, env=kw_env)
    second = _kubewarm("exec", *argv, env=kw_env)
    assert first.returncode == 0 and second.stdout == first.stdout
    assert plugin_runs(plugin_log) == 1


def test_any_kubewarm_error_is_one_line_and_exit_1(kw_env, tmp_path: Path):
    """The CLI's top level turns every KubewarmError into one ``kubewarm: ...`` line."""
    store = _kubewarm("store", env={**kw_env, "KUBEWARM_STORE": "vault"})
    assert store.returncode == 1
    assert store.stderr == "kubewarm: KUBEWARM_STORE='vault' is not one of auto, keyring, file\n"
    broken = tmp_path / "broken.yaml"
    broken.write_text("users: [\n")
    status = _kubewarm("status", "--kubeconfig", str(broken), env=kw_env)
    assert status.returncode == 1
    assert status.stderr.startswith("kubewarm: ") and status.stderr.count("\n") == 1
    assert str(broken.name) in status.stderr
