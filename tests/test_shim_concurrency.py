"""Herds, crashes and locks (issue 2, item 6)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.fixtures_core import (
    fake_plugin_argv,
    kubectl_path,
    plugin_runs,
    shim_command,
    write_kubeconfig,
)
from tests.shim_helpers import run_shim, token_of, wait_for


def test_twenty_kubectls_on_a_cold_cache_run_the_plugin_once(
    api_server, kw_env, tmp_path, plugin_log
):
    argv = fake_plugin_argv(log=plugin_log, sleep=1.0)
    kubeconfig = write_kubeconfig(
        tmp_path / "config",
        api_server,
        {
            "alice": {
                "command": shim_command(),
                "args": argv,
                "env": [{"name": "KUBEWARM_USER", "value": "alice"}],
            }
        },
    )
    kubectl = str(kubectl_path("1.33"))
    procs = [
        subprocess.Popen(
            [kubectl, "--kubeconfig", str(kubeconfig), "get", "--raw", "/version"],
            env=kw_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(20)
    ]
    failures = []
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        if proc.returncode != 0:
            failures.append(err)
    assert failures == []
    assert plugin_runs(plugin_log) == 1
    tokens = {r["token"] for r in api_server.request_log() if r["status"] == 200}
    assert tokens  # every one of them authenticated


def test_waiters_get_the_winners_credential(kw_env, plugin_log):
    argv = fake_plugin_argv(log=plugin_log, sleep=1.0)
    procs = [
        subprocess.Popen([shim_command(), *argv], env=kw_env, stdout=subprocess.PIPE)
        for _ in range(8)
    ]
    outputs = {p.communicate(timeout=60)[0] for p in procs}
    assert len(outputs) == 1
    assert plugin_runs(plugin_log) == 1


def test_lock_is_released_when_its_holder_is_killed(kw_env, plugin_log):
    if sys.platform == "win32":
        pytest.skip("other platform: SIGKILL and process groups are POSIX's")
    slow = fake_plugin_argv(log=plugin_log, sleep=30)
    holder = subprocess.Popen(
        [shim_command(), *slow], env=kw_env, stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert wait_for(lambda: plugin_runs(plugin_log) == 1)
        os.killpg(holder.pid, signal.SIGKILL)  # the shim and its plugin die holding the lock
        holder.wait(timeout=10)
    finally:
        try:
            os.killpg(holder.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    fast = fake_plugin_argv(log=plugin_log, sleep=0)
    started = time.monotonic()
    result = run_shim(fast, kw_env)
    assert result.returncode == 0 and time.monotonic() - started < 10


WRITER = r"""
import sys, time
sys.path[:0] = [sys.argv[1]]
from kubewarm.engine.core.entry import Entry
from kubewarm.engine.stores.file_store import FileStore
store = FileStore(sys.argv[1])
i = 0
while True:
    i += 1
    payload = (b'{"kind":"ExecCredential","n":%d,"pad":"' % i) + b"x" * 200_000 + b'"}'
    store.write("ab" * 32, Entry(payload, time.time() + 900, time.time(), True).encode())
"""


def test_kill_minus_nine_during_writes_never_leaves_a_broken_entry(tmp_path):
    if sys.platform == "win32":
        pytest.skip("other platform: SIGKILL and process groups are POSIX's")
    from kubewarm.engine.core.entry import decode
    from kubewarm.engine.stores.file_store import FileStore

    directory = tmp_path / "store"
    store = FileStore(str(directory))
    intact = 0
    for attempt in range(15):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(directory)])
        time.sleep(0.15 + attempt * 0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        blob = store.read("ab" * 32)
        if blob is not None:
            decode(blob)  # raises if torn
            intact += 1
    assert intact >= 10
    leftovers = [p.name for p in directory.iterdir() if not p.name.endswith(".cred")]
    assert all(name.startswith(".kubewarm-") for name in leftovers)  # only temp files remain


def test_same_credential_for_parallel_hits(kw_env, plugin_log):
    argv = fake_plugin_argv(log=plugin_log)
    first = token_of(run_shim(argv, kw_env).stdout)
    procs = [
        subprocess.Popen([shim_command(), *argv], env=kw_env, stdout=subprocess.PIPE)
        for _ in range(10)
    ]
    assert {token_of(p.communicate(timeout=30)[0]) for p in procs} == {first}
