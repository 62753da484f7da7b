"""Looking after the cache: list entries, clear them, drop expired ones (CLI and tray)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping

from kubewarm.engine import settings
from kubewarm.engine.entry import BadEntry, decode
from kubewarm.engine.stores import StoreUnavailable
from kubewarm.engine.stores.choice import open_store


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


def _recipe(store, key: str) -> dict:
    try:
        raw = store.read_meta(key)
        doc = json.loads(raw) if raw else {}
    except (StoreUnavailable, ValueError, OSError):
        doc = {}
    return doc if isinstance(doc, dict) else {}


def list_entries(values: Mapping[str, str] | None = None) -> list[CachedEntry]:
    """Every entry in the configured store (expired and broken ones flagged ``valid=False``)."""
    store = open_store(_values(values))
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
    return result


def recipes_for_user(user: str, values: Mapping[str, str] | None = None) -> list[CachedEntry]:
    """Entries recorded for kubeconfig user ``user`` (``KUBEWARM_USER``), newest first."""
    found = [e for e in list_entries(values) if e.user == user and e.recipe.get("argv")]
    return sorted(found, key=lambda e: e.recipe.get("obtained", 0), reverse=True)


def clear(
    values: Mapping[str, str] | None = None,
    *,
    keys: Iterable[str] | None = None,
    users: Iterable[str] | None = None,
) -> int:
    """Delete all entries, or those matching key prefixes or users; returns how many."""
    store = open_store(_values(values))
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


def housekeeping(values: Mapping[str, str] | None = None, grace: float = 3600.0) -> int:
    """Delete entries that expired more than ``grace`` seconds ago, and broken ones."""
    store = open_store(_values(values))
    cutoff = time.time() - grace
    removed = 0
    for item in list_entries(values):
        if item.expires < cutoff:
            store.delete(item.key)
            removed += 1
    return removed
