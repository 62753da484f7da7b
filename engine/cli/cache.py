"""``kubewarm clear``, ``kubewarm entries`` (alias ``cache``) and ``kubewarm store``: thin
adaptors over ``cache_admin`` and ``stores.choice``. Nothing here ever prints a credential."""

from __future__ import annotations

import os
import sys

from kubewarm.engine.cache import admin as cache_admin
from kubewarm.engine.cli.output import add_output_option, entry_json, print_json
from kubewarm.engine.cli.text import fail, format_entries, plural, where
from kubewarm.engine.contexts.status import users_for_context
from kubewarm.engine.core import paths, settings
from kubewarm.engine.stores import StoreUnavailable, choice
from kubewarm.engine.stores.base import Store


def register(subparsers) -> None:
    clear = subparsers.add_parser(
        "clear",
        help="delete cached credentials (all, or one context, user or key)",
        description=(
            "Deletes cached credentials and their metadata from the store in use (the OS"
            " keyring or kubewarm's files); the next kubectl call runs the plugin again."
        ),
    )
    which = clear.add_mutually_exclusive_group(required=True)
    which.add_argument("--context", metavar="NAME", help="the user of this kubeconfig context")
    which.add_argument("--user", metavar="NAME", help="this kubeconfig user")
    which.add_argument("--key", metavar="PREFIX", help="entries whose key starts with PREFIX")
    which.add_argument(
        "--all",
        action="store_true",
        help="every entry (also any left in the file store from before a switch to the keyring)",
    )
    clear.set_defaults(func=run_clear)

    for name in ("entries", "cache"):
        entries = subparsers.add_parser(
            name,
            help="list cached credentials: user, plugin, cluster, expiry, store (never the secret)"
            if name == "entries"
            else "same as entries",
        )
        entries.add_argument(
            "--expired", action="store_true", help="also list expired and unreadable entries"
        )
        add_output_option(entries)
        entries.set_defaults(func=run_entries)

    store = subparsers.add_parser(
        "store",
        help="which store keeps the credentials, and why; switch stores",
        description=(
            "Shows where kubewarm keeps cached credentials and why. With auto (the default),"
            " kubewarm uses the OS keyring when one is reachable and unlocked, else files"
            " readable only by you; it decides once and records it. Give a store to switch (the"
            " setting is saved in kubewarm's settings file and entries in the old store are"
            " deleted), or --recheck to decide again."
        ),
    )
    store.add_argument("choice", nargs="?", choices=("auto", "keyring", "file"))
    store.add_argument("--recheck", action="store_true", help="probe the OS keyring again")
    store.set_defaults(func=run_store)


def _open_store(values: dict[str, str]) -> Store:
    """The store in use; the first time, also say on stderr which one it is and why."""
    store, news = choice.choose(values)
    if news:
        print(f"kubewarm: {news}", file=sys.stderr)
    return store


def run_clear(ns) -> int:
    values = settings.load()
    users: list[str] = []
    keys: list[str] = []
    if ns.context:
        users = users_for_context(ns.context)
        if not users:
            config = os.environ.get("KUBECONFIG") or "~/.kube/config"
            return fail(f"no context {ns.context!r} with a user in {config}")
    elif ns.user:
        users = [ns.user]
    elif ns.key:
        if not all(c in "0123456789abcdef" for c in ns.key.lower()) or not ns.key:
            return fail(f"--key {ns.key}: keys are hexadecimal (see `kubewarm entries`)")
        keys = [ns.key.lower()]
    try:
        store = _open_store(values)
        removed = cache_admin.clear(values, keys=keys, users=users, store=store)
    except StoreUnavailable as exc:
        return fail(f"cannot clear the cache: {exc}")
    print(f"Removed {plural(removed, 'cached credential')} from {where(store)}.")
    if ns.all:
        _drop_plaintext_leftovers(values)
        stale = cache_admin.remove_stale_temp_files(max_age=60.0)
        if stale:
            print(f"Removed {plural(stale, 'temporary file')} left by an interrupted write.")
    return 0


def _drop_plaintext_leftovers(values: dict[str, str]) -> None:
    """With the keyring in use, empty the file store left from before (no plaintext stays)."""
    leftover = cache_admin.leftover_file_store(values)
    if leftover is not None:
        extra = cache_admin.clear(values, store=leftover)
        print(f"Removed {plural(extra, 'credential')} left in the file store.")


def run_entries(ns) -> int:
    values = settings.load()
    try:
        store = _open_store(values)
        found = cache_admin.list_entries(values, store)
    except StoreUnavailable as exc:
        return fail(f"cannot read the cache: {exc}")
    shown = found if ns.expired else [e for e in found if e.valid]
    hidden = len(found) - len(shown)
    if ns.output == "json":
        print_json(
            {"store": store.name, "entries": [entry_json(e) for e in shown], "hidden": hidden}
        )
        return 0
    if not shown:
        print(f"No cached credentials in {where(store)}.")
    else:
        print("\n".join(format_entries(shown)))
    if hidden:
        print(f"({plural(hidden, 'expired or unreadable entry')} not shown: --expired lists them;")
        print(" they are deleted an hour after they expire.)")
    return 0


def run_store(ns) -> int:
    values = settings.load()
    if ns.choice:
        return _switch(ns.choice, values, recheck=ns.recheck)
    setting = choice.wanted(values)
    if ns.recheck:
        choice.forget()
    if setting != "file":
        choice.open_store(values)  # decides if nothing is recorded yet
        _drop_plaintext_leftovers(values)
    _show(values)
    return 0


def _source(name: str) -> str:
    if name in os.environ:
        return "the environment"
    if name in settings.read_file():
        return paths.settings_file()
    return "the default"


def _show(values: dict[str, str]) -> None:
    record = choice.read_record()
    setting = choice.wanted(values)
    print(f"Credentials are kept in {choice.explain(values, record)}.")
    print(f"Setting: KUBEWARM_STORE={setting} (from {_source('KUBEWARM_STORE')}).")
    if setting != "file" and record.decided:
        print(f"Decided {record.decided}; `kubewarm store --recheck` decides again.")


def _switch(target: str, values: dict[str, str], recheck: bool) -> int:
    """Save KUBEWARM_STORE=target, decide, and empty the store no longer in use."""
    try:
        before = choice.open_store(values)
    except StoreUnavailable:
        before = None
    settings.write_value("KUBEWARM_STORE", target)
    new_values = {**values, "KUBEWARM_STORE": target}
    if "KUBEWARM_STORE" in os.environ and os.environ["KUBEWARM_STORE"] != target:
        print(
            f"kubewarm: note: KUBEWARM_STORE={os.environ['KUBEWARM_STORE']} in your environment"
            " overrides the settings file in this shell.",
            file=sys.stderr,
        )
    if recheck:
        choice.forget()
    after = choice.open_store(new_values)
    old_stores = [before] if before is not None and before.name != after.name else []
    if after.name == "keyring":  # no plaintext left behind, whatever was in use before
        leftover = cache_admin.leftover_file_store(new_values)
        if leftover is not None and not any(s.name == "file" for s in old_stores):
            old_stores.append(leftover)
    for old in old_stores:
        try:
            removed = cache_admin.clear(values, store=old)
        except StoreUnavailable as exc:
            print(f"kubewarm: could not empty {where(old)}: {exc}", file=sys.stderr)
            continue
        if removed:
            print(
                f"Removed {plural(removed, 'credential')} from {where(old)}; they are fetched"
                " again on next use."
            )
    _show(new_values)
    return 0
