"""kubewarm-exec's decisions: hit, stale-while-revalidate, miss, no expiry (issue 2, items 2-5)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.fixtures_core import fake_plugin_argv, plugin_runs
from tests.shim_helpers import exec_info, run_shim, store_files, token_of, wait_for


def test_hit_returns_the_plugins_bytes_unchanged(kw_env, plugin_log):
    argv = fake_plugin_argv(log=plugin_log)
    first = run_shim(argv, kw_env)
    second = run_shim(argv, kw_env)
    assert first.returncode == second.returncode == 0
    assert second.stdout == first.stdout  # byte for byte, indentation and newline included
    assert first.stdout.startswith(b"{\n  ")
    assert plugin_runs(plugin_log) == 1


def test_files_are_private(kw_env, plugin_log):
    run_shim(fake_plugin_argv(log=plugin_log), kw_env)
    [entry] = store_files(kw_env)
    assert entry.stat().st_mode & 0o777 == 0o600
    assert entry.parent.stat().st_mode & 0o777 == 0o700


def test_stale_is_served_and_refreshed_in_background(kw_env, plugin_log):
    argv = fake_plugin_argv(log=plugin_log, ttl=600)
    env = {**kw_env, "KUBEWARM_REFRESH_WINDOW": "1"}  # every credential is "stale" at once
    first = run_shim(argv, env)
    started = time.monotonic()
    second = run_shim(argv, env)
    elapsed = time.monotonic() - started
    assert token_of(second.stdout) == token_of(first.stdout)  # served from cache...
    assert elapsed < 5
    assert wait_for(lambda: plugin_runs(plugin_log) == 2)  # ...and refreshed behind kubectl
    assert wait_for(lambda: token_of(run_shim(argv, {**kw_env}).stdout) != token_of(first.stdout))
    assert plugin_runs(plugin_log) == 2


def test_inside_safety_margin_refreshes_before_answering(kw_env, plugin_log):
    argv = fake_plugin_argv(log=plugin_log, ttl=600)
    env = {
        **kw_env,
        "KUBEWARM_REFRESH_WINDOW": "1",
        "KUBEWARM_MARGIN_FRACTION": "1",
        "KUBEWARM_MARGIN_SECONDS": "100000",
    }
    first = run_shim(argv, env)
    second = run_shim(argv, env)
    assert token_of(second.stdout) != token_of(first.stdout)
    assert plugin_runs(plugin_log) == 2


def test_no_expiry_cached_for_default_ttl_without_inventing_one(kw_env, plugin_log):
    argv = fake_plugin_argv(mode="noexpiry", log=plugin_log)
    env = {**kw_env, "KUBEWARM_DEFAULT_TTL": "3", "KUBEWARM_REFRESH_WINDOW": "0.01"}
    first = run_shim(argv, env)
    second = run_shim(argv, env)
    assert second.stdout == first.stdout
    assert "expirationTimestamp" not in json.loads(second.stdout)["status"]
    assert plugin_runs(plugin_log) == 1
    time.sleep(3.2)
    third = run_shim(argv, env)
    assert token_of(third.stdout) != token_of(first.stdout)
    assert plugin_runs(plugin_log) == 2


def test_client_certificate_credentials_are_cached(kw_env, plugin_log):
    argv = fake_plugin_argv(mode="cert", log=plugin_log)
    first = run_shim(argv, kw_env)
    second = run_shim(argv, kw_env)
    assert first.returncode == 0 and second.stdout == first.stdout
    assert plugin_runs(plugin_log) == 1


def test_prompt_gets_stdin_and_stderr(kw_env, plugin_log):
    argv = fake_plugin_argv(mode="prompt", log=plugin_log)
    result = run_shim(argv, kw_env, stdin="123456\n")
    assert result.returncode == 0
    assert b"MFA code: " in result.stderr
    assert token_of(result.stdout).startswith("kwtest.")
    again = run_shim(argv, kw_env)  # no prompt the second time: cached
    assert again.returncode == 0 and b"MFA" not in again.stderr


def test_requested_api_version_is_answered_and_part_of_the_key(kw_env, plugin_log):
    argv = fake_plugin_argv(log=plugin_log)
    v1 = run_shim(
        argv, kw_env, KUBERNETES_EXEC_INFO=exec_info(api_version="client.authentication.k8s.io/v1")
    )
    beta = run_shim(argv, kw_env, KUBERNETES_EXEC_INFO=exec_info())
    assert json.loads(v1.stdout)["apiVersion"] == "client.authentication.k8s.io/v1"
    assert json.loads(beta.stdout)["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert plugin_runs(plugin_log) == 2


def test_debug_explains_each_decision_without_secrets(kw_env, plugin_log):
    argv = fake_plugin_argv(log=plugin_log)
    miss = run_shim(argv, kw_env, KUBEWARM_DEBUG="1")
    hit = run_shim(argv, kw_env, KUBEWARM_DEBUG="1")
    token = token_of(miss.stdout)
    assert b"miss: running plugin" in miss.stderr and b"stored in file" in miss.stderr
    assert b" hit " in hit.stderr and b"ms" in hit.stderr
    for output in (miss.stderr, hit.stderr):
        assert token.encode() not in output
        assert token.split(".")[-1][:16].encode() not in output
    assert run_shim(argv, kw_env).stderr == b""  # silent without KUBEWARM_DEBUG


def test_long_expired_entries_are_dropped_after_a_miss(kw_env, plugin_log):
    from kubewarm.engine.core.entry import Entry
    from kubewarm.engine.stores.file_store import FileStore

    (Path(kw_env["KUBEWARM_CACHE_DIR"]) / "housekeeping").unlink()  # due, as if never run
    old = "ab" * 32
    store = FileStore(str(Path(kw_env["KUBEWARM_CACHE_DIR"]) / "credentials"))
    now = time.time()
    store.write(old, Entry(b'{"kind":"ExecCredential"}', now - 7200, now - 8100, True).encode())
    assert run_shim(fake_plugin_argv(log=plugin_log), kw_env).returncode == 0
    assert wait_for(lambda: store.read(old) is None)
    assert len(store_files(kw_env)) == 1  # the fresh entry stays
