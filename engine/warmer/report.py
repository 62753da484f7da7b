"""What the warmer says: the log lines, the notifications and the menu's "changed" signal.

``Outlet`` wraps the adaptor's callbacks (the tray's, or the headless runner's) so that a
failing one never stops the warmer; every event is also written to kubewarm's log. The wording
of a refresh's verdict is ``describe``'s, a pure function (one notification per failure episode
is the policy's ``Verdict.notify``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kubewarm.engine.contexts.target import Target
from kubewarm.engine.core import events_log
from kubewarm.engine.warmer import login, policy
from kubewarm.engine.warmer.board import Change

Notify = Callable[[str, str], None]
_SOURCES = {"recipe": "as kubectl last ran it", "kubeconfig": "from kubeconfig"}


class Outlet:
    """Where the warmer reports; a failing callback (a GUI's) never stops the warmer."""

    def __init__(
        self,
        notify: Notify | None,
        on_change: Callable[[], None] | None,
        on_event: Callable[[str], None] | None,
    ) -> None:
        self._notify = notify or (lambda title, message: None)
        self._on_change = on_change or (lambda: None)
        self._on_event = on_event or (lambda line: None)

    def notify(self, title: str, message: str) -> None:
        self._notify(title, message)

    def changed(self) -> None:
        try:
            self._on_change()
        except Exception as exc:
            events_log.write(f"tray update failed: {type(exc).__name__}: {exc}")

    def event(self, line: str) -> None:
        events_log.write("warmer: " + line)
        try:
            self._on_event(line)
        except Exception:
            pass

    def read_again(self, change: Change) -> None:
        """What a re-read found: failure episodes a fresh credential ended, contexts newly
        paused (notified: their plugin changed), a new problem."""
        for name in change.ended:
            self.event(f"{name}: a fresh credential appeared; failure episode over")
        for name, reason in change.paused:
            self.event(f"{name}: paused, {reason}")
            self.notify(f"kubewarm: {name} paused", reason)
        if change.problem:
            self.event(f"problem: {change.problem}")

    def verdict(
        self, name: str, target: Target, verdict: policy.Verdict, took: float, expires: float
    ) -> None:
        """Log a refresh's verdict; notify when it opens a failure episode."""
        line, notification = describe(name, target, verdict, took, expires)
        self.event(line)
        if notification is not None:
            self.notify(*notification)


def describe(
    name: str, target: Target, verdict: policy.Verdict, took: float, expires: float
) -> tuple[str, tuple[str, str] | None]:
    """The log line for a refresh's verdict, and the notification (title, message) when it
    opens a failure episode."""
    run = verdict.run
    if verdict.kind == policy.OK:
        until = time.strftime("%H:%M:%S", time.localtime(expires))
        source = _SOURCES[target.source]
        return (
            f"{name}: refreshed ({target.plugin}, {source}) in {took:.1f}s; valid until {until}",
            None,
        )
    if verdict.kind == policy.LOGIN_OUTCOME:
        line = f"{name}: needs login ({run.reason}); not retrying until asked"
        how = login.plan(target.argv, target.env, run.reason).title
        title, message = (
            f"kubewarm: {name} needs login",
            f"{target.plugin}: {run.reason}\nLog in with {how} (Log in… under {name} in the menu).",
        )
    else:
        retry = (
            f"retry in {verdict.delay:.0f}s"
            if verdict.retry_at is not None
            else "not pinned, no retry"
        )
        line = f"{name}: refresh failed ({run.reason}); attempt {run.failures}, {retry}"
        title, message = f"kubewarm: cannot refresh {name}", f"{target.plugin}: {run.reason}"
    return line, (title, message) if verdict.notify else None
