"""The Secret Service store and the shim's lean D-Bus reader against a real gnome-keyring-daemon:
what keyring writes, the lean reader reads byte for byte; what it cannot handle (locked, daemon
gone, no bus, ambiguous or foreign items) it refuses with a reason instead of guessing."""

import subprocess
import sys
import time

import pytest
from kubewarm.engine.stores import StoreUnavailable
from kubewarm.engine.stores import secret_service_lean as lean
from kubewarm.engine.stores.choice import keyring_reader
from kubewarm.engine.stores.keyring_items import SERVICE, chunk_name, utf16_units
from kubewarm.engine.stores.keyring_store import KeyringStore

from tests.fixtures_keyring import PASSWORD
from tests.test_store_contract import credential_blob, new_key, rewrite_concurrently

pytestmark = pytest.mark.real


def _backend():
    from keyring.backends.SecretService import Keyring

    return Keyring()


def _raw(name: str, service: str = SERVICE) -> bytes | None:
    """An item's value exactly as keyring returns it."""
    value = _backend().get_password(service, name)
    return None if value is None else value.encode("utf-8")


def test_lean_reader_returns_exactly_what_keyring_wrote(secret_service):
    reader = lean.SecretServiceReader()
    values = ["plain", "ünïcødé ☃ 𝄞 🚀", "x" * 50_000, "tab\tnew\nline\r\x01", " "]
    for i, value in enumerate(values):
        _backend().set_password("kubewarm-raw", f"user{i}", value)
    for i, value in enumerate(values):
        got = reader.read({"service": "kubewarm-raw", "username": f"user{i}"})
        assert got == value.encode("utf-8") == _raw(f"user{i}", "kubewarm-raw")
    assert reader.read({"service": "kubewarm-raw", "username": "absent"}) is None
    reader.close()


def test_entry_written_by_the_store_reads_back_through_the_shims_reader(secret_service):
    store, key = KeyringStore(kind="secret-service"), new_key()
    blob = credential_blob(3000)
    store.write(key, blob)
    assert _raw(key) == b"=" + blob  # the layout keyring_items documents
    assert keyring_reader("secret-service")(key) == blob


@pytest.mark.parametrize("size", [4096, 12288], ids=["4KB", "12KB"])
def test_windows_sized_chunks(secret_service, size):
    """With Windows Credential Manager's item size, a 4 KB and a 12 KB credential are split into
    items of at most 2,560 bytes of UTF-16, and reassembled by the lean reader."""
    store, key = KeyringStore(kind="secret-service", max_units=1200), new_key()
    blob = credential_blob(size)
    store.write(key, blob)
    manifest = _raw(key)
    assert manifest is not None and manifest.startswith(b"*a ")
    count = int(manifest.split()[1])
    assert count == -(-(len(blob) + 1) // 1200)  # ceil: "=" + blob in 1,200-character pieces
    for index in range(count):
        raw = _raw(chunk_name(key, "a", index))
        assert raw is not None, f"chunk {index} is missing"
        piece = raw.decode("utf-8")
        assert len(piece.encode("utf-16-le")) <= 2560
        assert utf16_units(piece) <= 1200
    assert _raw(chunk_name(key, "a", count)) is None
    assert keyring_reader("secret-service")(key) == blob == store.read(key)
    # rewritten small: the manifest becomes the value itself and no chunk item is left behind
    small = credential_blob(300)
    store.write(key, small)
    assert _raw(key) == b"=" + small
    for generation in "ab":
        assert _raw(chunk_name(key, generation, 0)) is None
    assert keyring_reader("secret-service")(key) == small


def test_locked_collection_is_refused_without_a_prompt(secret_service):
    store, key = KeyringStore(kind="secret-service"), new_key()
    store.write(key, credential_blob(300))
    read = keyring_reader("secret-service")
    secret_service.lock()
    assert secret_service.is_locked()
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="locked"):
        keyring_reader("secret-service")(key)
    with pytest.raises(StoreUnavailable, match="locked"):
        read(key)  # a reader whose connection predates the lock
    with pytest.raises(StoreUnavailable, match="locked"):
        KeyringStore(kind="secret-service").read(key)
    with pytest.raises(StoreUnavailable, match="locked"):
        KeyringStore(kind="secret-service").write(key, credential_blob(300))
    assert time.monotonic() - started < 5
    assert lean.collection_state() == "locked"
    secret_service.unlock()
    assert keyring_reader("secret-service")(key) is not None


