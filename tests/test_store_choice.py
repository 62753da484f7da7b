"""KUBEWARM_STORE=auto|keyring|file: decided once, recorded, said once; the shim, the CLI and
the engine agree; a chosen keyring is never silently swapped for plaintext files."""

import subprocess
import sys
from pathlib import Path

import pytest
from kubewarm.engine.stores import StoreUnavailable, choice
from kubewarm.engine.stores.file_store import FileStore
from kubewarm.engine.stores.keyring_store import KeyringStore

from tests.fixtures_core import BIN, fake_plugin_argv, plugin_runs, shim_command
from tests.shim_helpers import run_shim, store_files

ANNOUNCEMENT = b"keeping cached credentials in"


def kubewarm(*args: str, env: dict) -> subprocess.CompletedProcess:
    command = BIN / "kubewarm"
    argv = [str(command)] if command.exists() else [sys.executable, "-m", "kubewarm.tray.cli"]
    return subprocess.run(
        [*argv, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_unknown_setting_is_named_with_the_choices(kw_env):
    with pytest.raises(StoreUnavailable, match="auto, keyring, file"):
        choice.wanted({"KUBEWARM_STORE": "vault"})
    result = kubewarm("store", env={**kw_env, "KUBEWARM_STORE": "vault"})
    assert result.returncode == 1
    assert "KUBEWARM_STORE='vault' is not one of auto, keyring, file" in result.stderr


def test_file_setting_needs_no_decision(kw_env):
    assert choice.lean_reader({"KUBEWARM_STORE": "file"})[0] == "file"
    assert isinstance(choice.open_store({"KUBEWARM_STORE": "file"}), FileStore)
    assert not Path(choice.record_path()).exists()


def test_auto_without_a_record_defers_to_the_slow_path(kw_env):
    with pytest.raises(StoreUnavailable, match="no store chosen yet"):
        choice.lean_reader({"KUBEWARM_STORE": "auto"})


@pytest.mark.real
def test_decision_is_recorded_and_shared(secret_service, kw_env, capsys):
    store, said = choice.choose({"KUBEWARM_STORE": "auto"})
    assert isinstance(store, KeyringStore) and store.kind == "secret-service"
    assert "keeping cached credentials in the OS keyring" in said
    assert capsys.readouterr().err == ""  # the use case returns the sentence; callers say it
    lines = Path(choice.record_path()).read_text().splitlines()
    assert lines[0] == "keyring" and "backend=secret-service" in lines
    assert not any("token" in line.lower() for line in lines)
    # from now on: no probing, no announcement, and the lean reader agrees
    store, said = choice.choose({"KUBEWARM_STORE": "auto"})
    assert isinstance(store, KeyringStore) and said == ""
    assert isinstance(choice.open_store({"KUBEWARM_STORE": "auto"}), KeyringStore)
    assert choice.lean_reader({"KUBEWARM_STORE": "auto"})[0] == "keyring"


@pytest.mark.real
def test_auto_records_files_without_a_keyring(no_secret_service, kw_env):
    store, said = choice.choose({"KUBEWARM_STORE": "auto"})
    assert isinstance(store, FileStore)
    assert "files only you can read" in said
    record = choice.read_record()
    assert record.auto == "file" and "no OS keyring" in record.reason
    name, read = choice.lean_reader({"KUBEWARM_STORE": "auto"})
    assert name == "file"
    assert read("ab" * 32) is None


@pytest.mark.real
def test_keyring_setting_without_a_keyring_caches_nothing(no_secret_service, kw_env, plugin_log):
    with pytest.raises(StoreUnavailable, match="KUBEWARM_STORE=keyring, but no OS keyring"):
        choice.open_store({"KUBEWARM_STORE": "keyring"})
    env = {**kw_env, "KUBEWARM_STORE": "keyring", "KUBEWARM_DEBUG": "1"}
    env["DBUS_SESSION_BUS_ADDRESS"] = no_secret_service_address()
    for _ in range(2):
        result = run_shim(fake_plugin_argv(log=plugin_log), env, own_parent=True)
        assert result.returncode == 0, result.stderr
        assert b"KUBEWARM_STORE=keyring, but no OS keyring" in result.stderr
    assert plugin_runs(plugin_log) == 2
    assert store_files(env) == []


def no_secret_service_address() -> str:
    import os

    return os.environ["DBUS_SESSION_BUS_ADDRESS"]


@pytest.mark.real
def test_recorded_keyring_stays_when_unusable(secret_service, kw_env):
    choice.open_store({"KUBEWARM_STORE": "auto"})
    secret_service.kill_keyring()
    store = choice.open_store({"KUBEWARM_STORE": "auto"})
    assert isinstance(store, KeyringStore)
    with pytest.raises(StoreUnavailable):
        store.write("ab" * 32, b"blob")
    with pytest.raises(StoreUnavailable):
        choice.lean_reader({"KUBEWARM_STORE": "auto"})[1]("ab" * 32)
    assert choice.read_record().auto == "keyring"


@pytest.mark.real
def test_concurrent_first_calls_agree_and_say_it_once(secret_service, kw_env, plugin_log):
    env = {**kw_env, **secret_service.env, "KUBEWARM_STORE": "auto"}
    argv = fake_plugin_argv(log=plugin_log, sleep=0.3)
    procs = [
        subprocess.Popen(
            ["/bin/sh", "-c", '"$@"', "sh", shim_command(), *argv],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(6)
    ]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs)
    assert sum(err.count(ANNOUNCEMENT) for _, err in outputs) == 1
    assert len({out for out, _ in outputs}) == 1  # one plugin run served them all
    assert plugin_runs(plugin_log) == 1
    assert choice.read_record().auto == "keyring"


@pytest.mark.real
def test_recheck_after_a_keyring_appears(no_secret_service, kw_env, tmp_path_factory):
    choice.open_store({"KUBEWARM_STORE": "auto"})
    assert choice.read_record().auto == "file"
    from tests.fixtures_keyring import SecretService

    service = SecretService(tmp_path_factory.mktemp("late-keyring"))
    try:
        service.start()
        env = {**kw_env, **service.env, "KUBEWARM_STORE": "auto"}
        shown = kubewarm("store", env=env)
        assert "files only you can read" in shown.stdout  # decided once: still files
        rechecked = kubewarm("store", "--recheck", env=env)
        assert rechecked.returncode == 0, rechecked.stderr
        assert "the OS keyring, because the Secret Service keyring is reachable" in rechecked.stdout
        assert choice.read_record().auto == "keyring"
    finally:
        service.stop()


def test_every_platform_keyring_has_a_lean_reader_and_a_name():
    """One table (choice.KINDS) drives the hit path's reader, the keyring backend and the name."""
    from kubewarm.engine.stores import keyring_store

    platforms = [row[0] for row in choice.KINDS.values()]
    assert sorted(platforms) == ["darwin", "linux", "win32"]
    assert choice.platform_kind() in (*choice.KINDS, "")
    for kind, (_, _, module, name, said) in choice.KINDS.items():
        assert choice.describe_kind(kind) == said
        fake = type(name, (), {"__module__": module})()
        assert keyring_store.kind_of(fake) == kind


def test_unknown_backend_has_no_fast_reader(kw_env):
    Path(choice.record_path()).parent.mkdir(parents=True, exist_ok=True)
    Path(choice.record_path()).write_text("keyring\nbackend=other:keyrings.alt:Foo\n")
    with pytest.raises(StoreUnavailable, match="no fast reader"):
        choice.lean_reader({"KUBEWARM_STORE": "auto"})


@pytest.mark.real
def test_switching_stores_empties_the_old_one(secret_service, kw_env, plugin_log):
    env = {**kw_env, **secret_service.env}
    env.pop("KUBEWARM_STORE")
    settings = Path(env["KUBEWARM_CONFIG_DIR"]) / "settings.conf"
    settings.parent.mkdir(parents=True)
    settings.write_text("# mine\nKUBEWARM_STORE=file\n")
    assert run_shim(fake_plugin_argv(log=plugin_log), env).returncode == 0
    assert len(store_files(env)) == 1
    switched = kubewarm("store", "keyring", env=env)
    assert switched.returncode == 0, switched.stderr
    assert "Removed 1 credential from kubewarm's file store" in switched.stdout
    assert "Credentials are kept in the OS keyring (Secret Service keyring)" in switched.stdout
    assert store_files(env) == []
    assert settings.read_text() == "# mine\nKUBEWARM_STORE=keyring\n"
    assert run_shim(fake_plugin_argv(log=plugin_log), env).returncode == 0
    assert store_files(env) == [] and plugin_runs(plugin_log) == 2
    back = kubewarm("store", "file", env=env)
    assert "Removed 1 credential from the OS keyring (Secret Service keyring)" in back.stdout
    assert KeyringStore(kind="secret-service").list_keys() == []
