"""Which store holds the credentials: ``KUBEWARM_STORE=auto|keyring|file``.

``auto`` picks the OS keyring when a secret store is reachable and unlocked, else the file
store. It decides once, records the decision in ``<cache dir>/store`` and says so once on
stderr; from then on the shim, the CLI and the tray all read the record instead of probing.
The record (no secrets in it)::

    keyring                                   <- what auto chose: keyring, file, or -
    backend=secret-service                    <- the keyring backend, when one was found
    reason=the Secret Service keyring is reachable and unlocked
    decided=2026-11-23T17:00:00Z

The use cases here return data: :func:`choose` gives the store and, when this very call made
the decision, the sentence that tells the user (the shim and the CLI write it on stderr).

A recorded keyring that is unusable for a moment (locked, daemon gone) is never swapped for
the file store: its operations raise :class:`StoreUnavailable`, and the shim runs the plugin
without caching (``KUBEWARM_DEBUG=1`` says why). ``kubewarm store --recheck`` decides again.

``lean_reader`` is on the shim's hit path: it loads only the lean reader of the recorded
backend (no keyring, json or re). ``open_store`` gives the full store for everything else.
:data:`KINDS` is the one table of keyring backends: adding one is adding a row.
"""

import os
import sys
import time

from kubewarm.engine.hotpath import cache_dir
from kubewarm.engine.stores import StoreUnavailable

TYPE_CHECKING = False
if TYPE_CHECKING:  # no runtime import: collections.abc costs ~3 ms on the hit path
    from collections.abc import Callable, Mapping

    from kubewarm.engine.stores.base import Store

    Fetch = Callable[[str], bytes | None]

SETTINGS = ("auto", "keyring", "file")
RECORD_NAME = "store"
SERVICE = "kubewarm"  # = keyring_items.SERVICE, not imported: one module less on the hit path


def wanted(values: dict[str, str]) -> str:
    """The configured store setting, validated."""
    name = values.get("KUBEWARM_STORE", "auto").strip().lower() or "auto"
    if name not in SETTINGS:
        raise StoreUnavailable(f"KUBEWARM_STORE={name!r} is not one of auto, keyring, file")
    return name


# --- the record ------------------------------------------------------------------------------


class Record:
    """The recorded decision (see the module docstring)."""

    __slots__ = ("auto", "backend", "decided", "reason")

    def __init__(self, auto: str = "", backend: str = "", reason: str = "", decided: str = ""):
        self.auto = auto
        self.backend = backend
        self.reason = reason
        self.decided = decided

    def encode(self) -> bytes:
        lines = [
            self.auto or "-",
            f"backend={self.backend}",
            "reason=" + " ".join(self.reason.split()),
            f"decided={self.decided}",
        ]
        return ("\n".join(lines) + "\n").encode("utf-8")


def record_path() -> str:
    return os.path.join(cache_dir(), RECORD_NAME)


def read_record() -> Record:
    """The recorded decision (an empty Record when there is none)."""
    try:
        fd = os.open(record_path(), os.O_RDONLY)
    except OSError:
        return Record()
    try:
        text = os.read(fd, 65536).decode("utf-8", "replace")
    except OSError:
        return Record()
    finally:
        os.close(fd)
    lines = text.split("\n")
    record = Record(auto=lines[0].strip() if lines[0].strip() in ("keyring", "file") else "")
    for line in lines[1:]:
        name, _, value = line.partition("=")
        if name in ("backend", "reason", "decided"):
            setattr(record, name, value.strip())
    if not known_backend(record.backend):
        record.backend = ""  # another hand wrote it: decide again rather than import it
    return record


def known_backend(kind: str) -> bool:
    """Whether a recorded backend is one kubewarm may load: a kind of :data:`KINDS`, or
    ``other:<module>:<class>`` naming a module of keyring's own backends or of the
    ``keyrings.*`` plug-in namespace (anything else could name any importable code)."""
    if not kind or kind in KINDS:
        return True
    parts = kind.split(":")
    if len(parts) != 3 or parts[0] != "other" or not parts[2].isidentifier():
        return False
    module = parts[1]
    return module.partition(".")[0] in ("keyring", "keyrings") and all(
        part.isidentifier() for part in module.split(".")
    )


def _write_record(record: Record) -> None:
    # lazy: start-up (on the hit path: atomic_write loads tempfile, ~8 ms)
    from kubewarm.engine.core.atomic_write import write_atomic

    os.makedirs(cache_dir(), mode=0o700, exist_ok=True)
    try:
        write_atomic(record_path(), record.encode(), mode=0o600)
    except OSError as exc:
        where = record_path()
        raise StoreUnavailable(f"cannot record the store choice in {where}: {exc}") from None


