"""``-o json``: the machine-readable form of ``status``, ``pins``, ``entries``, ``doctor`` and
``stats``. One JSON document on stdout, keys in snake_case, times as Unix seconds and ISO 8601
(UTC), never a credential. Exit statuses are those of the text form."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence

from kubewarm.engine.cache.admin import CachedEntry
from kubewarm.engine.contexts.state import ContextState
from kubewarm.engine.diagnostics.plugins import MissingPlugin

FORMAT_VERSION = 1


def add_output_option(parser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        choices=("text", "json"),
        default="text",
        help="text for people (the default) or json for scripts",
    )


def print_json(document: dict) -> None:
    """Print ``document`` (with ``format_version`` first) as indented JSON."""
    sys.stdout.write(json.dumps({"format_version": FORMAT_VERSION, **document}, indent=2) + "\n")


def iso(epoch: float) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) if epoch else None


def status_json(s: ContextState, missing: Sequence[MissingPlugin] = ()) -> dict:
    """One context of ``kubewarm status -o json``."""
    gone = next((m for m in missing if m.user == s.user), None)
    user = s.context.user if s.context is not None else None
    return {
        "context": s.name,
        "current": bool(s.context is not None and s.context.current),
        "user": s.user or None,
        "kind": s.kind,
        "plugin": s.plugin or None,
        "plugin_found": None if s.kind != "exec" else gone is None,
        "install_hint": gone.hint if gone is not None and gone.hint else None,
        "wrapped": s.wrapped if s.kind == "exec" else None,
        "drift": list(s.drift),
        "cached": s.cached,
        "expires": s.expires or None,
        "expires_at": iso(s.expires) if s.cached else None,
        "explicit_expiry": s.explicit if s.cached else None,
        "note": s.note or None,
        "kubeconfig": user.path if user is not None else None,
        "line": user.line if user is not None else None,
    }


def state_json(s: ContextState, now: float | None = None) -> dict:
    """One pinned context of ``kubewarm pins -o json``."""
    return {
        "context": s.name,
        "user": s.user or None,
        "plugin": s.plugin or None,
        "phase": s.phase,
        "label": s.label(now),
        "reason": s.reason or None,
        "expires": s.expires or None,
        "expires_at": iso(s.expires),
    }


def entry_json(e: CachedEntry) -> dict:
    """One entry of ``kubewarm entries -o json`` (never the credential)."""
    return {
        "key": e.key,
        "user": e.user or None,
        "plugin": e.plugin or None,
        "cluster": e.cluster or None,
        "store": e.store,
        "valid": e.valid,
        "expires": e.expires or None,
        "expires_at": iso(e.expires),
        "explicit_expiry": e.explicit,
    }
