"""``kubewarm uninstall``: kubeconfig back byte for byte, login item, every store, the launcher
and kubewarm's files gone (backups kept), a dry run that changes nothing, and a stop (nothing
else touched) when the kubeconfig cannot be restored. Real CLI, real files, real kubeconfig."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures_core import fake_plugin_argv
from tests.shim_helpers import run_shim, wait_for
from tests.tray_helpers import cred_files, kubewarm, posix_only, write_config

pytestmark = posix_only


def _tree(*roots: Path) -> dict[str, bytes]:
    out = {}
    for root in roots:
        for p in sorted(root.rglob("*")) if root.exists() else []:
            out[str(p)] = p.read_bytes() if p.is_file() else b"<dir>"
    return out


@pytest.fixture
def installed(kw_env, tmp_path, plugin_log):
    """prod and dev wrapped (one cached credential), legacy not; the login item on."""
    env = {**kw_env, "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config")}
    argv = fake_plugin_argv(log=plugin_log)
    path = write_config(
        Path(env["HOME"]) / ".kube" / "config", {"prod": argv, "dev": argv, "legacy": argv}
    )
    original = path.read_bytes()
    kubewarm("inject", "--context", "prod", "--context", "dev", env=env)
    kubewarm("pin", "prod", env=env)
    assert run_shim(argv, env, KUBEWARM_USER="prod").returncode == 0
    assert cred_files(env)
    login_item = Path(env["XDG_CONFIG_HOME"]) / "autostart" / "kubewarm.desktop"
    code = "from kubewarm.engine.system import autostart; autostart.set_enabled(True)"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert login_item.exists()
    assert path.read_bytes() != original
    return {"env": env, "path": path, "original": original, "login_item": login_item}


def test_dry_run_changes_nothing_and_says_what_it_would_do(installed):
    env = installed["env"]
    roots = [
        Path(env[k]) for k in ("KUBEWARM_CACHE_DIR", "KUBEWARM_CONFIG_DIR", "KUBEWARM_DATA_DIR")
    ]
    before = _tree(*roots, installed["path"].parent, installed["login_item"].parent)
    out = kubewarm("uninstall", "--dry-run", env=env).stdout
    assert _tree(*roots, installed["path"].parent, installed["login_item"].parent) == before
    assert "would restore " in out and "(users prod, dev)" in out
    assert f"would remove the login item ({installed['login_item']})" in out
    assert "would delete 1 cached credential (file store)" in out
    assert "then remove the package: pip uninstall kubewarm" in out or "then delete" in out


def test_uninstall_restores_byte_for_byte_and_removes_everything_but_backups(installed):
    env = installed["env"]
    data = Path(env["KUBEWARM_DATA_DIR"])
    launcher = data / "bin" / "kubewarm-exec"
    assert launcher.exists()
    result = kubewarm("uninstall", env=env)
    assert installed["path"].read_bytes() == installed["original"], "byte for byte"
    assert not installed["login_item"].exists()
    assert not cred_files(env) and not launcher.exists()
    assert not Path(env["KUBEWARM_CACHE_DIR"]).exists()
    assert not Path(env["KUBEWARM_CONFIG_DIR"]).exists(), "settings and pins gone"
    assert [p.name for p in data.iterdir()] == ["kubeconfig-backups"]
    out = result.stdout
    assert "restore " in out and "would" not in out
    assert f"remove {launcher}" in out and "kept kubeconfig backups in" in out
    again = kubewarm("uninstall", env=env).stdout
    assert "kubeconfig: no wrapped user to restore" in again


def test_unrestorable_kubeconfig_stops_before_anything_else(installed):
    env = installed["env"]
    installed["path"].write_text(installed["path"].read_text() + "\n  - : [unclosed\n")
    broken = installed["path"].read_bytes()
    result = kubewarm("uninstall", env=env, check=False)
    assert result.returncode == 1 and "uninstall stopped" in result.stderr
    assert "restore kubeconfig: FAILED" in result.stdout
    assert installed["path"].read_bytes() == broken
    assert installed["login_item"].exists() and cred_files(env)
    assert (Path(env["KUBEWARM_DATA_DIR"]) / "bin" / "kubewarm-exec").exists()


def test_refuses_while_a_tray_runs(installed):
    env = installed["env"]
    tray = subprocess.Popen(
        [str(Path(sys.executable).parent / "kubewarm"), "tray", "--no-icon"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        lock = Path(env["KUBEWARM_CACHE_DIR"]) / "tray.lock"
        assert wait_for(lambda: lock.exists() and lock.read_text().strip() == str(tray.pid), 20)
        result = kubewarm("uninstall", env=env, check=False)
        assert result.returncode == 1 and "quit it first" in result.stderr
        assert installed["path"].read_bytes() != installed["original"]
    finally:
        tray.terminate()
        tray.wait(timeout=30)
    assert os.path.exists(installed["login_item"])
