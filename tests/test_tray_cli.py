"""The ``kubewarm`` entry point: lean for the CLI, the tray by default, clear without a display."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.tray_helpers import kubewarm, linux_only

HEAVY = ("pystray", "PIL", "apscheduler", "gi", "yaml", "keyring", "platformdirs")


def _imported(code: str, env: dict) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + ";import sys;print('\\n'.join(sys.modules))"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    return {m.split(".")[0] for m in out}


def test_entry_module_imports_nothing_heavy(kw_env):
    loaded = _imported("import kubewarm.tray.cli", kw_env)
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    assert "argparse" not in loaded


def test_help_does_not_load_the_tray(kw_env):
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kubewarm.tray", "--help"],
        env=kw_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and "usage: kubewarm" in result.stdout
    assert "    tray " in result.stdout and "    pin " in result.stdout
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0] for line in result.stderr.splitlines()
    }
    assert not imported & {"pystray", "PIL", "apscheduler", "gi"}, imported & set(HEAVY)


def test_tray_help_and_module_entry(kw_env):
    result = kubewarm("tray", "--help", env=kw_env)
    assert "--no-icon" in result.stdout and "usage: kubewarm tray" in result.stdout
    module = subprocess.run(
        [sys.executable, "-m", "kubewarm.tray", "tray", "--help"],
        env=kw_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert module.returncode == 0 and "--no-icon" in module.stdout


@linux_only
def test_without_a_display_it_points_to_the_headless_warmer(kw_env):
    env = {k: v for k, v in kw_env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = kubewarm(env=env, check=False)
    assert result.returncode == 1
    assert "cannot show a tray icon: no graphical session" in result.stderr
    assert "kubewarm tray --no-icon" in result.stderr
    # the failed start did not keep the instance lock
    second = kubewarm("tray", env=env, check=False)
    assert "already running" not in second.stderr


def test_one_instance_at_a_time(kw_env):
    """The lock the tray and ``--no-icon`` share (fcntl on POSIX, msvcrt on Windows)."""
    from kubewarm.engine.system.single_instance import AlreadyRunning, InstanceLock

    first = InstanceLock().acquire()
    try:
        with pytest.raises(AlreadyRunning) as caught:
            InstanceLock().acquire()
        assert caught.value.pid == os.getpid()
        assert f"already running (pid {os.getpid()})" in str(caught.value)
    finally:
        first.release()
    with InstanceLock():  # released: taken again at once
        pass
