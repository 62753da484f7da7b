"""Failures are never cached, and the cache never makes kubectl fail (issue 2, items 7-8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubewarm.engine.core.exec_credential import validate

from tests.fixtures_core import fake_plugin_argv, plugin_runs
from tests.shim_helpers import exec_info, pid_alive, run_shim, store_files, token_of, wait_for


def test_plugin_failure_passes_through_unchanged_and_is_not_cached(kw_env, plugin_log):
    argv = fake_plugin_argv(mode="fail", log=plugin_log)
    for _ in range(2):
        result = run_shim(argv, kw_env)
        assert result.returncode == 3
        assert result.stderr == b"fake-plugin: AccessDenied: not authorized to get a token\n"
    assert plugin_runs(plugin_log) == 2
    assert store_files(kw_env) == []


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("garbage", "not JSON"),
        ("empty", "printed nothing"),
        ("wrongkind", "not an ExecCredential"),
        ("wrongversion", "apiVersion"),
        ("expired", "already expired"),
    ],
)
def test_bad_plugin_output_is_one_clear_line_and_not_cached(kw_env, plugin_log, mode, says):
    argv = fake_plugin_argv(mode=mode, log=plugin_log)
    result = run_shim(
        argv,
        kw_env,
        KUBERNETES_EXEC_INFO='{"kind":"ExecCredential",'
        '"apiVersion":"client.authentication.k8s.io/v1beta1",'
        '"spec":{"interactive":false}}',
    )
    assert result.returncode != 0
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("kubewarm: plugin python")
    assert says in lines[0]
    assert store_files(kw_env) == []


def test_missing_plugin_is_a_clear_error(kw_env):
    result = run_shim(["/nonexistent/aws", "eks", "get-token"], kw_env)
    assert result.returncode == 127
    assert b"cannot run plugin '/nonexistent/aws'" in result.stderr


def test_corrupt_entry_is_replaced_and_debug_says_why(kw_env, plugin_log):
    argv = fake_plugin_argv(log=plugin_log)
    first = run_shim(argv, kw_env)
    [entry] = store_files(kw_env)
    data = bytearray(entry.read_bytes())
    data[-5] ^= 0x20  # one flipped bit in the credential
    entry.write_bytes(bytes(data))
    second = run_shim(argv, kw_env, KUBEWARM_DEBUG="1")
    assert second.returncode == 0
    assert b"unusable cache (BadEntry: checksum mismatch)" in second.stderr
    assert token_of(second.stdout) != token_of(first.stdout)
    third = run_shim(argv, kw_env)
    assert third.stdout == second.stdout  # the replacement is served from cache again
    assert plugin_runs(plugin_log) == 2


@pytest.mark.parametrize("garbage", [b"", b"kubewarm1 1 2 3\n{}", b"\x00\xff" * 100])
def test_truncated_or_foreign_bytes_are_never_served(kw_env, plugin_log, garbage):
    argv = fake_plugin_argv(log=plugin_log)
    run_shim(argv, kw_env)
    [entry] = store_files(kw_env)
    entry.write_bytes(garbage)
    result = run_shim(argv, kw_env)
    assert result.returncode == 0 and token_of(result.stdout).startswith("kwtest.")
    assert plugin_runs(plugin_log) == 2


@pytest.mark.skipif(
    getattr(os, "geteuid", lambda: -1)() != 0,
    reason="other platform: needs root on POSIX to chown a file to another user",
)
def test_entry_owned_by_another_user_is_ignored_and_replaced(kw_env, plugin_log):
    argv = fake_plugin_argv(log=plugin_log)
    run_shim(argv, kw_env)
    [entry] = store_files(kw_env)
    assert sys.platform != "win32"  # the skipif above: root on POSIX only (tells pyright)
    os.chown(entry, 4242, 4242)
    result = run_shim(argv, kw_env)
    assert result.returncode == 0
    assert entry.stat().st_uid == os.getuid()  # replaced by ours
    assert plugin_runs(plugin_log) == 2


def test_store_dir_writable_by_others_is_refused_but_kubectl_works(kw_env, plugin_log):
    argv = fake_plugin_argv(log=plugin_log)
    run_shim(argv, kw_env)
    [entry] = store_files(kw_env)
    entry.parent.chmod(0o777)
    result = run_shim(argv, kw_env, KUBEWARM_DEBUG="1")
    assert result.returncode == 0 and token_of(result.stdout).startswith("kwtest.")
    assert b"writable by others" in result.stderr
    assert plugin_runs(plugin_log) == 2


def test_unusable_cache_dir_still_answers(kw_env, plugin_log, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    env = {**kw_env, "KUBEWARM_CACHE_DIR": str(blocker / "sub")}
    for _ in range(2):
        result = run_shim(fake_plugin_argv(log=plugin_log), env)
        assert result.returncode == 0 and token_of(result.stdout).startswith("kwtest.")


def test_unknown_store_setting_does_not_break_kubectl(kw_env, plugin_log):
    result = run_shim(
        fake_plugin_argv(log=plugin_log), kw_env, KUBEWARM_STORE="vault", KUBEWARM_DEBUG="1"
    )
    assert result.returncode == 0 and token_of(result.stdout).startswith("kwtest.")
    assert b"KUBEWARM_STORE" in result.stderr


def test_background_refresh_that_hangs_is_killed_with_its_children(kw_env, plugin_log, tmp_path):
    control = tmp_path / "control.json"
    argv = fake_plugin_argv(log=plugin_log, ttl=600, control=control)
    assert run_shim(argv, kw_env).returncode == 0
    control.write_text(json.dumps({"sleep": 60, "child": 60}))
    env = {**kw_env, "KUBEWARM_REFRESH_WINDOW": "1", "KUBEWARM_REFRESH_TIMEOUT": "2"}
    started = time.monotonic()
    stale = run_shim(argv, env)
    assert stale.returncode == 0 and time.monotonic() - started < 5  # kubectl did not wait
    assert wait_for(lambda: plugin_runs(plugin_log) == 2)
    pid, _, _, child = plugin_log.read_text().splitlines()[1].split(" ")
    assert wait_for(lambda: not pid_alive(int(pid)) and not pid_alive(int(child)), timeout=15)
    assert run_shim(argv, kw_env).stdout == stale.stdout  # the old credential is still cached


def _events(env: dict) -> str:
    log = Path(env["KUBEWARM_CACHE_DIR"]) / "log" / "kubewarm.log"
    return log.read_text() if log.exists() else ""


def test_valid_credential_from_a_failing_plugin_is_not_cached(kw_env, plugin_log):
    argv = fake_plugin_argv(mode="validfail", log=plugin_log)
    alone = subprocess.run(
        fake_plugin_argv(mode="validfail"), capture_output=True, env=kw_env, timeout=60, check=False
    )
    assert alone.returncode == 1
    assert validate(alone.stdout, None, time.time()).expires  # what it prints is servable
    for _ in range(2):
        result = run_shim(argv, kw_env, KUBERNETES_EXEC_INFO=exec_info())
        assert result.returncode == 1  # kubectl gets the plugin's exit status
        assert result.stderr == b"fake-plugin: could not write the token cache\n"
    assert plugin_runs(plugin_log) == 2  # the second call did not find it cached
    assert store_files(kw_env) == []


def test_background_refresh_does_not_store_a_failing_plugins_credential(
    kw_env, plugin_log, tmp_path
):
    control = tmp_path / "control.json"
    argv = fake_plugin_argv(log=plugin_log, ttl=600, control=control)
    first = run_shim(argv, kw_env)
    assert first.returncode == 0
    [entry] = store_files(kw_env)
    cached = entry.read_bytes()
    control.write_text(json.dumps({"mode": "validfail"}))
    stale = run_shim(argv, {**kw_env, "KUBEWARM_REFRESH_WINDOW": "1"})
    assert stale.stdout == first.stdout
    done = wait_for(lambda: "background refresh" in _events(kw_env))
    assert done and "ok=False" in _events(kw_env), _events(kw_env)
    assert plugin_runs(plugin_log) == 2
    assert entry.read_bytes() == cached  # the old credential, not the failed run's


@pytest.mark.parametrize("name", ["KUBEWARM_DEFAULT_TTL", "KUBEWARM_REFRESH_WINDOW"])
@pytest.mark.parametrize("value", ["inf", "-1", "nan", "soon"])
def test_unusable_numeric_setting_falls_back_to_its_default(kw_env, plugin_log, name, value):
    argv = fake_plugin_argv(mode="noexpiry", log=plugin_log)
    for _ in range(2):
        result = run_shim(argv, kw_env, **{name: value})
        assert result.returncode == 0, result.stderr
    assert plugin_runs(plugin_log) == 1  # cached for the default TTL
