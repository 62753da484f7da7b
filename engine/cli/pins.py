"""``kubewarm pin``, ``kubewarm unpin`` and ``kubewarm pins``: thin adaptors over ``pins``.

A running tray (or ``kubewarm tray --no-icon``) notices the change within seconds.
"""

from __future__ import annotations

import sys

from kubewarm.engine.cache import admin as cache_admin
from kubewarm.engine.cli.output import add_output_option, print_json, state_json
from kubewarm.engine.cli.text import fail
from kubewarm.engine.contexts import approvals, pins, recent
from kubewarm.engine.contexts.state import static_states
from kubewarm.engine.core import settings
from kubewarm.engine.kubeconfig import files as kubeconfig_files
from kubewarm.engine.kubeconfig import merge as kubeconfig_merge
from kubewarm.engine.kubeconfig.model import KubeconfigError
from kubewarm.engine.stores import StoreUnavailable
from kubewarm.engine.warmer import live


def register(subparsers) -> None:
    pin = subparsers.add_parser(
        "pin",
        help="keep these contexts warm (the tray refreshes them before they expire)",
        description=(
            "Pins kubeconfig contexts: the tray app (or `kubewarm tray --no-icon`) refreshes"
            " their credentials in the background before they expire, so kubectl never waits"
            " for the plugin. Pins are kept in kubewarm's settings file."
        ),
    )
    pin.add_argument("contexts", nargs="+", metavar="CONTEXT")
    pin.add_argument(
        "--force", action="store_true", help="pin even a context no kubeconfig file defines (yet)"
    )
    pin.set_defaults(func=run_pin)

    unpin = subparsers.add_parser("unpin", help="stop keeping these contexts warm")
    unpin.add_argument("contexts", nargs="*", metavar="CONTEXT")
    unpin.add_argument("--all", action="store_true", help="unpin every context")
    unpin.set_defaults(func=run_unpin)

    listing = subparsers.add_parser(
        "pins",
        help="list the pinned contexts (and those kept warm because kubectl used them recently)",
    )
    add_output_option(listing)
    listing.set_defaults(func=run_pins)


def _known_contexts():
    """(contexts by name, where they were looked for) in the files kubectl would read."""
    files = kubeconfig_files.resolve()
    where = ", ".join(kubeconfig_files.display(f.path) for f in files)
    contexts = kubeconfig_merge.merge_contexts(kubeconfig_merge.load(files))
    return {c.name: c for c in contexts}, where


def run_pin(ns) -> int:
    try:
        known, where = _known_contexts()
    except KubeconfigError as exc:
        if not ns.force:
            return fail(f"{exc} (use --force to pin anyway)")
        known, where = {}, ""
    wanted, status = [], 0
    for name in ns.contexts:
        context = known.get(name)
        if context is None and not ns.force:
            status = fail(f"no context named {name!r} in {where} (use --force to pin it anyway)")
            continue
        wanted.append(name)
        user = context.user if context is not None else None
        if user is not None and user.kind != "exec":
            print(
                f"kubewarm: note: context {name!r} has no exec plugin (its user {user.name!r}"
                f" uses {user.kind}); there is nothing to keep warm",
                file=sys.stderr,
            )
        elif user is not None and not user.wrapped:
            print(
                f"kubewarm: note: context {name!r} is not wrapped yet, so kubectl does not read"
                " kubewarm's cache for it; run `kubewarm inject`",
                file=sys.stderr,
            )
    added = pins.pin(wanted)
    # pinning is agreeing to have that plugin run in the background: what it runs now
    approvals.approve(known[n] for n in wanted if n in known)
    for name in wanted:
        print(f"pinned {name}" if name in added else f"{name} was already pinned")
    return status


def run_unpin(ns) -> int:
    if not ns.contexts and not ns.all:
        return fail("name the contexts to unpin, or use --all")
    names = pins.load() if ns.all else ns.contexts
    removed = pins.unpin(names)
    status = 0
    for name in names:
        if name in removed:
            print(f"unpinned {name}")
        else:
            status = fail(f"{name!r} was not pinned")
    return status


def run_pins(ns) -> int:
    values = settings.load()
    pinned = pins.load(values)
    warm_recent = recent.window_days(values) > 0
    if not pinned and not warm_recent:
        if ns.output == "json":
            print_json({"pins": []})
        else:
            print("Nothing is pinned. Pin a context with: kubewarm pin CONTEXT")
        return 0
    try:
        known, where = _known_contexts()
    except KubeconfigError as exc:
        print(f"kubewarm: {exc}", file=sys.stderr)
        known, where = {}, ""
    try:
        entries = cache_admin.list_entries(values)
    except StoreUnavailable as exc:
        print(f"kubewarm: credential store unavailable: {exc}", file=sys.stderr)
        entries = []
    states, targets = static_states(list(known.values()), pinned, entries, values)
    states = live.overlay(states)  # a running warmer's refreshing / failed / needs login
    used = recent.read(values, targets, pinned)
    if ns.output == "json":
        shown = [*pinned, *used]
        print_json({"pins": [state_json(states[name]) for name in shown if name in states]})
        return 0
    if not pinned and not used:
        print(
            "Nothing is pinned, and no context was used recently through kubewarm."
            " Pin a context with: kubewarm pin CONTEXT"
        )
        return 0
    width = max(len(n) for n in [*pinned, *used])
    for name in [*pinned, *used]:
        state = states[name]
        plugin = f"  ({state.plugin})" if state.plugin else ""
        why = f"  [{recent.LABEL}]" if name in used else ""
        print(f"{name.ljust(width)}  {state.label()}{plugin}{why}")
    if where:
        print(f"(kubeconfig read from {where})")
    return 0
