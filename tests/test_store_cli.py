"""``kubewarm entries`` / ``clear`` and housekeeping, in whichever store holds the cache: what a
user sees (user, plugin, expiry, store, never the token) and what disappears."""

import time
from pathlib import Path

import pytest
import yaml
from kubewarm.engine.cache import admin as cache_admin
from kubewarm.engine.cli import text as cli_text
from kubewarm.engine.stores import choice

from tests.fixtures_core import fake_plugin_argv
from tests.shim_helpers import run_shim, token_of
from tests.test_store_choice import kubewarm
from tests.test_store_contract import credential_blob


@pytest.fixture(params=["file", "keyring"])
def cache_env(request, kw_env):
    """An environment whose store is the file store or the (real) Secret Service."""
    env = {**kw_env, "KUBEWARM_STORE": request.param}
    if request.param == "keyring":
        env.update(request.getfixturevalue("secret_service").env)
    return env


def _seed(env: dict, users: list[str], tmp_path) -> dict[str, str]:
    """One cached credential per kubeconfig user; returns user -> token."""
    tokens = {}
    for user in users:
        argv = fake_plugin_argv(log=tmp_path / f"{user}.log")
        result = run_shim(argv, env, KUBEWARM_USER=user)
        assert result.returncode == 0, result.stderr
        tokens[user] = token_of(result.stdout)
    return tokens


def test_entries_lists_without_secrets(cache_env, tmp_path):
    tokens = _seed(cache_env, ["alice", "bob"], tmp_path)
    result = kubewarm("entries", env=cache_env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["USER", "PLUGIN", "CLUSTER", "EXPIRES", "STORE", "KEY"]
    assert [line.split()[0] for line in lines[1:]] == ["alice", "bob"]
    for line in lines[1:]:
        assert "python" in line  # the plugin's command name
        assert "in 14m" in line or "in 15m" in line
        assert cache_env["KUBEWARM_STORE"] in line
    for token in tokens.values():
        assert token not in result.stdout + result.stderr
        assert token[-40:] not in result.stdout
    alias = kubewarm("cache", env=cache_env).stdout.splitlines()
    assert [line.split()[-1] for line in alias] == [line.split()[-1] for line in lines]


def test_clear_by_user_key_context_and_all(cache_env, tmp_path):
    _seed(cache_env, ["alice", "bob", "carol", "dave"], tmp_path)
    values = {"KUBEWARM_STORE": cache_env["KUBEWARM_STORE"]}
    by_user = {e.user: e.key for e in cache_admin.list_entries(values)}

    result = kubewarm("clear", "--user", "alice", env=cache_env)
    assert result.returncode == 0 and "Removed 1 cached credential" in result.stdout
    result = kubewarm("clear", "--key", by_user["bob"][:10], env=cache_env)
    assert "Removed 1 cached credential" in result.stdout

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump({"contexts": [{"name": "prod", "context": {"user": "carol"}}]})
    )
    result = kubewarm(
        "clear", "--context", "prod", env={**cache_env, "KUBECONFIG": str(kubeconfig)}
    )
    assert result.returncode == 0, result.stderr
    assert "Removed 1 cached credential" in result.stdout
    assert [e.user for e in cache_admin.list_entries(values)] == ["dave"]
    missing = kubewarm(
        "clear", "--context", "nope", env={**cache_env, "KUBECONFIG": str(kubeconfig)}
    )
    assert missing.returncode == 1 and "no context 'nope'" in missing.stderr

    result = kubewarm("clear", "--all", env=cache_env)
    assert "Removed 1 cached credential" in result.stdout
    assert cache_admin.list_entries(values) == []
    assert "No cached credentials" in kubewarm("entries", env=cache_env).stdout


def test_clear_needs_to_be_told_what(cache_env):
    result = kubewarm("clear", env=cache_env)
    assert result.returncode == 2
    assert "--context" in result.stderr and "--all" in result.stderr


def test_expired_entries_are_listed_on_request_and_housekept(cache_env, tmp_path):
    _seed(cache_env, ["alice"], tmp_path)  # kw_env marked housekeeping as just run
    values = {"KUBEWARM_STORE": cache_env["KUBEWARM_STORE"]}
    store = choice.open_store(values)
    old_key, broken_key = "ab" * 32, "cd" * 32
    store.write(old_key, credential_blob(300, expires_in=-7200))
    store.write_meta(old_key, b'{"user": "old", "plugin": "aws"}')
    store.write(broken_key, b"garbage")
    listed = kubewarm("entries", env=cache_env).stdout
    assert "alice" in listed and "old" not in listed
    assert "2 expired or unreadable entries not shown" in listed
    everything = kubewarm("entries", "--expired", env=cache_env).stdout
    assert "expired 2h" in everything and "unreadable" in everything
    assert cache_admin.housekeeping(values) == 2
    assert [e.user for e in cache_admin.list_entries(values)] == ["alice"]


def test_housekeeping_runs_at_most_every_interval(cache_env):
    Path(cache_admin._stamp_path()).unlink()  # kw_env's "just ran" mark: make it due
    values = {"KUBEWARM_STORE": cache_env["KUBEWARM_STORE"]}
    store = choice.open_store(values)
    store.write("ab" * 32, credential_blob(300, expires_in=-7200))
    assert cache_admin.housekeeping_if_due(values) == 1
    store.write("cd" * 32, credential_blob(300, expires_in=-7200))
    assert cache_admin.housekeeping_if_due(values) == 0  # ran a moment ago
    assert cache_admin.housekeeping_if_due(values, interval=0) == 1


def test_housekeeping_leaves_an_entry_being_written_alone(cache_env):
    """A key listed a moment before its blob lands (the store's write order) is not deleted
    while its writer holds the key's lock."""
    from kubewarm.engine.core.locks import hold

    values = {"KUBEWARM_STORE": cache_env["KUBEWARM_STORE"]}
    store = choice.open_store(values)
    key = "ef" * 32
    store.write_meta(key, b'{"user": "writing"}')  # listed, no blob yet
    with hold(key):
        assert cache_admin.housekeeping(values) == 0
        store.write(key, credential_blob(300))
    assert cache_admin.housekeeping(values) == 0
    assert [e.key for e in cache_admin.list_entries(values)] == [key]


def test_format_entries_reads_like_a_table():
    now = time.time()
    entry = cache_admin.CachedEntry(
        "0123456789abcdef" * 4,
        "keyring",
        {"user": "alice", "plugin": "aws", "cluster": "https://eks.example"},
        now + 600,
        True,
        True,
    )
    lines = cli_text.format_entries([entry], now)
    assert lines[1].split()[:4] == ["alice", "aws", "https://eks.example", "in"]
    assert lines[1].split()[-2:] == ["keyring", "0123456789ab"]
    assert "10m00s" in lines[1]
