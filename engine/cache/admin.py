"""Looking after the cache in whichever store holds it: list entries, clear them, drop expired
ones (the CLI's ``entries``/``clear``/``status`` and the tray). Returns data; ``engine.cli.text``
words it. Never shows a secret.

Every function takes the settings ``values`` (default: ``settings.load()``) and optionally a
``store`` to work on instead of the configured one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping

from kubewarm.engine.core import paths, served, settings
from kubewarm.engine.core.entry import BadEntry, decode
from kubewarm.engine.core.locks import hold
from kubewarm.engine.core.safe_files import UnsafePath, open_private, private_dir
from kubewarm.engine.stores import StoreUnavailable
from kubewarm.engine.stores.base import Store
from kubewarm.engine.stores.choice import open_store
from kubewarm.engine.stores.file_store import FileStore, store_dir

HOUSEKEEPING_GRACE = 3600.0  # an entry expired this long ago is deleted
HOUSEKEEPING_INTERVAL = 6 * 3600.0  # housekeeping_if_due runs at most this often


class CachedEntry:
    """What is known of one cached credential, without the secret."""

    __slots__ = (
        "cluster",
        "expires",
        "explicit",
        "key",
        "plugin",
        "recipe",
        "store",
        "user",
        "valid",
    )

    def __init__(
        self, key: str, store: str, recipe: dict, expires: float, explicit: bool, valid: bool
    ) -> None:
        self.key = key
        self.store = store
        self.recipe = recipe
        self.user = str(recipe.get("user", ""))
        self.plugin = str(recipe.get("plugin", ""))
        self.cluster = str(recipe.get("cluster", ""))
        self.expires = expires
        self.explicit = explicit
        self.valid = valid

    def remaining(self, now: float | None = None) -> float:
        return self.expires - (time.time() if now is None else now)


def _values(values: Mapping[str, str] | None) -> dict[str, str]:
    return dict(values) if values is not None else settings.load()


def _store(values: Mapping[str, str] | None, store: Store | None) -> Store:
    return store if store is not None else open_store(_values(values))


def _recipe(store: Store, key: str) -> dict:
    try:
        raw = store.read_meta(key)
        doc = json.loads(raw) if raw else {}
    except (StoreUnavailable, ValueError, OSError):
        doc = {}
    return doc if isinstance(doc, dict) else {}


def list_entries(
    values: Mapping[str, str] | None = None, store: Store | None = None
) -> list[CachedEntry]:
    """Every entry in the store (expired and broken ones flagged ``valid=False``), sorted by
    user, then plugin. Raises StoreUnavailable when the store cannot be read at all."""
    store = _store(values, store)
    result = []
    now = time.time()
    for key in store.list_keys():
        recipe = _recipe(store, key)
        try:
            blob = store.read(key)
            entry = decode(blob) if blob is not None else None
        except (StoreUnavailable, BadEntry, OSError):
            entry = None
        if entry is None:
            result.append(CachedEntry(key, store.name, recipe, 0.0, False, False))
        else:
            result.append(
                CachedEntry(
                    key, store.name, recipe, entry.expires, entry.explicit, entry.expires > now
                )
            )
    return sorted(result, key=lambda e: (e.user, e.plugin, e.key))


def recipes_for_user(
    user: str, values: Mapping[str, str] | None = None, store: Store | None = None
) -> list[CachedEntry]:
    """Entries recorded for kubeconfig user ``user`` (``KUBEWARM_USER``), newest first."""
    found = [e for e in list_entries(values, store) if e.user == user and e.recipe.get("argv")]
    return sorted(found, key=lambda e: e.recipe.get("obtained", 0), reverse=True)


def clear(
    values: Mapping[str, str] | None = None,
    *,
    keys: Iterable[str] | None = None,
    users: Iterable[str] | None = None,
    store: Store | None = None,
) -> int:
    """Delete every entry, or those whose key starts with one of ``keys`` or whose kubeconfig
    user is one of ``users``; entry and metadata both go. Returns how many were deleted."""
    store = _store(values, store)
    wanted_keys = [k.lower() for k in keys or ()]
    wanted_users = set(users or ())
    removed = 0
    for key in store.list_keys():
        if wanted_keys or wanted_users:
            by_key = any(key.startswith(k) for k in wanted_keys)
            by_user = bool(wanted_users) and _recipe(store, key).get("user") in wanted_users
            if not (by_key or by_user):
                continue
        store.delete(key)
        removed += 1
    return removed


def leftover_file_store(values: Mapping[str, str] | None = None) -> Store | None:
    """The file store, when it holds entries but the keyring is the store in use (left from
    before a switch to the keyring): they should go. None otherwise."""
    store = _store(values, None)
    if store.name == "file":
        return None
    files = FileStore()
    try:
        return files if files.list_keys() else None
    except (StoreUnavailable, OSError):
        return None


def housekeeping(
    values: Mapping[str, str] | None = None,
    grace: float = HOUSEKEEPING_GRACE,
    store: Store | None = None,
) -> int:
    """Delete entries that expired more than ``grace`` seconds ago, broken ones, and keys left
    without an entry. Returns how many were deleted.

    Each deletion happens under the key's lock, re-checked: an entry being written right now
    (its key listed a moment before its blob lands) is left alone.
    """
    store = _store(values, store)
    cutoff = time.time() - grace
    removed = 0
    for item in list_entries(values, store):
        if item.expires >= cutoff:
            continue
        with hold(item.key, blocking=False) as acquired:
            if not acquired:
                continue
            try:
                blob = store.read(item.key)
                expires = decode(blob).expires if blob is not None else 0.0
            except (BadEntry, OSError):
                expires = 0.0
            if expires < cutoff:
                store.delete(item.key)
                removed += 1
    return removed


def _own_folders() -> list[str]:
    """Every folder kubewarm writes temporary files into (``write_atomic``'s ``.kubewarm-*``)."""
    return [
        paths.cache_dir(), store_dir(), paths.config_dir(), paths.data_dir(),
        os.path.join(paths.data_dir(), "bin"), paths.log_dir(),
    ]  # fmt: skip


def remove_stale_temp_files(max_age: float = 600.0) -> int:
    """Delete ``.kubewarm-*.tmp`` files older than ``max_age`` seconds from kubewarm's own
    folders: a crash between writing and renaming leaves one, and it may hold a token. A
    younger one may be a write in progress. Returns how many went."""
    cutoff = time.time() - max_age
    removed = 0
    for folder in _own_folders():
        try:
            items = list(os.scandir(folder))
        except OSError:
            continue
        for item in items:
            if not (item.name.startswith(".kubewarm-") and item.name.endswith(".tmp")):
                continue
            try:
                if item.is_file(follow_symlinks=False) and item.stat().st_mtime <= cutoff:
                    os.unlink(item.path)
                    removed += 1
            except OSError:
                continue
    return removed


def _stamp_path() -> str:
    return os.path.join(paths.cache_dir(), "housekeeping")


def housekeeping_due(interval: float = HOUSEKEEPING_INTERVAL) -> bool:
    """Whether housekeeping last ran ``interval`` seconds ago or more (one stat)."""
    try:
        return time.time() - os.stat(_stamp_path()).st_mtime >= interval
    except OSError:
        return True


def housekeeping_if_due(
    values: Mapping[str, str] | None = None, interval: float = HOUSEKEEPING_INTERVAL
) -> int:
    """Run :func:`housekeeping` unless it ran less than ``interval`` seconds ago (one stat).
    For the slow path and the tray; never raises. Returns how many entries were deleted."""
    stamp = _stamp_path()
    if not housekeeping_due(interval):
        return 0
    try:
        private_dir(os.path.dirname(stamp))
        fd = open_private(stamp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            os.write(fd, time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()).encode())
        finally:
            os.close(fd)
        served.prune()  # markers of kubectl calls answered from the cache (hits add them too)
        remove_stale_temp_files()
        return housekeeping(values)
    except (StoreUnavailable, UnsafePath, OSError):
        return 0
