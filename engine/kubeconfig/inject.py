"""Use cases: wrap kubeconfig users with the shim (inject) and give them back (restore).

Both read every kubeconfig file kubectl would use and plan all edits first, each verified: the
result must parse, mean exactly what was intended and, for inject, restore byte for byte. Then
``kubeconfig_write`` writes all files or none (backed up, replaced atomically, mode and owner
kept). ``dry_run`` plans and writes nothing (the report holds a unified diff). Running inject
twice changes nothing the second time; inject also repairs what drifted.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import yaml
from kubewarm.engine.kubeconfig import files as kubeconfig_files
from kubewarm.engine.kubeconfig.drift import drift
from kubewarm.engine.kubeconfig.edit import (
    Edit,
    Unwrappable,
    apply_edits,
    read_marker,
    set_command_edit,
    strip_stale_edits,
    unwrap_edits,
    wrap_edits,
)
from kubewarm.engine.kubeconfig.files import KubeconfigPath, display
from kubewarm.engine.kubeconfig.launcher import ShimCommand, shim_command
from kubewarm.engine.kubeconfig.merge import merge_contexts
from kubewarm.engine.kubeconfig.model import (
    USER_ENV,
    KubeconfigError,
    ParsedFile,
    UserNodes,
    exec_env_args,
    resolve_command,
    shim_prefix,
)
from kubewarm.engine.kubeconfig.parse import parse
from kubewarm.engine.kubeconfig.write import InjectError, backup_dir, backups_to_keep, write_all

__all__ = [
    "FilePlan",
    "InjectError",
    "Report",
    "Skipped",
    "UserChange",
    "backup_dir",
    "inject",
    "inject_text",
    "restore",
    "restore_text",
]


@dataclass(frozen=True)
class UserChange:
    """One user changed (or to be changed) in one file."""

    path: str
    user: str
    plugin: str
    action: str  # wrapped, repaired, restored
    detail: str = ""


@dataclass(frozen=True)
class Skipped:
    """A user kubewarm left alone, and why."""

    path: str
    user: str
    reason: str


@dataclass
class FilePlan:
    """What one file looks like before and after, and which of its users were left alone."""

    file: KubeconfigPath
    before: str
    after: str
    changes: list[UserChange] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    unchanged: list[UserChange] = field(default_factory=list)  # nothing to do for them

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        """A unified diff of the change (``\\ No newline at end of file`` as diff writes it)."""
        name = display(self.file.path)
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            fromfile=f"{name} (now)",
            tofile=f"{name} (after)",
        )
        return "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in lines
        )


@dataclass
class Report:
    """The outcome of one inject or restore run."""

    action: str
    plans: list[FilePlan]
    missing: list[KubeconfigPath]
    shim: ShimCommand | None = None
    dry_run: bool = False
    written: bool = False
    backups: dict[str, str] = field(default_factory=dict)
    filtered: bool = False  # only users named with --context / --user
    notes: list[str] = field(default_factory=list)  # one line each, e.g. about the launcher

    @property
    def changes(self) -> list[UserChange]:
        return [c for p in self.plans for c in p.changes]

    @property
    def skipped(self) -> list[Skipped]:
        """Users left alone, and why, file by file."""
        return [s for p in self.plans for s in p.skipped]

    @property
    def unchanged(self) -> list[UserChange]:
        """Users already wrapped (inject) or not wrapped (restore)."""
        return [u for p in self.plans for u in p.unchanged]

    @property
    def changed_files(self) -> list[FilePlan]:
        return [p for p in self.plans if p.changed]

    def diff(self) -> str:
        return "".join(p.diff() for p in self.changed_files)


# --- selection --------------------------------------------------------------------------------


def _files(kubeconfig: Sequence[str] | str | None, environ: Mapping[str, str] | None):
    files = kubeconfig_files.resolve(kubeconfig, environ)
    for f in files:
        if f.explicit and not f.exists:
            if os.path.isdir(f.target):
                raise KubeconfigError(f.path, "is a directory, not a file")
            raise KubeconfigError(f.path, "no such file")
    present = [f for f in files if f.exists]
    if not present:
        names = ", ".join(display(f.path) for f in files)
        raise InjectError(f"no kubeconfig file found (looked for {names})")
    return present, [f for f in files if not f.exists]


def _selected_users(
    parsed: Sequence[ParsedFile], contexts: Iterable[str], users: Iterable[str]
) -> set[str] | None:
    """User names named by ``--context``/``--user`` (None: every user)."""
    contexts, users = list(contexts), list(users)
    if not contexts and not users:
        return None
    where = ", ".join(display(pf.path) for pf in parsed)
    known_users = {u.info.name for pf in parsed for u in pf.users}
    by_name = {c.name: c for c in merge_contexts(parsed)}
    selected: set[str] = set()
    for name in contexts:
        context = by_name.get(name)
        if context is None:
            raise InjectError(f"no context named {name!r} in {where}")
        if context.user_name not in known_users:
            raise InjectError(
                f"context {name!r} uses user {context.user_name!r}, which is not defined in {where}"
            )
        selected.add(context.user_name)
    for name in users:
        if name not in known_users:
            raise InjectError(f"no user named {name!r} in {where}")
        selected.add(name)
    return selected


# --- planning ---------------------------------------------------------------------------------


def _parse_like(pf: ParsedFile, text: str) -> ParsedFile:
    result = parse(pf.path, text)
    result.base_dir = pf.base_dir
    return result


def _load(text: str) -> object:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for doc in yaml.load_all(text, Loader=loader):
        return doc
    return None


def _exec_of(doc: dict, name: str) -> dict | None:
    for entry in doc.get("users") or []:
        if entry.get("name") == name:
            return (entry.get("user") or {}).get("exec")
    return None


def _normal(exec_block: dict) -> dict:
    return {k: v for k, v in exec_block.items() if not (k in ("args", "env") and not v)}


def _expect_wrapped(pf: ParsedFile, doc: dict, names: Iterable[str], shim: ShimCommand) -> None:
    for name in names:
        block = _exec_of(doc, name)
        assert block is not None  # parse found this exec user in the same text
        command = resolve_command(block["command"], pf.base_dir)
        block["command"] = shim.command
        env_names = {e.get("name") for e in block.get("env") or [] if isinstance(e, dict)}
        declared = exec_env_args(tuple(sorted(str(n) for n in env_names if n and n != USER_ENV)))
        block["args"] = [*shim.prefix, *declared, command, *(block.get("args") or [])]
        block["env"] = [{"name": USER_ENV, "value": name}, *(block.get("env") or [])]


def _semantics_match(before: dict, after_text: str, names: Iterable[str]) -> bool:
    after = _load(after_text)
    names = set(names)
    if not isinstance(after, dict):
        return False
    for doc in (before, after):
        for entry in doc.get("users") or []:
            block = (entry.get("user") or {}).get("exec")
            if entry.get("name") in names and isinstance(block, dict):
                entry["user"]["exec"] = _normal(block)
    return before == after


def _check_wrap(pf: ParsedFile, after: str, names: list[str], shim: ShimCommand) -> bool:
    """The wrapped text means what we intended and restores to ``pf.text`` byte for byte."""
    try:
        wrapped = _parse_like(pf, after)
    except KubeconfigError:
        return False
    expected = _load(pf.text)
    assert isinstance(expected, dict)  # pf parsed, with users: its document is a mapping
    _expect_wrapped(pf, expected, names, shim)
    if not _semantics_match(expected, after, names):
        return False
    try:
        edits = [e for u in wrapped.users if u.info.name in names for e in unwrap_edits(wrapped, u)]
        return apply_edits(after, edits) == pf.text
    except (Unwrappable, ValueError):
        return False


def _wrap_users(
    pf: ParsedFile, targets: list[UserNodes], shim: ShimCommand
) -> tuple[str, list[UserNodes], list[Skipped]]:
    """Wrap ``targets`` in ``pf``: (new text, users wrapped, users that cannot be wrapped
    safely)."""
    skipped: list[Skipped] = []
    planned: list[tuple[UserNodes, list[Edit]]] = []
    for user in targets:
        try:
            prefix = (*shim.prefix, *exec_env_args(user.info.own_env_names))
            planned.append((user, wrap_edits(pf, user, shim.command, prefix)))
        except Unwrappable as exc:
            skipped.append(Skipped(pf.path, user.info.name, str(exc)))
    after = apply_edits(pf.text, [e for _, edits in planned for e in edits])
    names = [u.info.name for u, _ in planned]
    if not planned or _check_wrap(pf, after, names, shim):
        return after, [u for u, _ in planned], skipped
    good = []  # find the users whose edits do not verify on their own
    for user, edits in planned:
        if _check_wrap(pf, apply_edits(pf.text, edits), [user.info.name], shim):
            good.append((user, edits))
        else:
            skipped.append(
                Skipped(
                    pf.path,
                    user.info.name,
                    f"its exec block (line {user.info.line}) is laid out in a way kubewarm cannot"
                    " edit without risking other bytes; wrap it by hand (see README)",
                )
            )
    after = apply_edits(pf.text, [e for _, edits in good for e in edits])
    names = [u.info.name for u, _ in good]
    if good and not _check_wrap(pf, after, names, shim):
        for user, _ in good:
            skipped.append(Skipped(pf.path, user.info.name, "its edits conflict with another's"))
        return pf.text, [], skipped
    return after, [u for u, _ in good], skipped


def _plan_inject(
    pf: ParsedFile, file: KubeconfigPath, wanted: set[str] | None, shim: ShimCommand
) -> FilePlan:
    """Plan wrapping ``wanted`` users (None: all) in one file and repairing those that drifted."""
    plan = FilePlan(file, pf.text, pf.text)
    skipped, unchanged = plan.skipped, plan.unchanged
    chosen = [u for u in pf.users if wanted is None or u.info.name in wanted]
    for user in chosen:
        if user.info.kind != "exec" and wanted is not None:
            skipped.append(
                Skipped(pf.path, user.info.name, f"it has no exec plugin ({user.info.kind})")
            )
    # 1. repair wrapped users that drifted: a new shim path is one edit, the rest re-wraps
    edits: list[Edit] = []
    rewrap: dict[str, str] = {}
    for user in chosen:
        info = user.info
        if not info.wrapped:
            if info.kind == "exec" and info.kubewarm_user is not None:
                try:
                    edits.extend(strip_stale_edits(pf, user))
                    rewrap[info.name] = "; ".join(drift(info, shim.command))
                except Unwrappable as exc:
                    skipped.append(Skipped(pf.path, info.name, f"cannot repair it: {exc}"))
            continue
        problems = drift(info, shim.command)
        if not problems:
            unchanged.append(UserChange(pf.path, info.name, info.plugin, "already wrapped"))
            continue
        try:
            if (
                info.kubewarm_user == info.name
                and shim_prefix(info.shim_command) == shim.prefix
                and info.declared_env == info.own_env_names
                and user.exec is not None
            ):
                edits.append(set_command_edit(pf, user, shim.command))
                plan.changes.append(
                    UserChange(pf.path, info.name, info.plugin, "repaired", "; ".join(problems))
                )
            else:
                edits.extend(unwrap_edits(pf, user))
                rewrap[info.name] = "; ".join(problems)
        except Unwrappable as exc:
            skipped.append(Skipped(pf.path, info.name, f"cannot repair it: {exc}"))
    current = pf
    if edits:
        current = _parse_like(pf, apply_edits(pf.text, edits))
    # 2. wrap every chosen exec user that is not wrapped (including those just unwrapped)
    targets = [
        u
        for u in current.users
        if (wanted is None or u.info.name in wanted)
        and u.info.kind == "exec"
        and not u.info.wrapped
    ]
    after, done, not_wrapped = _wrap_users(current, targets, shim)
    skipped.extend(not_wrapped)
    for user in done:
        info = user.info
        if info.name in rewrap:
            change = UserChange(pf.path, info.name, info.plugin, "repaired", rewrap[info.name])
        else:
            change = UserChange(pf.path, info.name, info.plugin, "wrapped")
        plan.changes.append(change)
    if rewrap and any(n not in {u.info.name for u in done} for n in rewrap):
        # a repair could not be completed (its user is in skipped): change nothing in this file
        return FilePlan(file, pf.text, pf.text, [], skipped, unchanged)
    plan.after = after
    return plan


def _plan_restore(pf: ParsedFile, file: KubeconfigPath, wanted: set[str] | None) -> FilePlan:
    """Plan unwrapping ``wanted`` users (None: all) in one file."""
    plan = FilePlan(file, pf.text, pf.text)
    skipped, unchanged = plan.skipped, plan.unchanged
    current = pf
    seen: set[str] = set()
    for _ in range(3):  # a user wrapped twice over is unwrapped twice
        chosen = [
            u
            for u in current.users
            if (wanted is None or u.info.name in wanted)
            and u.info.wrapped
            and not any(s.user == u.info.name for s in skipped)
        ]
        if not chosen:
            break
        edits, names = [], []
        for user in chosen:
            try:
                user_edits = unwrap_edits(current, user)
            except Unwrappable as exc:
                skipped.append(Skipped(pf.path, user.info.name, str(exc)))
                continue
            edits.extend(user_edits)
            names.append(user.info.name)
            if user.info.name not in seen:
                seen.add(user.info.name)
                plan.changes.append(
                    UserChange(pf.path, user.info.name, user.info.plugin, "restored")
                )
        after = _check_restore(current, apply_edits(current.text, edits), chosen, names)
        if after is None:
            for name in names:
                skipped.append(
                    Skipped(pf.path, name, "restoring it would change more than its exec block")
                )
            plan.changes = [c for c in plan.changes if c.user not in names]
            break
        current = after
    left = {s.user for s in skipped}
    for user in pf.users:
        name = user.info.name
        if (wanted is None or name in wanted) and name not in seen and name not in left:
            if user.info.kind == "exec":
                unchanged.append(UserChange(pf.path, user.info.name, user.info.plugin, "unwrapped"))
            elif wanted is not None:
                skipped.append(
                    Skipped(pf.path, user.info.name, f"it has no exec plugin ({user.info.kind})")
                )
    plan.after = current.text
    return plan


def _check_restore(
    pf: ParsedFile, after: str, chosen: list[UserNodes], names: list[str]
) -> ParsedFile | None:
    """``after`` parsed, if it is ``pf`` with exactly the named users unwrapped; else None."""
    users = [u for u in chosen if u.info.name in names]
    try:
        parsed = _parse_like(pf, after)
    except KubeconfigError:
        return None
    expected = _load(pf.text)
    assert isinstance(expected, dict)  # pf parsed, with users: its document is a mapping
    for user in users:
        block = _exec_of(expected, user.info.name)
        assert block is not None  # parse found this exec user in the same text
        marker, _, _ = read_marker(pf.text, user.pairs["command"][1], user.info.name)
        rest = list(user.info.plugin_argv)
        block["command"] = yaml.safe_load(marker["command"]) if "command" in marker else rest[0]
        block["args"] = rest[1:]
        block["env"] = [
            item
            for item in (block.get("env") or [])
            if not (isinstance(item, dict) and item.get("name") == USER_ENV)
        ]
    return parsed if _semantics_match(expected, after, names) else None


# --- the use cases ----------------------------------------------------------------------------


def inject(
    kubeconfig: Sequence[str] | str | None = None,
    contexts: Iterable[str] = (),
    users: Iterable[str] = (),
    command: str | None = None,
    dry_run: bool = False,
    environ: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    force: bool = False,
) -> Report:
    """Wrap exec users (all, or those named) so kubectl runs the shim; repair drift.
    ``force``: make the launcher run this installation even where it runs another one that
    still exists, or was written by a newer kubewarm (``launcher.decide``)."""
    present, missing = _files(kubeconfig, environ)
    parsed = [parse(f, exact=True) for f in present]
    wanted = _selected_users(parsed, contexts, users)
    try:
        shim = shim_command(command, write=not dry_run, force=force)
    except (OSError, ValueError) as exc:
        raise InjectError(str(exc)) from None
    plans = [_plan_inject(pf, f, wanted, shim) for pf, f in zip(parsed, present, strict=True)]
    report = Report("inject", plans, missing, shim, dry_run)
    if shim.note:
        report.notes.append(shim.note)
    return _write(report, wanted is not None, values)


def restore(
    kubeconfig: Sequence[str] | str | None = None,
    contexts: Iterable[str] = (),
    users: Iterable[str] = (),
    dry_run: bool = False,
    environ: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> Report:
    """Give every wrapped user (all, or those named) back exactly what it had before."""
    present, missing = _files(kubeconfig, environ)
    parsed = [parse(f, exact=True) for f in present]
    wanted = _selected_users(parsed, contexts, users)
    plans = [_plan_restore(pf, f, wanted) for pf, f in zip(parsed, present, strict=True)]
    report = Report("restore", plans, missing, None, dry_run)
    return _write(report, wanted is not None, values)


def _write(report: Report, filtered: bool, values: Mapping[str, str] | None) -> Report:
    """Write the report's changed files (all or none, each backed up first) unless dry-run."""
    report.filtered = filtered
    if not report.dry_run:
        report.backups = write_all(
            [(p.file, p.before, p.after) for p in report.changed_files], backups_to_keep(values)
        )
        report.written = bool(report.changed_files)
    return report


def inject_text(
    text: str, shim: ShimCommand, path: str = "kubeconfig", users: Iterable[str] | None = None
) -> tuple[str, list[UserChange], list[Skipped]]:
    """Inject on text alone (no files, no backups): (new text, changes, skipped users)."""
    file = KubeconfigPath(path, os.path.abspath(path), "--kubeconfig")
    plan = _plan_inject(parse(file, text), file, set(users) if users is not None else None, shim)
    return plan.after, plan.changes, plan.skipped


def restore_text(
    text: str, path: str = "kubeconfig", users: Iterable[str] | None = None
) -> tuple[str, list[UserChange], list[Skipped]]:
    """Restore on text alone (no files, no backups): (new text, changes, skipped users)."""
    file = KubeconfigPath(path, os.path.abspath(path), "--kubeconfig")
    plan = _plan_restore(parse(file, text), file, set(users) if users is not None else None)
    return plan.after, plan.changes, plan.skipped
