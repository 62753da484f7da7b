"""``kubewarm uninstall``: a thin adaptor over ``engine.system.uninstall``."""

from __future__ import annotations

import sys

from kubewarm.engine.cli.text import fail


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "uninstall",
        help="restore kubeconfig, remove the login item, the cache and kubewarm's files",
        description=(
            "Undoes everything kubewarm did, in an order that never breaks kubectl: restores"
            " every wrapped kubeconfig user byte for byte, removes the login item, deletes the"
            " cached credentials from every store (files and the OS keyring), then the launcher"
            " and kubewarm's own folders. Kubeconfig backups are kept. Then remove the package"
            " itself (the last line says how)."
        ),
    )
    parser.add_argument(
        "--kubeconfig", action="append", metavar="PATH", help="restore these files (repeatable)"
    )
    parser.add_argument("--dry-run", action="store_true", help="say what would be done; do it not")
    parser.set_defaults(func=run_uninstall)


def format_report(report) -> str:
    """The report as lines for a terminal (the tray shows the same text)."""
    lines = []
    for step in report.steps:
        verb = "would " if report.dry_run and not step.problem else ""
        mark = f": FAILED: {step.problem}" if step.problem else ""
        lines.append(f"{verb}{step.what}{mark}")
    lines += [f"kept {k}" for k in report.kept]
    if not report.steps:
        lines.append("nothing to undo")
    if report.ok:
        lines.append(("then " if report.dry_run else "now ") + report.next_step)
    return "\n".join(lines)


def run_uninstall(ns) -> int:
    # lazy: start-up (every command registers its parser; restore loads inject, ~10 ms)
    from kubewarm.engine.system.uninstall import uninstall

    report = uninstall(ns.kubeconfig, dry_run=ns.dry_run)
    text = format_report(report)
    if not report.ok:
        sys.stdout.write(text + "\n")
        return fail("uninstall stopped; fix the problem above and run it again")
    sys.stdout.write(text + "\n")
    return 0
