"""``kubewarm``: the engine's command line plus ``tray`` (the default with no command).

Lean on purpose: ``kubewarm --help`` and every engine subcommand start here, so nothing
beyond ``sys`` is imported before the command is known.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] == "tray":
        from kubewarm.tray.app import run

        sys.exit(run(args[1:]))
    if args[0] in ("-h", "--help"):
        _help()
        return
    from kubewarm.engine.cli import main as engine_main

    engine_main(args)


def _help() -> None:
    """The engine's help, with ``tray`` listed among the commands."""
    import argparse

    from kubewarm.engine.cli import build_parser

    parser = build_parser()
    for action in parser._actions:  # argparse keeps the subcommands in one such action
        if isinstance(action, argparse._SubParsersAction):
            action.add_parser(
                "tray",
                help="the tray app (the default with no command); --no-icon: the same warmer"
                " without an icon",
            )
            break
    parser.print_help()
