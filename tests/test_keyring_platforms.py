"""The macOS Keychain and Windows Credential Manager readers, on their own systems (the CI
workflow runs them on macos and windows runners; elsewhere they skip as another platform's).

The store contract (tests/test_store_contract.py) also runs on both; these add what is
particular to each: the item layout keyring writes, and the limits and quirks around it.
"""

import secrets
import sys

import pytest
from kubewarm.engine.stores.choice import keyring_reader
from kubewarm.engine.stores.keyring_store import KeyringStore

from tests.test_store_contract import credential_blob, new_key

macos = pytest.mark.skipif(sys.platform != "darwin", reason="other platform: macOS Keychain")
windows = pytest.mark.skipif(sys.platform != "win32", reason="other platform: Windows")


@pytest.fixture
def service():
    """A keyring service name of its own, emptied afterwards (these are real user stores)."""
    import keyring
    import keyring.errors

    name = f"kubewarm-test-{secrets.token_hex(4)}"
    used: list[str] = []
    yield name, used
    for user in used:
        try:
            keyring.delete_password(name, user)
        except keyring.errors.PasswordDeleteError:
            pass
    store = KeyringStore(service=name)
    for key in store.list_keys():
        store.delete(key)
    store._remove("index")


@macos
def test_macos_reader_returns_what_keyring_wrote(service):
    import keyring
    from kubewarm.engine.stores import macos_lean

    name, used = service
    for value in ("plain", "ünïcødé ☃ 🚀", "x" * 20_000):
        user = secrets.token_hex(4)
        used.append(user)
        keyring.set_password(name, user, value)
        assert macos_lean.read_item(name, user) == value.encode("utf-8")
    assert macos_lean.read_item(name, "absent") is None
    assert macos_lean.keychain_state() == "unlocked"


@macos
def test_macos_update_in_place_keeps_the_item(service):
    """kubewarm rewrites an existing item's data instead of deleting and re-adding it, so the
    item's access list (and any "Always Allow" the user gave) survives a refresh."""
    import keyring
    from kubewarm.engine.stores import macos_lean

    name, used = service
    used.append("item")
    keyring.set_password(name, "item", "first")
    assert macos_lean.update_item(name, "item", b"second") is True
    assert keyring.get_password(name, "item") == "second"
    assert macos_lean.update_item(name, "absent", b"x") is False


@macos
def test_macos_store_round_trip(service):
    name, _ = service
    store, key = KeyringStore(kind="macos-keychain", service=name), new_key()
    for size in (4096, 12288, 300):
        blob = credential_blob(size)
        store.write(key, blob)
        assert keyring_reader("macos-keychain", service=name)(key) == blob


@windows
def test_windows_item_limit_is_real(service):
    """What kubewarm works around: Credential Manager refuses a 4 KB value through keyring."""
    import keyring

    name, used = service
    used.append("big")
    with pytest.raises(Exception):  # noqa: B017 - pywin32-ctypes' error type varies
        keyring.set_password(name, "big", "x" * 2000)


@windows
@pytest.mark.parametrize("size", [4096, 12288], ids=["4KB", "12KB"])
def test_windows_large_credentials_are_chunked(service, size):
    from kubewarm.engine.stores import windows_lean
    from kubewarm.engine.stores.keyring_items import chunk_name

    name, _ = service
    store, key = KeyringStore(kind="windows-credential-manager", service=name), new_key()
    assert store.max_units == 1200
    blob = credential_blob(size)
    store.write(key, blob)
    assert keyring_reader("windows-credential-manager", service=name)(key) == blob
    manifest = windows_lean.read_item(name, key)
    assert manifest is not None
    count = int(manifest.split()[1])
    assert count >= size // 1200
    for index in range(count):
        target = chunk_name(key, "a", index)
        found = windows_lean._read(name) or ("", b"")
        if found[0] != target:
            found = windows_lean._read(f"{target}@{name}")
            assert found is not None, f"chunk {index} is missing"
        raw = found[1]
        assert len(raw) <= 2560


@windows
def test_windows_reader_follows_keyrings_target_names(service):
    """keyring keeps the last written item of a service under the service's own target name and
    moves the previous one to ``user@service``: the reader finds both."""
    import keyring
    from kubewarm.engine.stores import windows_lean

    name, used = service
    used.extend(["first", "second"])
    keyring.set_password(name, "first", "one")
    keyring.set_password(name, "second", "two ☃")
    assert windows_lean.read_item(name, "first") == b"one"
    assert windows_lean.read_item(name, "second") == "two ☃".encode()
    assert windows_lean.read_item(name, "third") is None


@macos
def test_macos_locked_default_keychain_falls_back_without_a_prompt(tmp_path, kw_env, plugin_log):
    """A locked temporary default keychain (the only one searched): the shim must answer from
    the plugin at once, never wait on an unlock dialog (which would hang kubectl)."""
    import subprocess
    import time

    from tests.fixtures_core import fake_plugin_argv, plugin_runs
    from tests.shim_helpers import run_shim, token_of

    def security(*args: str) -> str:
        done = subprocess.run(
            ["security", *args], capture_output=True, text=True, timeout=30, check=True
        )
        return done.stdout

    keychain = str(tmp_path / "kubewarm-test.keychain-db")
    previous_default = security("default-keychain", "-d", "user").strip().strip('"')
    previous_list = [
        line.strip().strip('"') for line in security("list-keychains", "-d", "user").splitlines()
    ]
    security("create-keychain", "-p", "kubewarm-test", keychain)
    try:
        security("list-keychains", "-d", "user", "-s", keychain)
        security("default-keychain", "-d", "user", "-s", keychain)
        security("lock-keychain", keychain)
        for call in (1, 2):
            started = time.monotonic()
            result = run_shim(
                fake_plugin_argv(log=plugin_log), kw_env, timeout=60, KUBEWARM_STORE="keyring"
            )
            assert time.monotonic() - started < 20, "the shim waited (on a dialog?)"
            assert result.returncode == 0, result.stderr
            assert token_of(result.stdout)
            assert plugin_runs(plugin_log) == call  # nothing cached in a locked keychain
    finally:
        security("default-keychain", "-d", "user", "-s", previous_default)
        security("list-keychains", "-d", "user", "-s", *[k for k in previous_list if k])
        security("delete-keychain", keychain)
