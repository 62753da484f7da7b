"""The ``kubewarm`` command line (everything but the tray, which ``kubewarm.tray.cli`` adds).

Each group of subcommands lives in its own module with a ``register(subparsers)`` function;
this module only assembles them. ``kubewarm exec PLUGIN ...`` is dispatched before argparse is
imported, so it costs no more than ``kubewarm-exec`` beyond the console-script wrapper.
"""

from __future__ import annotations

import sys

from kubewarm.engine import __version__

COMMAND_MODULES = (
    "kubewarm.engine.cli.kubeconfig",  # inject, restore, status
    "kubewarm.engine.cli.cache",  # clear, entries
    "kubewarm.engine.cli.pins",  # pin, unpin, pins
    "kubewarm.engine.cli.stats",  # stats
    "kubewarm.engine.cli.doctor",  # doctor
    "kubewarm.engine.cli.completion",  # completion (and the hidden __complete)
    "kubewarm.engine.cli.uninstall",  # uninstall
)


def build_parser(extra=()):
    """The argparse parser with every engine subcommand registered, then ``extra`` ones
    (``register(subparsers)`` callables: the tray adds its command this way, since the engine
    never imports ``tray``)."""
    import argparse  # lazy: start-up (`kubewarm exec` runs before argparse loads)
    import importlib  # lazy: start-up (`kubewarm exec` runs without it)

    parser = argparse.ArgumentParser(
        prog="kubewarm",
        description=(
            "Keeps kubectl's exec-plugin credentials warm: a caching shim for aws eks get-token,"
            " gke-gcloud-auth-plugin, kubelogin and friends, and a tray app that refreshes"
            " pinned contexts before they expire. With no command, starts the tray app."
        ),
    )
    parser.add_argument("--version", action="version", version=f"kubewarm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    exec_parser = sub.add_parser(
        "exec", help="run the credential shim (same as kubewarm-exec PLUGIN ARGS...)"
    )
    exec_parser.add_argument("plugin_argv", nargs=argparse.REMAINDER, metavar="PLUGIN [ARGS...]")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    for register in extra:
        register(sub)
    parser.set_defaults(_parser=parser)  # `kubewarm completion` lists every subcommand
    return parser


def main(argv: list[str] | None = None, extra=()) -> None:
    """Entry point of ``kubewarm``; ``extra`` as for :func:`build_parser`."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "exec":
        # lazy: start-up (only `kubewarm exec` needs the shim)
        from kubewarm.engine.shim import main as shim_main

        shim_main(args[1:])
        return
    parser = build_parser(extra)
    ns = parser.parse_args(args)
    if not getattr(ns, "func", None):
        parser.print_help()
        sys.exit(2)
    # lazy: start-up (`kubewarm exec` loads only the hit path)
    from kubewarm.engine.errors import KubewarmError

    try:
        status = ns.func(ns) or 0
    except KubewarmError as exc:  # every error kubewarm raises on purpose: one line, exit 1
        # lazy: start-up (cli.text loads yaml and the use cases)
        from kubewarm.engine.cli.text import fail

        status = fail(str(exc))
    sys.exit(status)
