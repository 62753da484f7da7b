"""``kubewarm tray [--no-icon]``: start the tray app, or the same warmer without an icon.

One instance per user: a second one says which is running and exits (exit status 3).
"""

from __future__ import annotations

import argparse
import sys

ALREADY_RUNNING = 3


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog="kubewarm tray",
        description=(
            "Shows kubewarm's tray icon and keeps pinned contexts warm: their credentials are"
            " refreshed in the background before they expire, so kubectl never waits for the"
            " plugin. Pin contexts from the menu or with `kubewarm pin CONTEXT`."
        ),
    )
    result.add_argument(
        "--no-icon",
        action="store_true",
        help="no tray icon: keep pinned contexts warm headless (servers, WSL, CI); Ctrl-C stops",
    )
    return result


def run(args: list[str]) -> int:
    ns = parser().parse_args(args)
    # lazy: start-up (after argparse: --help stays fast)
    from kubewarm.engine.errors import KubewarmError

    # lazy: start-up (after argparse, as above)
    from kubewarm.engine.system.single_instance import AlreadyRunning, InstanceLock

    try:
        lock = InstanceLock().acquire()
    except AlreadyRunning as exc:
        print(f"kubewarm: {exc}", file=sys.stderr)
        return ALREADY_RUNNING
    except (KubewarmError, OSError) as exc:  # an unsafe or unwritable cache folder
        print(f"kubewarm: cannot take the one-instance lock: {exc}", file=sys.stderr)
        return 1
    try:
        if ns.no_icon:
            # lazy: start-up (headless never loads pystray)
            from kubewarm.tray.headless import run_headless

            return run_headless()
        return _run_icon()
    finally:
        lock.release()


def _run_icon() -> int:
    # lazy: optional dependency (pystray and its GUI backend)
    from kubewarm.tray.tray_icon import display_problem, install_hint, menu_problem

    problem = display_problem()
    if not problem and menu_problem():
        print(
            f"kubewarm: the tray menu cannot work here: {menu_problem()}.\n"
            f"{install_hint(sys.executable)}\n"
            "Or run `kubewarm tray --no-icon` to keep pinned contexts warm without an icon.",
            file=sys.stderr,
        )
        return 1
    if problem:
        print(
            f"kubewarm: cannot show a tray icon: {problem}.\n"
            "Run `kubewarm tray --no-icon` to keep pinned contexts warm without one.",
            file=sys.stderr,
        )
        return 1
    try:
        # lazy: optional dependency (pystray and its GUI backend)
        from kubewarm.tray.tray_icon import TrayIcon

        tray = TrayIcon()
    except Exception as exc:  # pystray raises several kinds when no backend can start
        print(
            f"kubewarm: cannot show a tray icon ({type(exc).__name__}: {exc}).\n"
            "Run `kubewarm tray --no-icon` to keep pinned contexts warm without one.",
            file=sys.stderr,
        )
        return 1
    tray.run()
    return 0
