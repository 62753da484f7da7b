"""The shim with the OS keyring store, against a real gnome-keyring-daemon: the store is chosen
once and said once; hits come from the keyring through the lean reader; a locked keyring or a
dead daemon never breaks kubectl and never sends a token to disk."""

import os
import re
import sys
import tempfile
import time
from pathlib import Path

import pytest
from kubewarm.engine.stores.keyring_store import KeyringStore

from tests.fixtures_core import (
    fake_plugin_argv,
    kubectl_path,
    plugin_runs,
    run_kubectl,
    shim_command,
    write_kubeconfig,
)
from tests.shim_helpers import imports_of_a_hit, run_shim, store_files, token_of, wait_for

pytestmark = pytest.mark.real
ANNOUNCEMENT = b"keeping cached credentials in"
# any token the test plugin mints (tests/api_server.py mint_test_token), known or not
ANY_TEST_TOKEN = re.compile(rb"kwtest\.\d+\.[0-9a-f]+\.[0-9a-f]{64}")


def _env(kw_env: dict, service, store: str = "keyring", **extra: str) -> dict:
    return {**kw_env, **service.env, "KUBEWARM_STORE": store, **extra}


def _record(env: dict) -> list[str]:
    return (Path(env["KUBEWARM_CACHE_DIR"]) / "store").read_text().splitlines()


def _stored_token(store) -> str:
    from kubewarm.engine.core.entry import decode

    keys = store.list_keys()
    blob = store.read(keys[0]) if keys else None
    return token_of(decode(blob).payload) if blob else ""


def _files_under(root: Path, since: float = 0.0, max_size: int = 2**24) -> list[Path]:
    found = []
    # os.walk, not rglob: another process's folders may vanish while we walk (ignored)
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            try:
                st = path.lstat()
            except OSError:  # another test's file, gone meanwhile
                continue
            fresh = st.st_mtime >= since and st.st_size < max_size
            if fresh and path.is_file() and not path.is_symlink():
                found.append(path)
    return found


def assert_no_token_on_disk(tokens: set[str], *roots: Path, since: float) -> int:
    """Scan every file under ``roots`` for the tokens and for anything shaped like a test
    token, and every file written to the temp dir since ``since`` for the tokens (other tests
    legitimately keep tokens there). Returns how many files were scanned."""
    assert tokens and all(len(t) > 20 for t in tokens)
    own = [p for root in roots for p in _files_under(root)]
    recent = [p for p in _files_under(Path(tempfile.gettempdir()), since) if p not in set(own)]
    for path in own + recent:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for token in tokens:
            assert token.encode() not in data, f"a token is in {path}"
        if path in own:
            assert not ANY_TEST_TOKEN.search(data), f"a token is in {path}"
    return len(own) + len(recent)


def _entry(store: KeyringStore, key: str) -> bytes:
    """The entry stored under ``key``, which the test has just seen written."""
    blob = store.read(key)
    assert blob is not None, f"no keyring entry under {key[:12]}"
    return blob


def test_auto_picks_the_keyring_says_so_once_then_hits(secret_service, kw_env, plugin_log):
    env = _env(kw_env, secret_service, "auto")
    argv = fake_plugin_argv(log=plugin_log)
    first = run_shim(argv, env, own_parent=True)
    assert first.returncode == 0, first.stderr
    assert ANNOUNCEMENT + b" the OS keyring" in first.stderr
    assert b"reachable and unlocked" in first.stderr
    assert _record(env)[:2] == ["keyring", "backend=secret-service"]
    for _ in range(2):
        again = run_shim(argv, env, own_parent=True, KUBEWARM_DEBUG="1")
        assert again.returncode == 0
        assert again.stdout == first.stdout
        assert ANNOUNCEMENT not in again.stderr
        assert b"hit store=keyring" in again.stderr
    assert plugin_runs(plugin_log) == 1
    assert store_files(env) == []


def test_auto_without_a_secret_service_uses_files_and_says_why(
    no_secret_service, kw_env, plugin_log
):
    env = {**kw_env, "KUBEWARM_STORE": "auto"}
    env["DBUS_SESSION_BUS_ADDRESS"] = os.environ["DBUS_SESSION_BUS_ADDRESS"]
    argv = fake_plugin_argv(log=plugin_log)
    first = run_shim(argv, env, own_parent=True)
    assert first.returncode == 0, first.stderr
    assert ANNOUNCEMENT + b" files only you can read" in first.stderr
    assert b"no OS keyring" in first.stderr
    assert _record(env)[0] == "file"
    second = run_shim(argv, env, own_parent=True, KUBEWARM_DEBUG="1")
    assert second.stdout == first.stdout
    assert b"hit store=file" in second.stderr
    assert ANNOUNCEMENT not in second.stderr
    assert plugin_runs(plugin_log) == 1
    assert len(store_files(env)) == 1


