"""``kubewarm``: the engine's command line plus ``tray`` (the default with no command).

Lean on purpose: ``kubewarm --help`` and every engine subcommand start here, so nothing
beyond ``sys`` is imported before the command is known.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] == "tray":
        from kubewarm.tray.app import run  # lazy: start-up (each command loads only its own side)

        sys.exit(run(args[1:]))
    # lazy: start-up (each command loads only its own side)
    from kubewarm.engine.cli.main import main as engine_main

    engine_main(args, extra=(register,))


def register(subparsers) -> None:
    """``tray`` in ``kubewarm --help`` (it is dispatched above, before argparse)."""
    subparsers.add_parser(
        "tray",
        help="the tray app (the default with no command); --no-icon: the same warmer"
        " without an icon",
    )