def forget() -> None:
    """Drop the recorded decision: the next slow path (or ``kubewarm store``) decides again."""
    try:
        os.unlink(record_path())
    except FileNotFoundError:
        pass


# --- the hit path ------------------------------------------------------------------------------


def _secret_service(service: str, environ: "Mapping[str, str] | None") -> "Fetch":
    # lazy: platform-only (each OS loads only its own keyring reader)
    from kubewarm.engine.stores.secret_service_lean import SecretServiceReader

    reader = SecretServiceReader(environ)
    reader.start()  # the daemons set up the session while the shim gets ready
    env = os.environ if environ is None else environ
    scheme = env.get("KEYRING_PROPERTY_SCHEME", "default")
    user, svc = ("UserName", "Title") if scheme == "KeePassXC" else ("username", "service")

    def fetch(name: str) -> bytes | None:
        return reader.read({user: name, svc: service})

    return fetch


def _macos_keychain(service: str, environ: "Mapping[str, str] | None") -> "Fetch":
    # lazy: platform-only (ctypes on Security.framework)
    from kubewarm.engine.stores.macos_lean import read_item

    def fetch(name: str) -> bytes | None:
        return read_item(service, name)

    return fetch


def _windows_credential_manager(service: str, environ: "Mapping[str, str] | None") -> "Fetch":
    # lazy: platform-only (ctypes on advapi32)
    from kubewarm.engine.stores.windows_lean import read_item

    def fetch(name: str) -> bytes | None:
        return read_item(service, name)

    return fetch


# Every keyring backend the shim reads without ``keyring``: kind -> (the sys.platform whose OS
# keyring it is, its lean fetch factory, the keyring backend's module and class, what the user
# calls it). ``keyring_store`` reads the same table.
KINDS = {
    "secret-service": (
        "linux", _secret_service, "keyring.backends.SecretService", "Keyring",
        "Secret Service keyring",
    ),
    "macos-keychain": (
        "darwin", _macos_keychain, "keyring.backends.macOS", "Keyring", "macOS Keychain",
    ),
    "windows-credential-manager": (
        "win32", _windows_credential_manager, "keyring.backends.Windows", "WinVaultKeyring",
        "Windows Credential Manager",
    ),
}  # fmt: skip


def describe_kind(kind: str) -> str:
    """What the user calls keyring backend ``kind`` ('Secret Service keyring', …)."""
    if kind in KINDS:
        return KINDS[kind][4]
    return "keyring backend " + kind.partition(":")[2].replace(":", ".")


def platform_kind() -> str:
    """The kind of this OS's own keyring ('' when kubewarm knows none here)."""
    for kind, row in KINDS.items():
        if row[0] == sys.platform:
            return kind
    return ""


def lean_reader(values: dict[str, str]) -> "tuple[str, Fetch]":
    """(store name, read function) for the shim's hit path; raises StoreUnavailable when no
    store is chosen yet or the chosen one has no fast reader here (the shim then takes the full
    path, which decides and records)."""
    setting = wanted(values)
    record = read_record() if setting != "file" else Record()
    if setting == "file" or (setting == "auto" and record.auto == "file"):
        # lazy: start-up (the keyring hit path reads without loading the file store)
        from kubewarm.engine.stores.file_store import FileStore

        return "file", FileStore().read
    if setting == "auto" and record.auto != "keyring":
        raise StoreUnavailable("no store chosen yet (deciding now)")
    return "keyring", keyring_reader(record.backend or platform_kind())


def keyring_reader(
    kind: str, environ: "Mapping[str, str] | None" = None, service: str = SERVICE
) -> "Fetch":
    """A read function over the lean reader for keyring backend ``kind`` (see :data:`KINDS`).

    An item in the common layout (``=`` + the blob) is unwrapped here; anything else (chunks,
    base64) goes through ``keyring_items``, which is imported only then.
    """
    row = KINDS.get(kind)
    if row is None:
        raise StoreUnavailable(f"no fast reader for keyring backend {kind or '(unknown)'}")
    fetch = row[1](service, environ)

    def read(key: str) -> bytes | None:
        value = fetch(key)
        if value is None or value[:1] == b"=":
            return value and value[1:]
        # lazy: start-up (the hit path: only for chunked or base64 items)
        from kubewarm.engine.stores.keyring_items import LayoutError, read_value

        try:
            return read_value(fetch, key)
        except LayoutError as exc:
            raise StoreUnavailable(str(exc)) from None

    return read