def test_auto_with_a_locked_keyring_uses_files(secret_service, kw_env, plugin_log):
    secret_service.lock()
    env = _env(kw_env, secret_service, "auto")
    first = run_shim(fake_plugin_argv(log=plugin_log), env, own_parent=True)
    assert first.returncode == 0, first.stderr
    assert ANNOUNCEMENT + b" files only you can read" in first.stderr
    assert b"locked" in first.stderr
    assert _record(env)[0] == "file"


def test_keyring_locked_mid_run(secret_service, kw_env, plugin_log):
    """kubectl keeps working, nothing is cached in plaintext instead, and the entry is served
    again once the keyring is unlocked."""
    env = _env(kw_env, secret_service)
    argv = fake_plugin_argv(log=plugin_log)
    seeded = run_shim(argv, env, own_parent=True)
    assert seeded.returncode == 0 and plugin_runs(plugin_log) == 1
    secret_service.lock()
    locked = run_shim(argv, env, own_parent=True, KUBEWARM_DEBUG="1")
    assert locked.returncode == 0, locked.stderr
    assert token_of(locked.stdout) and locked.stdout != seeded.stdout
    assert plugin_runs(plugin_log) == 2
    assert b"locked" in locked.stderr
    assert b"not cached" in locked.stderr
    assert store_files(env) == []
    assert _record(env)[0] != "file"
    secret_service.unlock()
    back = run_shim(argv, env, own_parent=True, KUBEWARM_DEBUG="1")
    assert back.stdout == seeded.stdout
    assert b"hit store=keyring" in back.stderr
    assert plugin_runs(plugin_log) == 2


def test_keyring_daemon_killed_mid_run(secret_service, kw_env, plugin_log):
    env = _env(kw_env, secret_service)
    argv = fake_plugin_argv(log=plugin_log)
    seeded = run_shim(argv, env, own_parent=True)
    assert seeded.returncode == 0
    secret_service.kill_keyring()
    started = time.monotonic()
    gone = run_shim(argv, env, own_parent=True, KUBEWARM_DEBUG="1")
    assert gone.returncode == 0, gone.stderr
    assert token_of(gone.stdout)
    assert b"no Secret Service is running" in gone.stderr
    assert time.monotonic() - started < 20
    assert plugin_runs(plugin_log) == 2
    assert store_files(env) == []
    secret_service.start_keyring()
    back = run_shim(argv, env, own_parent=True, KUBEWARM_DEBUG="1")
    assert back.stdout == seeded.stdout
    assert b"hit store=keyring" in back.stderr


def test_engine_refresh_writes_what_the_shim_serves(secret_service, kw_env, plugin_log):
    """The tray's path (credentials.refresh, through keyring) and the shim's lean reader agree
    byte for byte."""
    from kubewarm.engine.cache import credentials
    from kubewarm.engine.core import settings
    from kubewarm.engine.core.entry import decode

    env = _env(kw_env, secret_service)
    argv = fake_plugin_argv(log=plugin_log)
    values = {**settings.load(env), "KUBEWARM_STORE": "keyring"}
    outcome = credentials.refresh(argv, env, values)
    assert outcome.ok, outcome.reason
    stored = decode(_entry(KeyringStore(kind="secret-service"), outcome.key)).payload
    served = run_shim(argv, env, own_parent=True, KUBEWARM_DEBUG="1")
    assert served.stdout == stored
    assert b"hit store=keyring" in served.stderr
    assert plugin_runs(plugin_log) == 1


def test_no_token_on_disk_after_a_full_run(secret_service, kw_env, plugin_log, tmp_path):
    """Misses, hits and background refreshes with the keyring store: no token in any file under
    the test's HOME, cache and config dirs, gnome-keyring's directory or the temp dir."""
    started = time.time() - 1
    env = _env(kw_env, secret_service, KUBEWARM_REFRESH_WINDOW="1.0")  # every hit refreshes
    argv = fake_plugin_argv(log=plugin_log)
    store = KeyringStore(kind="secret-service")
    tokens = set()
    for round_ in range(4):
        result = run_shim(argv, env, own_parent=True)
        assert result.returncode == 0, result.stderr
        served = token_of(result.stdout)
        tokens.add(served)
        if round_:  # a stale hit: wait until the background refresh has stored a new token
            assert wait_for(lambda s=served: _stored_token(store) not in ("", s), timeout=30)
    assert plugin_runs(plugin_log) == 4
    from kubewarm.engine.core.entry import decode

    for key in store.list_keys():
        tokens.add(token_of(decode(_entry(store, key)).payload))
    assert len(tokens) == 4  # three served, the last refresh's still in the keyring
    scanned = assert_no_token_on_disk(tokens, tmp_path, secret_service.root, since=started)
    assert scanned > 3


