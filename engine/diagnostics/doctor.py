"""``kubewarm doctor``: the whole chain checked, one finding per problem with its fix.

kubeconfig files readable and safe -> exec users wrapped -> each plugin installed -> the
launcher's interpreter present -> the credential store reachable and unlocked -> the tray
running (when something is pinned) -> a tray host to show its icon -> the login item. Each
check returns :class:`Finding` values; only ``engine.cli`` words them.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from kubewarm.engine.cache import admin as cache_admin
from kubewarm.engine.contexts import pins as pins_store
from kubewarm.engine.core import settings
from kubewarm.engine.diagnostics import plugins
from kubewarm.engine.errors import KubewarmError
from kubewarm.engine.kubeconfig import drift as kubeconfig_drift
from kubewarm.engine.kubeconfig import files as kubeconfig_files
from kubewarm.engine.kubeconfig.files import KubeconfigPath, display
from kubewarm.engine.kubeconfig.model import KubeconfigError, UserInfo
from kubewarm.engine.kubeconfig.parse import parse
from kubewarm.engine.stores import StoreUnavailable, choice
from kubewarm.engine.system import autostart, single_instance, tray_host

OK, PROBLEM, UNKNOWN = "ok", "problem", "unknown"


@dataclass(frozen=True)
class Finding:
    """One check's result: ``status`` is ok, problem or unknown; ``fix`` says what to do."""

    check: str
    status: str
    message: str
    fix: str = ""

    @property
    def problem(self) -> bool:
        return self.status == PROBLEM

    def line(self) -> str:
        """'check: message -> fix: what to do' (the CLI and the tray both show it)."""
        return f"{self.check}: {self.message}" + (f" -> fix: {self.fix}" if self.fix else "")


def check_kubeconfig(files: list[KubeconfigPath]) -> tuple[list[Finding], list[UserInfo]]:
    """Each file readable, parseable and writable only by its owner; the users they define
    (kubectl's merge: the first definition of a name wins)."""
    found: list[Finding] = []
    users: dict[str, UserInfo] = {}
    present = [f for f in files if f.exists]
    if not present:
        where = ", ".join(display(f.path) for f in files)
        return [
            Finding(
                "kubeconfig", PROBLEM, f"no kubeconfig file ({where})",
                "create one (e.g. `aws eks update-kubeconfig`, `gcloud container clusters"
                " get-credentials`) or set KUBECONFIG",
            )
        ], []  # fmt: skip
    for file in present:
        shown = display(file.path)
        try:
            parsed = parse(file)
        except KubeconfigError as exc:
            found.append(
                Finding("kubeconfig", PROBLEM, str(exc), f"fix {shown} (kubectl fails too)")
            )
            continue
        except OSError as exc:
            found.append(
                Finding("kubeconfig", PROBLEM, f"cannot read {shown}: {exc.strerror}",
                        f"check the permissions of {shown}")
            )  # fmt: skip
            continue
        unsafe = _unsafe(file.target)
        if unsafe:
            found.append(Finding("kubeconfig", PROBLEM, f"{shown} {unsafe}", f"chmod go-w {shown}"))
        else:
            found.append(Finding("kubeconfig", OK, f"{shown} is readable and yours alone"))
        for u in parsed.users:
            users.setdefault(u.info.name, u.info)
    return found, list(users.values())


def _unsafe(path: str) -> str:
    """Why others could change the file ('' when they cannot; always '' off POSIX)."""
    if os.name != "posix":
        return ""
    st = os.stat(path)
    if st.st_uid != os.getuid():
        return f"is owned by uid {st.st_uid}, not by you"
    if st.st_mode & 0o022:
        return f"is writable by others (mode {st.st_mode & 0o777:o})"
    return ""


def check_wrapping(users: list[UserInfo], files_args: str = "") -> list[Finding]:
    """Every exec user wrapped as kubewarm needs (``files_args``: the ``--kubeconfig``
    arguments the fix must repeat)."""
    found = []
    for user in (u for u in users if u.kind == "exec"):
        where = f"{display(user.path)} line {user.line}"
        drift = kubeconfig_drift.drift(user)
        if drift:
            found.append(
                Finding("wrapping", PROBLEM, f"user {user.name!r} ({where}): " + "; ".join(drift),
                        f"kubewarm inject{files_args} --user {shlex.quote(user.name)}")
            )  # fmt: skip
        else:
            found.append(Finding("wrapping", OK, f"user {user.name!r} is wrapped"))
    if not found:
        found.append(Finding("wrapping", OK, "no user runs an exec plugin: nothing to wrap"))
    return found


def check_plugins(users: list[UserInfo], environ: Mapping[str, str] | None) -> list[Finding]:
    """Each exec user's plugin installed where kubectl will look."""
    gone = plugins.missing(users, environ)
    found = [
        Finding(
            "plugin", PROBLEM,
            f"user {m.user!r} ({display(m.path)} line {m.line}): plugin {m.command!r} is not"
            " installed (not on PATH)",
            " ".join(m.hint.split()) if m.hint else f"install {m.plugin} or put it on PATH",
        )
        for m in gone
    ]  # fmt: skip
    missing_users = {m.user for m in gone}
    for user in users:
        if user.kind == "exec" and user.name not in missing_users:
            found.append(Finding("plugin", OK, f"{user.plugin} found for user {user.name!r}"))
    return found