# --- deciding (slow path: imports keyring) --------------------------------------------------


def choose(values: dict[str, str]) -> "tuple[Store, str]":
    """The full store (reads, writes, deletes, metadata) that ``lean_reader`` reads from, and
    the sentence telling the user which store and why when this call decided it ('' else).

    Decides and records the store first when nothing is recorded yet.
    """
    setting = wanted(values)
    record = read_record() if setting != "file" else Record()
    news = ""
    if setting == "auto" and not record.auto:
        record, news = decide("auto")
    elif setting == "keyring" and not record.backend:
        record, news = decide("keyring")
    if setting == "file" or (setting == "auto" and record.auto == "file"):
        # lazy: start-up (the keyring hit path reads without loading the file store)
        from kubewarm.engine.stores.file_store import FileStore

        return FileStore(), news
    # lazy: slow path only (the full keyring store; the hit path reads through the lean readers)
    from kubewarm.engine.stores.keyring_store import KeyringStore

    return KeyringStore(kind=record.backend), news


def open_store(values: dict[str, str]) -> "Store":
    """:func:`choose` for callers that tell the user nothing (the decision is in the log)."""
    return choose(values)[0]


def decide(setting: str = "auto") -> "tuple[Record, str]":
    """Probe the OS keyring and record the decision; returns it with :func:`announcement`'s
    sentence, which is also written to kubewarm's log ('' when another process decided).

    For ``auto``: which store, and why. For ``keyring``: which keyring backend (what ``auto``
    chose is kept). Holds a lock so that concurrent first calls agree on one decision; a
    decision another process recorded meanwhile is returned as it is.
    """
    from kubewarm.engine.core import events_log  # lazy: slow path only (never on a hit)
    from kubewarm.engine.core.locks import hold  # lazy: slow path only (never on a hit)

    with hold("store-choice"):
        current = read_record()
        if current.auto if setting == "auto" else current.backend:
            return current, ""
        found = probe()
        found.decided = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if setting == "keyring":
            if not found.backend:
                raise StoreUnavailable(f"KUBEWARM_STORE=keyring, but {found.reason}")
            if current.auto:
                found.auto, found.reason = current.auto, current.reason
        _write_record(found)
    text = announcement(found, setting)
    events_log.write("store: " + text)
    return found, text


def probe() -> Record:
    """What ``auto`` would choose now, and why (not recorded)."""
    # lazy: slow path only (the full keyring store; the hit path reads through the lean readers)
    from kubewarm.engine.stores.keyring_store import KeyringStore, detect_backend, kind_of

    try:
        backend = detect_backend()
    except StoreUnavailable as exc:
        return Record("file", "", str(exc))
    kind = kind_of(backend)
    what = describe_kind(kind)
    try:
        secure = float(backend.priority) >= 1
    except Exception:
        secure = False
    if not secure:
        return Record("file", "", f"the only keyring backend, {what}, is not a recommended one")
    try:
        KeyringStore(backend, kind).check()
    except StoreUnavailable as exc:
        return Record("file", kind, f"the {what} is reachable but unusable: {exc}")
    return Record("keyring", kind, f"the {what} is reachable and unlocked")


def explain(values: dict[str, str], record: Record | None = None) -> str:
    """Which store is in use and why, in one sentence (``kubewarm store``, the tray)."""
    setting = wanted(values)
    record = record or read_record()
    if setting == "file":
        return f"files only you can read ({file_store_location()}), because KUBEWARM_STORE=file"
    if setting == "auto" and not record.auto:
        return "not chosen yet: the next kubectl call (or `kubewarm store`) decides"
    if setting == "auto" and record.auto == "file":
        return f"files only you can read ({file_store_location()}), because {record.reason}"
    if setting == "keyring":
        where = describe_kind(record.backend) if record.backend else "none found yet"
        return f"the OS keyring ({where}), because KUBEWARM_STORE=keyring"
    return f"the OS keyring, because {record.reason}"


def file_store_location() -> str:
    # lazy: start-up (the keyring hit path reads without loading the file store)
    from kubewarm.engine.stores.file_store import store_dir

    return store_dir()


def announcement(record: Record, setting: str = "auto") -> str:
    """The sentence that tells the user, once, which store kubewarm uses and why."""
    text = "keeping cached credentials in " + explain({"KUBEWARM_STORE": setting}, record)
    return text + "; `kubewarm store` shows this choice, `kubewarm store --recheck` decides again"