def test_daemon_gone_is_refused_quickly(secret_service):
    store, key = KeyringStore(kind="secret-service"), new_key()
    store.write(key, credential_blob(300))
    secret_service.kill_keyring()
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="no Secret Service is running"):
        keyring_reader("secret-service")(key)
    with pytest.raises(StoreUnavailable):
        KeyringStore(kind="secret-service").read(key)
    assert time.monotonic() - started < 5
    secret_service.start_keyring()  # the login keyring on disk is unlocked again, entry intact
    assert keyring_reader("secret-service")(key) == store.read(key) is not None


class _DaemonDiesBefore:
    """keyring's Secret Service backend, except that gnome-keyring-daemon is killed (SIGKILL, by
    PID) just before one chosen item call, as when it crashes in the middle of a write."""

    def __init__(self, service, call: str, name: str) -> None:
        self.real, self.service, self.call, self.name = _backend(), service, call, name
        self.killed = False

    def _maybe_kill(self, call: str, name: str) -> None:
        if not self.killed and (call, name) == (self.call, self.name):
            self.killed = True
            self.service.kill_keyring()

    def get_password(self, service: str, name: str):
        return self.real.get_password(service, name)

    def set_password(self, service: str, name: str, value: str) -> None:
        self._maybe_kill("set", name)
        self.real.set_password(service, name, value)

    def delete_password(self, service: str, name: str) -> None:
        self._maybe_kill("delete", name)
        self.real.delete_password(service, name)


@pytest.mark.parametrize(
    "call, item, survives",
    [
        ("set", "b0", "old"),  # the first chunk of the new generation
        ("set", "b5", "old"),  # half of the chunks written
        ("set", "", "old"),  # all chunks written, not the manifest
        ("delete", "a3", "new"),  # the manifest written, the old chunks half deleted
    ],
    ids=["first-chunk", "mid-chunks", "manifest", "old-chunks"],
)
def test_chunked_write_cut_short_by_the_daemon_dying(secret_service, call, item, survives):
    """A 12 KB value written as Windows-sized chunks, the daemon killed at each step of the
    rewrite: the write fails with StoreUnavailable (never another error), and once the daemon is
    back both readers return the previous value or the new one, whole, and the next write
    succeeds and leaves no chunk of the other generation behind."""
    key = new_key()
    old, new, newest = (credential_blob(12288, marker=c * 13000) for c in "ABC")
    KeyringStore(kind="secret-service", max_units=1200).write(key, old)
    name = chunk_name(key, item[0], int(item[1:])) if item else key
    dying = _DaemonDiesBefore(secret_service, call, name)
    with pytest.raises(StoreUnavailable, match="Secret Service"):
        KeyringStore(dying, kind="secret-service", max_units=1200).write(key, new)
    assert dying.killed
    secret_service.start_keyring()
    store = KeyringStore(kind="secret-service", max_units=1200)
    expected = old if survives == "old" else new
    assert store.read(key) == expected == keyring_reader("secret-service")(key)
    store.write(key, newest)
    assert store.read(key) == newest == keyring_reader("secret-service")(key)
    raw = _raw(key)
    assert raw is not None
    generation = raw.decode()[1]
    other = "b" if generation == "a" else "a"
    assert [_raw(chunk_name(key, other, i)) for i in range(12)] == [None] * 12
    assert store.list_keys() == [key]


@pytest.mark.parametrize("max_units", [None, 1200], ids=["plain", "chunked"])
def test_concurrent_rewrites_survive_the_daemon_being_killed(secret_service, kw_env, max_units):
    """The store contract's concurrent rewrites, with gnome-keyring-daemon killed (by PID) once
    a rewrite has landed and started again: writes in flight fail with StoreUnavailable and
    the writers go on, no reader ever sees a mix, and the store is usable again afterwards."""
    spec = f"secret-service:{max_units}" if max_units else "secret-service"
    store = KeyringStore(kind="secret-service", max_units=max_units)
    happened = rewrite_concurrently(
        spec, store, keyring_reader("secret-service"), secret_service, kill_daemon=True
    )
    assert happened["interrupted"]
    assert happened["failed"], "no write was in flight when the daemon was killed"
    assert happened["unavailable"] > 0