def launcher_interpreter(path: str) -> str:
    """The Python a launcher script runs ('' when ``path`` is not one kubewarm wrote)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        return ""
    if "kubewarm-exec launcher" not in head:
        return ""
    first, _, rest = head.partition("\n")
    if first.startswith("#!") and not first.startswith("#!/bin/sh"):
        return first[2:].rsplit(" -IS", 1)[0]
    line = rest.partition("\n")[0]  # ''''exec 'python' -IS -- "$0" "$@" # '''
    try:
        words = shlex.split(line.replace("''''", "", 1), comments=True)
    except ValueError:
        return ""
    return words[1] if len(words) > 1 and words[0] == "exec" else ""


def check_launchers(users: list[UserInfo]) -> list[Finding]:
    """The shim each wrapped user runs exists, and a launcher's interpreter too."""
    found = []
    for shim in sorted({u.shim_command for u in users if u.wrapped and u.shim_command}):
        if not os.path.isabs(shim):
            continue  # a bare `kubewarm-exec` on PATH: the plugin check's business
        if not os.path.isfile(shim):
            found.append(Finding("launcher", PROBLEM, f"the shim {shim} does not exist",
                                 "kubewarm inject (writes the launcher again)"))  # fmt: skip
            continue
        python = launcher_interpreter(shim)
        if python and not os.access(python, os.X_OK):
            found.append(
                Finding("launcher", PROBLEM,
                        f"the launcher {shim} runs {python}, which is gone (Python upgraded?)",
                        "kubewarm inject (rewrites the launcher for this Python)")
            )  # fmt: skip
        else:
            found.append(Finding("launcher", OK, f"{shim} can run"))
    return found


def check_store(values: dict[str, str]) -> list[Finding]:
    """The credential store answers (the keyring reachable and unlocked)."""
    try:
        store = choice.open_store(values)
        cache_admin.list_entries(values, store)
    except StoreUnavailable as exc:
        return [
            Finding("store", PROBLEM, f"credential store unavailable: {exc}",
                    "unlock the keyring, or keep credentials in files: kubewarm store file")
        ]  # fmt: skip
    except KubewarmError as exc:
        return [Finding("store", PROBLEM, str(exc), "kubewarm store auto")]
    return [Finding("store", OK, f"credentials are kept in {store.describe()}")]


def tray_pid() -> int | None:
    """The PID of the running tray or warmer (None when none holds the single-instance lock)."""
    path = single_instance.lock_path()
    if not os.path.exists(path):
        return None
    try:
        lock = single_instance.InstanceLock(path).acquire()
    except single_instance.AlreadyRunning as exc:
        return exc.pid or -1
    except (OSError, KubewarmError):
        return None
    lock.release()
    return None


def check_tray(pinned: list[str], environ: Mapping[str, str] | None = None) -> list[Finding]:
    """The tray (or ``kubewarm tray --no-icon``) runs when something is pinned; a tray host
    shows its icon; it starts at login."""
    found = []
    pid = tray_pid()
    if pid is not None:
        found.append(
            Finding("tray", OK, "the tray is running" + (f" (pid {pid})" if pid > 0 else ""))
        )
    elif pinned:
        found.append(
            Finding("tray", PROBLEM,
                    f"{len(pinned)} pinned context(s), but the tray is not running: nothing"
                    " refreshes them", "start it: kubewarm tray (or kubewarm tray --no-icon)")
        )  # fmt: skip
    else:
        found.append(Finding("tray", OK, "the tray is not running (nothing is pinned)"))
    found.append(check_tray_host(environ))
    try:
        enabled = autostart.is_enabled()
    except (OSError, KubewarmError) as exc:
        return [*found, Finding("login item", UNKNOWN, f"cannot tell: {exc}")]
    if enabled:
        found.append(Finding("login item", OK, "kubewarm starts at login"))
    elif pinned:
        found.append(
            Finding("login item", PROBLEM, "kubewarm does not start at login: pins go cold after"
                    " a restart", "tick 'Start at login' in the tray menu")
        )  # fmt: skip
    else:
        found.append(Finding("login item", OK, "kubewarm does not start at login (nothing pinned)"))
    return found


def check_tray_host(environ: Mapping[str, str] | None = None) -> Finding:
    """A tray host (StatusNotifierWatcher or XEmbed tray) must be there, or the icon is
    invisible (stock GNOME without the AppIndicator extension)."""
    host = tray_host.detect(environ)
    status = {tray_host.FOUND: OK, tray_host.MISSING: PROBLEM}.get(host.status, UNKNOWN)
    return Finding("tray host", status, host.detail, host.advice)


def diagnose(
    kubeconfig: list[str] | None = None, environ: Mapping[str, str] | None = None
) -> list[Finding]:
    """Every check, in the order of the chain kubectl goes through."""
    env = os.environ if environ is None else environ
    values = settings.load(dict(env))
    files = kubeconfig_files.resolve(kubeconfig, environ=env)
    found, users = check_kubeconfig(files)
    named = "".join(f" --kubeconfig {shlex.quote(p)}" for p in kubeconfig or ())
    found += check_wrapping(users, named)
    found += check_plugins(users, env)
    found += check_launchers(users)
    found += check_store(values)
    found += check_tray(pins_store.load(values), env)
    return found
