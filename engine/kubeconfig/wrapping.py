"""Wrap and Restore kubeconfig as single calls with a short, human result (the tray's menu).

Same engine functions as ``kubewarm inject`` / ``kubewarm restore``: every file kubectl would
read, all or nothing, each file backed up first. The result says how many users changed, in
which files, and where the backups are.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubewarm.engine.core.text import plural
from kubewarm.engine.kubeconfig.files import display
from kubewarm.engine.kubeconfig.inject import InjectError, inject
from kubewarm.engine.kubeconfig.inject import restore as restore_files
from kubewarm.engine.kubeconfig.model import KubeconfigError


@dataclass(frozen=True)
class Result:
    """What happened, as a notification title and body, plus a one-line menu summary."""

    ok: bool
    title: str
    message: str
    line: str


def _describe(report, verb: str, past: str, unchanged_state: str) -> Result:
    changes = report.changes
    files = report.changed_files
    skipped = [s for s in report.skipped if not s.reason.startswith("it has no exec plugin")]
    lines = []
    if changes:
        where = ", ".join(display(p.file.path) for p in files)
        users = ", ".join(sorted({c.user for c in changes}))
        head = f"{past.capitalize()} {plural(len(changes), 'user')} ({users}) in {where}."
        lines.append(head)
        for target, backup in report.backups.items():
            lines.append(f"Backup of {display(target)}: {display(backup)}")
        line = f"{past.capitalize()} {plural(len(changes), 'user')} in {plural(len(files), 'file')}"
    else:
        what = plural(len(report.unchanged), "user")
        head = f"Nothing to {verb}: {what} {unchanged_state}."
        lines.append(head)
        line = f"Nothing to {verb} ({what} {unchanged_state})"
    for s in skipped:
        lines.append(f"Skipped {s.user} in {display(s.path)}: {s.reason}")
    title = f"kubewarm: {verb} kubeconfig" + (" (some users skipped)" if skipped else "")
    return Result(not skipped, title, "\n".join(lines), line)


def wrap() -> Result:
    """Wrap every exec-plugin user in the kubeconfig files kubectl would read (inject)."""
    try:
        report = inject()
    except (InjectError, KubeconfigError) as exc:
        return Result(
            False, "kubewarm: cannot wrap kubeconfig", str(exc), "Wrap failed: " + str(exc)
        )
    return _describe(report, "wrap", "wrapped", "already wrapped")


def restore() -> Result:
    """Give every wrapped user back exactly what it had (restore)."""
    try:
        report = restore_files()
    except (InjectError, KubeconfigError) as exc:
        return Result(
            False, "kubewarm: cannot restore kubeconfig", str(exc), "Restore failed: " + str(exc)
        )
    return _describe(report, "restore", "restored", "not wrapped")