def test_no_session_bus(monkeypatch, tmp_path):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'nothing'}")
    with pytest.raises(StoreUnavailable, match="cannot connect to the D-Bus session bus"):
        keyring_reader("secret-service")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    with pytest.raises(StoreUnavailable, match="no D-Bus session bus"):
        keyring_reader("secret-service")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "tcp:host=127.0.0.1,port=1")
    with pytest.raises(StoreUnavailable):
        keyring_reader("secret-service")


def test_two_matching_items_are_refused_not_guessed(secret_service):
    import secretstorage

    key = new_key()
    KeyringStore(kind="secret-service").write(key, credential_blob(300))
    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        collection.create_item(
            "another program's item",
            {"service": SERVICE, "username": key, "application": "someone else"},
            b"=not ours",
        )
    finally:
        connection.close()
    with pytest.raises(StoreUnavailable, match="2 keyring items"):
        keyring_reader("secret-service")(key)


def test_a_copy_in_another_collection_is_refused_not_guessed(secret_service):
    """The lean reader searches every collection: an item of ours in two of them (say, after
    the default keyring changed) is left to keyring, which reads the default one."""
    import secretstorage
    from secretstorage.collection import SESSION_COLLECTION, Collection

    key = new_key()
    blob = credential_blob(300)
    KeyringStore(kind="secret-service").write(key, blob)
    assert keyring_reader("secret-service")(key) == blob
    connection = secretstorage.dbus_init()
    try:
        Collection(connection, SESSION_COLLECTION).create_item(
            "stale copy",
            {"service": SERVICE, "username": key, "application": "Python keyring library"},
            b"=stale",
        )
    finally:
        connection.close()
    with pytest.raises(StoreUnavailable, match="2 keyring items"):
        keyring_reader("secret-service")(key)
    assert KeyringStore(kind="secret-service").read(key) == blob


def test_foreign_value_layout_is_refused(secret_service):
    key = new_key()
    _backend().set_password(SERVICE, key, "a password some other tool stored")
    with pytest.raises(StoreUnavailable, match="unknown layout"):
        keyring_reader("secret-service")(key)
    with pytest.raises(StoreUnavailable, match="unknown layout"):
        KeyringStore(kind="secret-service").read(key)


def test_item_names_and_labels_hold_no_secret(secret_service):
    import secretstorage

    store, key = KeyringStore(kind="secret-service", max_units=1200), new_key()
    token = "k8s-aws-v1.SECRETTOKEN" + "q" * 5000
    blob = credential_blob(6000, marker=token)
    store.write(key, blob)
    store.write_meta(key, b'{"user": "alice", "plugin": "aws"}')
    connection = secretstorage.dbus_init()
    try:
        items = list(secretstorage.get_default_collection(connection).get_all_items())
        assert len(items) >= 4  # index, manifest, chunks, metadata
        for item in items:
            public = item.get_label() + repr(item.get_attributes())
            assert "SECRETTOKEN" not in public
            assert item.get_attributes()["service"] == SERVICE
    finally:
        connection.close()


def test_secrets_at_rest_are_encrypted(secret_service):
    """gnome-keyring's file holds the entry encrypted: the token is nowhere on disk."""
    token = "SECRETTOKEN" + "z" * 40
    KeyringStore(kind="secret-service").write(new_key(), credential_blob(600, marker=token))
    _backend().set_password("flush", "flush", "x")  # gnome-keyring writes its file on change
    files = [p for p in secret_service.root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".keyring" for p in files)
    for path in files:
        assert b"SECRETTOKEN" not in path.read_bytes(), path


# --- the D-Bus wire format, checked against jeepney (an independent implementation) --------


