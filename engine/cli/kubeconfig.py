"""``kubewarm inject``, ``kubewarm restore`` and ``kubewarm status``: thin adaptors over
``kubeconfig.inject`` and ``contexts.status``; their errors reach ``main``'s one-line
report."""

from __future__ import annotations

import sys

from kubewarm.engine.cli.output import add_output_option, print_json, status_json
from kubewarm.engine.cli.text import STATUS_WIDTH, fail, plural, status_table
from kubewarm.engine.contexts.status import statuses
from kubewarm.engine.diagnostics import plugins
from kubewarm.engine.kubeconfig import files as kubeconfig_files
from kubewarm.engine.kubeconfig import merge as kubeconfig_merge
from kubewarm.engine.kubeconfig.files import display
from kubewarm.engine.kubeconfig.model import KubeconfigError

_NO_PLUGIN = "it has no exec plugin"


def register(subparsers) -> None:
    inject = subparsers.add_parser(
        "inject",
        help="make kubectl get exec-plugin credentials through kubewarm",
        description=(
            "Wraps every kubeconfig user that has an exec plugin (or those named with --context"
            " / --user): exec.command becomes kubewarm's launcher and the original command"
            " moves to the front of exec.args; env gets KUBEWARM_USER. Everything else in the"
            " file stays byte for byte. Files are backed up first. Running it again repairs"
            " users that drifted (for instance after `aws eks update-kubeconfig`)."
        ),
    )
    _common(inject)
    inject.add_argument(
        "--command",
        metavar="PATH",
        help="the shim command to write instead of kubewarm's launcher (a kubewarm-exec)",
    )
    inject.add_argument(
        "--force",
        action="store_true",
        help=(
            "make the launcher run this installation even if it runs another one that is still"
            " installed (pipx and a package side by side), or a newer kubewarm"
        ),
    )
    inject.set_defaults(func=run_inject)

    restore = subparsers.add_parser(
        "restore",
        help="undo inject: give wrapped users back exactly what they had",
        description=(
            "Unwraps every user kubewarm wrapped (or those named), so that the file is byte"
            " for byte what it was before `kubewarm inject`. Files are backed up first."
        ),
    )
    _common(restore)
    restore.set_defaults(func=run_restore)

    status = subparsers.add_parser(
        "status",
        help="per context: wrapped or not, plugin, cached or not, expiry, drift",
        description=(
            "One line per context: its user, plugin, whether kubectl goes through kubewarm for"
            " it, and what is cached. Long names are shortened to fit 100 columns."
        ),
        epilog=(
            "exit status: 0 every exec user is wrapped as kubewarm needs; 3 at least one is"
            " not wrapped or has drifted (`kubewarm inject` fixes it); 1 an error (a kubeconfig"
            " that cannot be read, an unknown --context); 2 a usage error."
        ),
    )
    _common(status, dry_run=False)
    status.add_argument("--wide", action="store_true", help="never shorten names")
    add_output_option(status)
    status.set_defaults(func=run_status)


def _common(parser, dry_run: bool = True) -> None:
    parser.add_argument(
        "--kubeconfig",
        action="append",
        metavar="PATH",
        help="kubeconfig file to use (repeatable); default: $KUBECONFIG, else ~/.kube/config",
    )
    parser.add_argument(
        "--context", action="append", default=[], metavar="NAME", help="only this context's user"
    )
    parser.add_argument(
        "--user", action="append", default=[], metavar="NAME", help="only this kubeconfig user"
    )
    if dry_run:
        parser.add_argument(
            "--dry-run", action="store_true", help="print a unified diff and change nothing"
        )


def run_inject(ns) -> int:
    # lazy: start-up (inject adds difflib, tempfile, hashlib: ~10 ms on every command)
    from kubewarm.engine.kubeconfig.inject import inject

    report = inject(ns.kubeconfig, ns.context, ns.user, ns.command, ns.dry_run, force=ns.force)
    status = _print_report(report, "inject")
    _warn_missing_plugins(report)
    return status


def _warn_missing_plugins(report) -> None:
    """On stderr, one line per user inject covers whose plugin is not on PATH: kubectl will
    fail for it (the shim then shows its installHint), better said now."""
    covered = {(c.path, c.user) for p in report.plans for c in (*p.changes, *p.unchanged)}
    try:
        parsed = kubeconfig_merge.load([p.file for p in report.plans])
    except KubeconfigError:
        return
    chosen = [u.info for pf in parsed for u in pf.users if (pf.path, u.info.name) in covered]
    for gone in plugins.missing(chosen):
        print(_missing_line(gone), file=sys.stderr)


