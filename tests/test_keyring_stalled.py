"""A Secret Service that accepts connections but never answers costs one timeout, not one per
kubectl call: the first call that times out pauses the keyring for every later process (the
plugin runs, nothing is cached), and the keyring is used again once the pause is over and it
answers (a real gnome-keyring-daemon)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures_core import fake_plugin_argv, kill_pid, plugin_runs
from tests.shim_helpers import exec_info, run_shim, store_files, wait_for
from tests.tray_helpers import posix_only

pytestmark = [posix_only, pytest.mark.real]

HUNG_BUS = """
import os, socket, sys, time
path, lifetime = sys.argv[1], float(sys.argv[2])
server = socket.socket(socket.AF_UNIX)
server.bind(path)
server.listen(64)
server.settimeout(0.5)
held, end = [], time.monotonic() + lifetime
while time.monotonic() < end:  # accept, never answer
    try:
        held.append(server.accept()[0])
    except socket.timeout:
        pass
"""


@pytest.fixture
def hung_bus(tmp_path):
    path = tmp_path / "hung-bus"
    proc = subprocess.Popen([sys.executable, "-I", "-c", HUNG_BUS, str(path), "120"])
    try:
        assert wait_for(path.exists, 10)
        yield f"unix:path={path}"
    finally:
        kill_pid(proc.pid)


def test_ten_calls_against_a_hung_bus_wait_once(kw_env, plugin_log, hung_bus):
    env = {
        **kw_env,
        "DBUS_SESSION_BUS_ADDRESS": hung_bus,
        "KUBEWARM_STORE": "keyring",
        "KUBEWARM_DEBUG": "1",
        "KUBERNETES_EXEC_INFO": exec_info(),
    }
    argv = fake_plugin_argv(log=plugin_log)
    started = time.monotonic()
    waited = 0
    for _ in range(10):
        result = run_shim(argv, env, own_parent=True)
        assert result.returncode == 0, result.stderr
        waited += result.stderr.count(b"did not answer in time")
    elapsed = time.monotonic() - started
    assert waited == 1  # one process waited on the bus; the other nine skipped it
    assert plugin_runs(plugin_log) == 10 and store_files(kw_env) == []
    # 10 plugin runs plus one 2 s timeout; 35 s before (a timeout and keyring's probe each call)
    assert elapsed < 15, elapsed


def test_keyring_is_used_again_after_the_pause(kw_env, plugin_log, secret_service):
    env = {**kw_env, **secret_service.env, "KUBEWARM_STORE": "keyring"}
    stamp = Path(kw_env["KUBEWARM_CACHE_DIR"]) / "keyring-stalled"
    stamp.touch()
    argv = fake_plugin_argv(log=plugin_log)
    assert run_shim(argv, env, own_parent=True).returncode == 0
    assert run_shim(argv, env, own_parent=True).returncode == 0
    assert plugin_runs(plugin_log) == 2  # paused: nothing cached in the keyring
    old = time.time() - 120
    os.utime(stamp, (old, old))  # the pause is over
    for _ in range(3):
        assert run_shim(argv, env, own_parent=True).returncode == 0
    assert plugin_runs(plugin_log) == 3  # stored in the keyring once, then hits