@pytest.mark.parametrize("endian", ["<", ">"])
def test_unmarshal_agrees_with_jeepney(endian):
    from jeepney.low_level import Endianness, Header, HeaderFields, Message, MessageType

    body = (
        {"/org/freedesktop/secrets/collection/login/7": ("/s/1", b"", b"\x00\xffsecret", "t/p")},
        ["/a/b", "/c"],
        ("s", "variant"),
        2**40,
        -5,
        True,
        "ünï",
    )
    sig = "a{o(oayays)}aovxibs"
    message = Message(
        Header(
            Endianness.little if endian == "<" else Endianness.big,
            MessageType.method_return,
            0,
            1,
            -1,  # body length: serialise() computes it
            7,
            {HeaderFields.reply_serial: 3, HeaderFields.signature: sig},
        ),
        body,
    )
    raw = message.serialise()
    order = "little" if endian == "<" else "big"
    fields_len = int.from_bytes(raw[12:16], order)
    body_at = 16 + fields_len + (-fields_len % 8)
    parsed = lean.unmarshal(sig, raw[body_at:], order)
    assert parsed[0] == body[0]
    assert parsed[1:3] == [body[1], "variant"]
    assert parsed[3:] == list(body[3:])


def test_marshalled_calls_parse_with_jeepney():
    from jeepney.low_level import HeaderFields, Parser

    body = bytearray()
    lean._dict_ss(body, {"service": "kubewarm", "username": "ab" * 32})
    raw = lean.message(
        9, lean.SECRETS, lean.SERVICE_PATH, lean.SERVICE_IFACE, "SearchItems", "a{ss}", body, 2
    )
    parser = Parser()
    parser.add_data(raw)
    msg = parser.get_next_message()
    assert msg is not None
    assert msg.header.serial == 9
    assert msg.header.flags == 2
    assert msg.header.fields[HeaderFields.member] == "SearchItems"
    assert msg.header.fields[HeaderFields.destination] == lean.SECRETS
    assert msg.body == ({"service": "kubewarm", "username": "ab" * 32},)
    body = bytearray()
    lean._paths(body, ["/a", "/b/c"])
    lean._str(body, "/session/1")
    parser.add_data(lean.message(10, "d.e", "/", "i.f", "GetSecrets", "aoo", bytes(body)))
    msg = parser.get_next_message()
    assert msg is not None
    assert msg.body == (["/a", "/b/c"], "/session/1")


def test_bus_address_forms(monkeypatch):
    env = {"DBUS_SESSION_BUS_ADDRESS": "unix:abstract=/tmp/dbus-x,guid=1;unix:path=/run/a%20b"}
    assert lean.bus_addresses(env) == [b"\0/tmp/dbus-x", b"/run/a b"]
    assert lean.bus_addresses({"XDG_RUNTIME_DIR": "/run/user/1000"}) == [b"/run/user/1000/bus"]
    assert lean.bus_addresses({"DBUS_SESSION_BUS_ADDRESS": "tcp:host=x,port=1"}) == []


def test_password_fixture_unlocks(secret_service):
    """The fixture's own helpers work (a broken lock/unlock would make other tests vacuous)."""
    secret_service.lock()
    assert secret_service.is_locked()
    secret_service.unlock()
    assert not secret_service.is_locked()
    assert PASSWORD


def test_lean_reader_imports_nothing_heavy(secret_service, kw_env):
    """The Secret Service hit path loads no json, re, socket, struct, keyring or jeepney."""
    key = new_key()
    KeyringStore(kind="secret-service").write(key, credential_blob(300))
    from kubewarm.engine.cache.credentials import bootstrap_code

    code = bootstrap_code(
        "from kubewarm.engine.stores.choice import keyring_reader;"
        f"assert keyring_reader('secret-service')({key!r}).startswith(b'kubewarm1');"
        "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        env={**kw_env, **secret_service.env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    forbidden = {
        "json", "re", "socket", "struct", "keyring", "jeepney", "secretstorage", "typing",
        "collections", "collections.abc", "ctypes", "subprocess", "binascii",
        "kubewarm.engine.stores.keyring_items", "kubewarm.engine.stores.keyring_store",
    }  # fmt: skip
    assert "kubewarm.engine.stores.secret_service_lean" in out
    assert "_socket" in out
    assert forbidden & set(out) == set()


def test_deleting_the_last_key_leaves_no_item_behind(secret_service):
    """The index item goes with the last key, so a store emptied through the Store interface
    (as the contract test cleans a real user keychain) leaves nothing in the keyring."""
    store, first, second = KeyringStore(kind="secret-service", max_units=1200), new_key(), new_key()
    for key in (first, second):
        store.write(key, credential_blob(6000))
        store.write_meta(key, b'{"user": "alice"}')
    store.delete(first)
    assert _raw("index") is not None  # still lists the other key
    store.delete(second)
    assert _raw("index") is None and store.list_keys() == []