def _missing_line(gone: plugins.MissingPlugin) -> str:
    hint = f" ({_one_line(gone.hint)})" if gone.hint else ""
    return (
        f"kubewarm: warning: user {gone.user!r} ({display(gone.path)} line {gone.line}): plugin"
        f" {gone.command!r} is not on PATH; kubectl will fail for it until it is installed{hint}"
    )


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def run_restore(ns) -> int:
    # lazy: start-up (inject adds difflib, tempfile, hashlib: ~10 ms on every command)
    from kubewarm.engine.kubeconfig.inject import restore

    report = restore(ns.kubeconfig, ns.context, ns.user, ns.dry_run)
    return _print_report(report, "restore")


def _print_report(report, verb: str) -> int:
    """Say what changed, in which files, what was left alone and why, where the backups are.
    Exit status 1 when a user that should have changed could not be."""
    changes = report.changes
    files = report.changed_files
    if report.dry_run and files:
        sys.stdout.write(report.diff())
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.action] = counts.get(change.action, 0) + 1
    where = ", ".join(display(p.file.path) for p in report.plans)
    state = "already wrapped" if verb == "inject" else "not wrapped by kubewarm"
    if changes:
        summary = " and ".join(f"{a} {plural(n, 'user')}" for a, n in counts.items())
        lead = "dry run: would have " if report.dry_run else ""
        print(f"kubewarm {verb}: {lead}{summary} in {plural(len(files), 'file')}:")
        for plan in files:
            print(f"  {display(plan.file.path)}")
            for c in plan.changes:
                plugin = f" ({c.plugin})" if c.plugin else ""
                detail = f": {c.detail}" if c.detail else ""
                print(f"    {c.action:9s} {c.user}{plugin}{detail}")
        if report.unchanged:
            print(f"  {plural(len(report.unchanged), 'other user')} {state}, left as they are")
    elif report.unchanged:
        print(f"kubewarm {verb}: nothing to change ({plural(len(report.unchanged), 'user')}"
              f" {state}) in {where}.")  # fmt: skip
    elif report.filtered:
        print(f"kubewarm {verb}: nothing to do for the users named.")
    elif verb == "inject":
        print(f"kubewarm inject: no user with an exec plugin in {where}; nothing to wrap.")
    else:
        print(f"kubewarm restore: no user in {where} is wrapped by kubewarm; nothing to do.")
    for s in report.skipped:
        print(f"  skipped {s.user} in {display(s.path)}: {s.reason}")
    for f in report.missing:
        print(f"  ({display(f.path)} from $KUBECONFIG does not exist; kubectl skips it too)")
    if report.dry_run:
        if changes:
            print("Nothing was written (--dry-run).")
    elif report.written:
        for target, backup in report.backups.items():
            print(f"Backup of {display(target)}: {display(backup)}")
        if verb == "inject" and report.shim is not None:
            shim = " ".join((report.shim.command, *report.shim.prefix))
            print(f"kubectl now runs {shim} for them. Undo with: kubewarm restore")
    elif verb == "inject" and report.unchanged and report.shim is not None:
        print(f"They run {report.shim.command}.")
    for note in report.notes:
        print(f"kubewarm {verb}: {note}")
    failed = [s for s in report.skipped if report.filtered or not s.reason.startswith(_NO_PLUGIN)]
    return 1 if failed else 0


def run_status(ns) -> int:
    files = kubeconfig_files.resolve(ns.kubeconfig)
    items = statuses(files)
    if ns.context or ns.user:
        unknown = [c for c in ns.context if c not in {s.name for s in items}]
        if unknown:
            return fail(f"no context named {unknown[0]!r}")
        items = [s for s in items if s.name in ns.context or s.user in ns.user]
    present = [display(f.path) for f in files if f.exists]
    if not present:
        return fail("no kubeconfig file found (" + ", ".join(display(f.path) for f in files) + ")")
    users = [s.context.user for s in items if s.context is not None and s.context.user]
    missing = plugins.missing(u for u in users if u is not None)
    code = STATUS_NEEDS_INJECT if any(_needs_inject(s) for s in items) else 0
    if ns.output == "json":
        print_json({"contexts": [status_json(s, missing) for s in items], "files": present})
        return code
    if not items:
        print(f"No contexts in {', '.join(present)}.")
        return 0
    for line in status_table(items, missing=missing, width=None if ns.wide else STATUS_WIDTH):
        print(line)
    return code


STATUS_NEEDS_INJECT = 3  # some exec user is not wrapped, or drifted: `kubewarm inject`


def _needs_inject(s) -> bool:
    return s.kind == "exec" and (not s.wrapped or bool(s.drift))
