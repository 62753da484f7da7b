"""Undo everything kubewarm did to this user's account, in the order that never breaks kubectl.

1. restore every wrapped kubeconfig user byte for byte (all files or none, as ``restore``);
2. remove the login item;
3. delete the cached credentials from every store kubewarm used (files and the OS keyring);
4. remove the launcher and kubewarm's own folders (cache, settings, data).

If the kubeconfig cannot be restored, nothing else is done: the launcher must stay while a
kubeconfig still names it. Users that restore skipped (and so remain wrapped) keep the launcher
too; kubeconfig backups are kept, since they are copies of the user's own files. The package
itself (.deb, pipx, venv) is the package manager's to remove: :attr:`Report.next_step` says how.
Returns data only; ``kubewarm uninstall`` and the tray's menu item present it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field

from kubewarm.engine.cache import admin
from kubewarm.engine.core import paths
from kubewarm.engine.errors import KubewarmError
from kubewarm.engine.kubeconfig.files import display
from kubewarm.engine.kubeconfig.inject import InjectError, restore
from kubewarm.engine.kubeconfig.launcher import default_path
from kubewarm.engine.kubeconfig.model import KubeconfigError
from kubewarm.engine.kubeconfig.write import backup_dir
from kubewarm.engine.stores import choice
from kubewarm.engine.stores.base import StoreUnavailable
from kubewarm.engine.stores.file_store import FileStore
from kubewarm.engine.system import autostart, install
from kubewarm.engine.system.single_instance import AlreadyRunning, InstanceLock


@dataclass(frozen=True)
class Step:
    """One thing uninstall did (or, in a dry run, would do)."""

    what: str
    done: bool
    problem: str = ""


@dataclass
class Report:
    dry_run: bool
    steps: list[Step] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # what was deliberately left, and why
    next_step: str = ""

    @property
    def ok(self) -> bool:
        return not any(s.problem for s in self.steps)


class StillRunning(KubewarmError):
    """A tray or warmer is running: it would re-create what uninstall removes."""


def _next_step(kind: str) -> str:

    return {
        install.BRIEFCASE_LINUX: "remove the package: sudo apt-get remove kubewarm",
        install.BRIEFCASE_MACOS: "move kubewarm.app from Applications to the Trash",
        install.BRIEFCASE_WINDOWS: "remove kubewarm in Settings > Apps",
        install.PIPX: "remove the package: pipx uninstall kubewarm",
        install.VENV: "delete the virtual environment kubewarm is installed in",
    }.get(kind, "remove the package: pip uninstall kubewarm")


def _restore(report: Report, kubeconfig: Sequence[str] | None) -> bool:
    """Step 1; False when nothing else may be done."""
    try:
        result = restore(list(kubeconfig) if kubeconfig else None, dry_run=report.dry_run)
    except (InjectError, KubeconfigError) as exc:
        report.steps.append(Step("restore kubeconfig", False, str(exc)))
        return False
    for plan in result.changed_files:
        users = ", ".join(c.user for c in plan.changes)
        report.steps.append(
            Step(f"restore {display(plan.file.path)} (users {users})", not report.dry_run)
        )
    if not result.changed_files:
        report.steps.append(Step("kubeconfig: no wrapped user to restore", True))
    skipped = [s for s in result.skipped if not s.reason.startswith("it has no exec plugin")]
    for s in skipped:
        report.kept.append(f"user {s.user} in {display(s.path)} stays wrapped: {s.reason}")
    return not skipped


def _login_item(report: Report) -> None:
    item = autostart.login_item()
    if isinstance(item, autostart.RunKey):  # a registry value, not a file
        present = item.command_line() is not None
    else:
        present = os.path.exists(item.location)
    if not present:
        return
    problem = ""
    if not report.dry_run:
        try:
            item.disable()
        except autostart.AutostartError as exc:
            problem = str(exc)
    report.steps.append(
        Step(f"remove the login item ({item.location})", not report.dry_run, problem)
    )


def _stores() -> list:
    """Every store kubewarm may have written: files always, the OS keyring when one was used."""
    stores: list = [FileStore()]
    record = choice.read_record()
    if record.backend:
        from kubewarm.engine.stores.keyring_store import KeyringStore  # lazy: keyring (~100 ms)

        stores.append(KeyringStore(kind=record.backend))
    return stores


def _clear(report: Report) -> None:

    for store in _stores():
        try:
            count = len(store.list_keys())
            if count and not report.dry_run:
                count = admin.clear({}, store=store)
        except (StoreUnavailable, OSError) as exc:
            report.steps.append(Step(f"clear cached credentials ({store.name})", False, str(exc)))
            continue
        if count:
            what = f"delete {count} cached credential{'s' * (count != 1)} ({store.name} store)"
            report.steps.append(Step(what, not report.dry_run))


def _remove_files(report: Report, keep_launcher: bool) -> None:

    launcher = default_path()
    backups = os.path.dirname(backup_dir(os.path.join(os.sep, "x")))
    if keep_launcher and os.path.exists(launcher):
        report.kept.append(f"the launcher {launcher} (a kubeconfig still names it)")
    elif os.path.exists(launcher):
        _remove(report, launcher)
    data = paths.data_dir()
    for folder in (paths.cache_dir(), paths.config_dir(), data):
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if path == backups:
                report.kept.append(f"kubeconfig backups in {path} (copies of your files)")
            elif path == os.path.dirname(launcher) and keep_launcher:
                continue
            else:
                _remove(report, path)
        if not report.dry_run:
            try:
                os.rmdir(folder)  # only when empty
            except OSError:
                pass


def _remove(report: Report, path: str) -> None:
    problem = ""
    if not report.dry_run:
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except OSError as exc:
            problem = f"{exc.strerror or exc}"
    report.steps.append(Step(f"remove {path}", not report.dry_run, problem))


def uninstall(
    kubeconfig: Sequence[str] | None = None, dry_run: bool = False, from_tray: bool = False
) -> Report:
    """Restore kubeconfig, remove the login item, clear every store, remove kubewarm's files.

    Refuses (:class:`StillRunning`) while a tray or warmer runs, unless called by that tray
    (``from_tray``), which quits right after."""
    if not from_tray and not dry_run:
        try:
            with InstanceLock():
                pass
        except AlreadyRunning as exc:
            raise StillRunning(f"{exc}: quit it first (its menu, or kill {exc.pid})") from None
    report = Report(dry_run, next_step=_next_step(install.current().kind))
    restored = _restore(report, kubeconfig)
    if any(s.problem for s in report.steps):
        return report  # kubeconfig untouched: leave everything else as it is
    _login_item(report)
    _clear(report)
    _remove_files(report, keep_launcher=not restored)
    return report
