"""What each menu item does: one engine use case per item, its result shown to the user.

``MenuActions`` has no GUI toolkit in it: ``notify(title, message)`` and ``quit()`` come from
the tray icon (or from a test).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from kubewarm.engine.core import events_log
from kubewarm.engine.core.text import plural, short
from kubewarm.engine.errors import KubewarmError
from kubewarm.engine.kubeconfig import current_context, wrapping
from kubewarm.engine.system import autostart
from kubewarm.engine.warmer.warmer import Warmer
from kubewarm.tray.login_terminal import run_login
from kubewarm.tray.open_path import open_path


class MenuActions:
    """The menu's actions over one warmer. ``last_result`` goes to the tooltip and to a
    notification, never into the menu: items must not move under the pointer."""

    def __init__(
        self,
        warmer: Warmer,
        notify: Callable[[str, str], None],
        quit: Callable[[], None],
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.warmer = warmer
        self._notify = notify
        self._quit = quit
        self._changed = changed
        self.last_result = ""
        self.uninstall_pending = False  # "Uninstall kubewarm…" chosen, not yet confirmed

    def _report(self, line: str, title: str = "", message: str = "") -> None:
        self.last_result = short(line, 60)
        events_log.write("tray: " + (message or line).replace("\n", "; "))
        self._notify(title or "kubewarm", message or line)
        self._changed()

    def set_pinned(self, name: str, pinned: bool) -> None:
        self.warmer.set_pinned(name, pinned)

    def refresh(self, name: str) -> None:
        self.warmer.refresh_now(name)

    def refresh_all_pinned(self) -> None:
        self._report(f"Refreshing {plural(self.warmer.refresh_all_pinned(), 'pinned context')}")

    def clear(self, name: str) -> None:
        self._report(f"Cleared {plural(self.warmer.clear(name), 'cached credential')} of {name}")

    def clear_all(self) -> None:
        self._report(f"Cleared {plural(self.warmer.clear_all(), 'cached credential')}")

    def wrap(self) -> None:
        self._show(wrapping.wrap())

    def restore(self) -> None:
        self._show(wrapping.restore())

    def _show(self, result: wrapping.Result) -> None:
        self.warmer.sync("kubeconfig edited")
        self._report(result.line, result.title, result.message)

    def login(self, name: str) -> None:
        """Run the context's login command in a terminal, then refresh it."""
        plan = self.warmer.login_plan(name)
        if plan is None:
            self._report(f"{name} does not need a login now")
            return
        self._report(f"Logging in for {name}: {plan.title}", "kubewarm: log in", plan.title)
        run_login(
            plan,
            self.warmer.login_env(name),
            done=lambda: self.warmer.refresh_now(name),
            failed=lambda problem: self._report(problem, "kubewarm: log in", problem),
        )

    def use_context(self, name: str) -> None:
        """`kubectl config use-context NAME`, byte-exactly."""
        try:
            switched = current_context.use(name)
        except KubewarmError as exc:
            self._report(f"Switch failed: {exc}", "kubewarm: switch context", str(exc))
            return
        self._report(switched.line, "kubewarm: switch context", switched.line)

    def toggle_start_at_login(self) -> None:
        enable = not autostart.is_enabled()
        try:
            detail = autostart.set_enabled(enable)
        except autostart.AutostartError as exc:
            self._report(f"Start at login failed: {exc}", "kubewarm: start at login", str(exc))
            return
        self._report("Will start at login" if enable else "Will not start at login", "", detail)

    def open_log(self) -> None:
        open_path(events_log.log_file(), self._open_failed, create=True)

    def _open_failed(self, problem: str) -> None:
        self._report(problem, "kubewarm: open log", problem)

    def doctor(self) -> None:
        """``kubewarm doctor`` from the menu, in the background (it asks D-Bus, the store):
        its verdict as a notification, every finding in the log."""
        threading.Thread(target=self._doctor, name="doctor", daemon=True).start()

    def _doctor(self) -> None:
        # lazy: start-up (the doctor's checks load what the tray itself never needs)
        from kubewarm.engine.diagnostics import doctor

        try:
            findings = doctor.diagnose()
        except Exception as exc:  # a check that breaks must not go unreported
            self._report(f"Check failed: {exc}", "kubewarm doctor", f"{type(exc).__name__}: {exc}")
            return
        for finding in findings:
            events_log.write(f"tray: doctor: {finding.status}: {finding.line()}")
        problems = [f for f in findings if f.problem]
        if not problems:
            line = f"All is well ({plural(len(findings), 'check')})"
            self._report(line, "kubewarm doctor: all is well", line)
            return
        title = f"kubewarm doctor: {plural(len(problems), 'problem')}"
        message = "\n".join(f.line() for f in problems[:4])
        if len(problems) > 4:
            message += f"\n… and {len(problems) - 4} more: run `kubewarm doctor`"
        self._report(title, title, message)

    def request_uninstall(self) -> None:
        """First step: the menu then shows what uninstall does, with Confirm and Cancel."""
        self.uninstall_pending = True
        self._report("Uninstall: confirm or cancel below")

    def cancel_uninstall(self) -> None:
        self.uninstall_pending = False
        self._report("Uninstall cancelled")

    def confirm_uninstall(self) -> None:
        """``kubewarm uninstall`` from this tray: restore kubeconfig, remove the login item,
        clear every store, remove kubewarm's files; then quit (nothing left to keep warm)."""
        # lazy: start-up (only when the user uninstalls)
        from kubewarm.engine.cli.uninstall import format_report

        # lazy: start-up (only when the user uninstalls)
        from kubewarm.engine.system.uninstall import uninstall

        self.uninstall_pending = False
        report = uninstall(from_tray=True)
        title = "kubewarm: uninstalled" if report.ok else "kubewarm: uninstall stopped"
        self._report(title, title, format_report(report))
        if report.ok:
            self._quit()

    def quit(self) -> None:
        self._quit()