def test_kubectl_end_to_end_with_the_keyring(secret_service, api_server, kw_env, tmp_path):
    plugin_log = tmp_path / "runs.log"
    started = time.time() - 1
    env = _env(kw_env, secret_service)
    wrapped = {
        "command": shim_command(),
        "args": fake_plugin_argv(log=plugin_log),
        "env": [{"name": "KUBEWARM_USER", "value": "alice"}],
    }
    config = write_kubeconfig(tmp_path / "kubeconfig", api_server, {"alice": wrapped})
    for kubectl in (kubectl_path("1.33"), kubectl_path("1.33"), kubectl_path(None)):
        result = run_kubectl(kubectl, config, env=env)
        assert result.returncode == 0, result.stderr
        assert "kubewarm-test" in result.stdout
    assert plugin_runs(plugin_log) == 1
    assert store_files(env) == []
    from kubewarm.engine.core.entry import decode

    store = KeyringStore(kind="secret-service")
    tokens = {token_of(decode(_entry(store, key)).payload) for key in store.list_keys()}
    secret_service.lock()
    result = run_kubectl(kubectl_path("1.33"), config, env=env)
    assert result.returncode == 0, result.stderr
    secret_service.kill_keyring()
    result = run_kubectl(kubectl_path("1.33"), config, env=env)
    assert result.returncode == 0, result.stderr
    assert plugin_runs(plugin_log) == 3
    assert store_files(env) == []
    assert_no_token_on_disk(tokens, tmp_path, secret_service.root, since=started)


KILLING_PLUGIN = """
import os, signal, sys

pid_file = sys.argv[1]
if os.path.exists(pid_file):  # kill the keyring daemon while kubewarm waits for this plugin
    with open(pid_file) as fh:
        pid = int(fh.read())
    os.unlink(pid_file)
    os.kill(pid, signal.SIGKILL)
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


def test_keyring_daemon_dies_while_kubectl_waits_for_a_credential(
    secret_service, api_server, kw_env, tmp_path
):
    """gnome-keyring-daemon dies (SIGKILL, by PID) after the shim has looked in the keyring and
    before it stores what the plugin printed, as when it crashes under load: kubectl still gets
    its credential, nothing goes to disk instead, and once the daemon is back (a session restarts
    it) the next call stores in the keyring again and the one after is a keyring hit."""
    plugin_log, pid_file = tmp_path / "runs.log", tmp_path / "kill-this-pid"
    killer = tmp_path / "killing_plugin.py"
    killer.write_text(KILLING_PLUGIN)
    env = _env(kw_env, secret_service, KUBEWARM_DEBUG="1")
    wrapped = {
        "command": shim_command(),
        "args": [sys.executable, str(killer), str(pid_file), *fake_plugin_argv(log=plugin_log)[1:]],
        "env": [{"name": "KUBEWARM_USER", "value": "alice"}],
    }
    config = write_kubeconfig(tmp_path / "kubeconfig", api_server, {"alice": wrapped})
    pid_file.write_text(str(secret_service.keyring_pid))
    started = time.monotonic()
    during = run_kubectl(kubectl_path("1.33"), config, env=env)
    assert during.returncode == 0, during.stderr
    assert "kubewarm-test" in during.stdout
    assert not pid_file.exists()  # the plugin ran and killed the daemon
    assert "not cached: cannot" in during.stderr and "Secret Service" in during.stderr
    assert time.monotonic() - started < 20
    assert store_files(env) == []
    assert not secret_service.serving()
    secret_service.kill_keyring()  # reap the dead daemon
    secret_service.start_keyring()
    after = run_kubectl(kubectl_path("1.33"), config, env=env)
    assert after.returncode == 0, after.stderr
    assert "stored in keyring" in after.stderr
    again = run_kubectl(kubectl_path("1.33"), config, env=env)
    assert again.returncode == 0, again.stderr
    assert "hit store=keyring" in again.stderr
    assert plugin_runs(plugin_log) == 2
    assert store_files(env) == []


def test_keyring_hit_imports_nothing_heavy(secret_service, kw_env, plugin_log):
    """A hit from the Secret Service, measured like tests/test_shim_imports.py: no keyring,
    jeepney, json, re, socket or struct, and no slow-path module."""
    env = _env(kw_env, secret_service)
    names = imports_of_a_hit(env, fake_plugin_argv(log=plugin_log))
    assert "kubewarm.engine.stores.secret_service_lean" in names  # it was the keyring's reader
    assert plugin_runs(plugin_log) == 1  # and a hit
    forbidden = {
        "keyring", "jeepney", "secretstorage", "json", "re", "socket", "struct", "typing",
        "collections", "subprocess", "ctypes", "binascii", "hashlib", "argparse", "datetime",
        "kubewarm.engine.cache.credentials", "kubewarm.engine.stores.keyring_store",
        "kubewarm.engine.stores.keyring_items", "kubewarm.engine.core.paths",
    }  # fmt: skip
    assert names & forbidden == set()
