"""``kubewarm-exec PLUGIN [ARGS...]``: the exec-credential shim's entry point and hit path.

Import budget (held by tests/test_shim_imports.py): ``os``, ``sys``, ``time`` and ``_sha256``
plus kubewarm's own lean modules. No json, re, argparse, subprocess, yaml, keyring,
platformdirs or datetime here: anything beyond a fresh hit is delegated to ``credentials``,
imported only when needed.

Decisions, by the cached credential's remaining life:
- more than the refresh window left: **hit**, the stored bytes go to stdout unchanged;
- inside the window but more than the safety margin left: **stale**, served, and refreshed by
  a detached background process (stale-while-revalidate);
- within the margin, absent, unreadable or rejected by the API server: the plugin runs now.
"""

from __future__ import annotations

import os
import sys
import time

from kubewarm.engine import cache_key, debug, settings
from kubewarm.engine.entry import BadEntry, decode
from kubewarm.engine.stores import StoreUnavailable

BACKGROUND_ENV = "KUBEWARM_BACKGROUND_REFRESH"


def _write_stdout(data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(1, view)
        view = view[written:]


def _timing(values: dict[str, str], lifetime: float) -> tuple[float, float]:
    """(refresh window, safety margin) in seconds for a credential of ``lifetime`` seconds."""
    window = lifetime * min(settings.number(values, "KUBEWARM_REFRESH_WINDOW"), 1.0)
    margin = min(
        settings.number(values, "KUBEWARM_MARGIN_SECONDS"),
        lifetime * settings.number(values, "KUBEWARM_MARGIN_FRACTION"),
    )
    return window, min(margin, window)


def main(argv: list[str] | None = None) -> None:
    """Run the shim for ``argv`` (default: ``sys.argv[1:]``) and exit."""
    started = time.perf_counter()
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "--version"):
        from kubewarm.engine.credentials import usage

        sys.exit(usage(args))
    env = os.environ
    values = settings.load(env)
    names = cache_key.identity_env_names(values["KUBEWARM_KEY_ENV"])
    key = cache_key.compute(args, env, names)
    if env.get(BACKGROUND_ENV) == key:
        from kubewarm.engine.credentials import background_refresh

        sys.exit(background_refresh(args, key, values))

    entry = None
    reason = "miss"
    store_name = "?"
    try:
        from kubewarm.engine.stores.choice import lean_reader

        store_name, read = lean_reader(values)
        blob = read(key)
        if blob is not None:
            entry = decode(blob)
    except (StoreUnavailable, BadEntry, OSError, ValueError) as exc:
        reason = f"unusable cache ({type(exc).__name__}: {exc})"
        entry = None

    if entry is not None:
        from kubewarm.engine import served

        # Only client-go (which always sets KUBERNETES_EXEC_INFO) re-asks after a 401; a script
        # calling the shim twice is not a rejection.
        identity = served.caller_identity() if "KUBERNETES_EXEC_INFO" in env else ""
        remaining = entry.expires - time.time()
        window, margin = _timing(values, entry.lifetime)
        if identity and served.was_served(key, entry.digest, identity):
            reason = "rejected (same process asked again for the credential it was served)"
        elif remaining > margin:
            _write_stdout(entry.payload)
            if identity:
                served.mark(key, entry.digest, identity)
            stale = remaining <= window
            if stale:
                from kubewarm.engine.credentials import spawn_background_refresh

                spawn_background_refresh(args, key)
            if debug.enabled():
                debug.log(
                    f"key={key[:12]} {'stale, refreshing in background' if stale else 'hit'}"
                    f" store={store_name} expires={_clock(entry.expires)} in {remaining:.0f}s"
                    f" {(time.perf_counter() - started) * 1000:.1f}ms"
                )
            sys.exit(0)
        else:
            reason = f"expiring (only {remaining:.0f}s left)" if remaining > 0 else "expired"

    from kubewarm.engine.credentials import foreground

    sys.exit(
        foreground(
            args,
            key,
            values,
            reason=reason,
            rejected=entry.digest if entry is not None and reason.startswith("rejected") else "",
            started=started,
        )
    )


def _clock(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


if __name__ == "__main__":  # python -m kubewarm.engine.shim PLUGIN ARGS...
    main()
