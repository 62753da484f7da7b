"""Keeping pinned contexts warm: an APScheduler 3.x BackgroundScheduler refreshes each pinned
context's credential shortly before the shim would start refreshing it itself.

- **When**: at ``expires - (refresh window + slack)``: a kubectl call then always finds a
  credential outside the shim's refresh window (a plain hit), and the refresh runs in the
  background under exactly the key that call computes (see ``refresh_target``).
- **Failures**: retried with exponential backoff (15 s … 5 min); one notification per failure
  episode, not per retry. A plugin that needs an interactive login is shown as "needs login"
  and not retried until the user refreshes it, logs in (kubectl fills the cache), or re-pins.
- **Sleep and clock jumps**: APScheduler waits on a monotonic clock, which stops while a
  laptop sleeps. A heartbeat every few seconds wakes the scheduler (so due refreshes run
  within one beat of waking) and compares wall-clock and monotonic time to notice the jump.
- **Changes**: the heartbeat watches the settings file (pins), the kubeconfig files and the
  store; contexts appear, disappear or get rewrapped without a restart.

Jobs use ``misfire_grace_time=None``, ``coalesce=True`` and ``max_instances=1``: a refresh
missed during sleep runs once, late, and never twice at a time.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kubewarm.engine.contexts import pins
from kubewarm.engine.contexts.state import (
    COLD,
    FAILED,
    MISSING,
    NEEDS_LOGIN,
    NOT_WRAPPED,
    REFRESHING,
    WARM,
    ContextState,
    overall,
    static_states,
    summary,
)
from kubewarm.engine.contexts.target import Target
from kubewarm.engine.core import events_log, settings

HEARTBEAT_SECONDS = 10.0
FULL_SYNC_EVERY = 6  # heartbeats between full re-reads even when nothing seems to change
JUMP_SECONDS = 5.0  # wall clock and monotonic clock disagreeing by more: slept or clock set
BACKOFF = (15.0, 30.0, 60.0, 120.0, 240.0, 300.0)
MIN_INTERVAL = 2.0  # never refresh one context more often than this after a success

Notify = Callable[[str, str], None]
_SOURCES = {"recipe": "as kubectl last ran it", "kubeconfig": "from kubeconfig"}


@dataclass
class _Runtime:
    """What the warmer knows of one pinned context beyond the store: its running phase."""

    phase: str = ""  # "", REFRESHING, FAILED or NEEDS_LOGIN
    reason: str = ""
    failures: int = 0
    notified: bool = False  # the current failure episode was notified
    since: float = 0.0  # failed/needs login: when the attempt that failed began


def refresh_lead(values: dict[str, str], lifetime: float) -> float:
    """Seconds before expiry at which the warmer refreshes a credential of ``lifetime``."""
    from kubewarm.engine.hotpath import timing

    window, _ = timing(values, lifetime)
    return min(window + min(30.0, max(1.0, 0.05 * lifetime)), lifetime * 0.9)


def backoff(failures: int, steps: Sequence[float] = BACKOFF) -> float:
    """Seconds to wait before retry number ``failures`` (1, 2, …)."""
    return steps[min(max(failures, 1), len(steps)) - 1]


class Warmer:
    """The background warmer; the tray and ``kubewarm tray --no-icon`` run one each.

    ``notify(title, message)`` is called once per failure episode; ``on_change()`` after any
    state the menu shows has changed; ``on_event(line)`` for each log-worthy event.
    """

    def __init__(
        self,
        *,
        notify: Notify | None = None,
        on_change: Callable[[], None] | None = None,
        on_event: Callable[[str], None] | None = None,
        heartbeat: float = HEARTBEAT_SECONDS,
        backoff: Sequence[float] = BACKOFF,
        environ: dict[str, str] | None = None,
    ) -> None:
        self._notify = notify or (lambda title, message: None)
        self._on_change = on_change or (lambda: None)
        self._on_event = on_event or (lambda line: None)
        self._heartbeat = heartbeat
        self._backoff = tuple(backoff)
        self._environ = environ
        self._lock = threading.RLock()
        self._sync_lock = threading.Lock()  # one re-read at a time, applied in order
        self._states: dict[str, ContextState] = {}
        self._targets: dict[str, Target] = {}
        self._runtime: dict[str, _Runtime] = {}
        self._contexts: list = []
        self._pins: list[str] = []
        self._values: dict[str, str] = {}
        self._problem = ""
        self._signature: tuple = ()
        self._files: list[str] = []  # kubeconfig files last read
        self._beats = 0
        self._clocks = (time.time(), time.monotonic())
        self._scheduler = None

    # --- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Read everything, schedule the pinned contexts, and start the heartbeat."""
        from datetime import timezone

        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            timezone=timezone.utc,
            daemon=True,
        )
        self._scheduler.start()
        self._event(f"warmer started (pid {os.getpid()})")
        self.sync("start")
        self._scheduler.add_job(
            self._beat, "interval", seconds=self._heartbeat, id="heartbeat", replace_existing=True
        )

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
            self._event("warmer stopped")

    # --- what the menu shows -----------------------------------------------------------------

    def states(self) -> list[ContextState]:
        """Every exec-plugin context (and every pinned one), pinned first, then by name."""
        with self._lock:
            items = list(self._states.values())
        return sorted(items, key=lambda s: (not s.pinned, s.name))

    def overall(self) -> str:
        """The icon's state: idle, warm, refreshing or failing."""
        return overall(self.states()) if not self._problem else "failing"

    def summary(self) -> str:
        """One line summing up the state (the tooltip, the menu's first line)."""
        return summary(self.states())

    @property
    def problem(self) -> str:
        """Why the warmer cannot see its contexts (a broken kubeconfig, say), or ''."""
        return self._problem

    # --- use cases ---------------------------------------------------------------------------

    def set_pinned(self, name: str, pinned: bool) -> None:
        """Pin (and warm now, if cold) or unpin a context."""
        pins.set_pinned(name, pinned)
        with self._lock:
            self._runtime.pop(name, None)
        self._event(f"{'pinned' if pinned else 'unpinned'} {name}")
        self.sync("pins changed")

    def refresh_now(self, name: str) -> None:
        """Refresh one context now, in the background (also after "needs login")."""
        self._schedule(name, time.time(), forced=True)

    def refresh_all_pinned(self) -> int:
        """Refresh every pinned context now; returns how many."""
        with self._lock:
            names = [n for n in self._pins if n in self._targets]
        for name in names:
            self.refresh_now(name)
        return len(names)

    def clear(self, name: str) -> int:
        """Delete the context's cached credentials (every identity of its kubeconfig user);
        a pinned context gets a fresh one right away. Returns how many were deleted."""
        from kubewarm.engine.cache import admin as cache_admin

        with self._lock:
            state = self._states.get(name)
        if state is None or not state.user:
            return 0
        removed = cache_admin.clear(self._values or None, users=[state.user])
        self._event(f"cleared {removed} cached credential(s) of {name}")
        self.sync("cache cleared")
        return removed

    def clear_all(self) -> int:
        """Delete every cached credential; pinned contexts are warmed again right away."""
        from kubewarm.engine.cache import admin as cache_admin

        removed = cache_admin.clear(self._values or None)
        self._event(f"cleared all {removed} cached credential(s)")
        self.sync("cache cleared")
        return removed

    # --- reading the world -------------------------------------------------------------------

    def _kubeconfig_files(self, entries=()) -> list:
        """The files kubectl would read in the warmer's environment, then those named by the
        ``KUBECONFIG`` that kubectl calls recorded (a login item has no ``KUBECONFIG`` from
        the shell's profile); a context defined twice is taken from the first, as kubectl does.
        """
        from kubewarm.engine.kubeconfig import files as kubeconfig_files

        files = kubeconfig_files.resolve(environ=self._environ)
        seen = {f.target for f in files}
        for entry in entries:
            spec = str((entry.recipe.get("env") or {}).get("KUBECONFIG", ""))
            for file in kubeconfig_files.resolve(environ={"KUBECONFIG": spec}) if spec else ():
                if file.target not in seen and file.exists:
                    seen.add(file.target)
                    files.append(file)
        self._files = [f.target for f in files]
        return files

    def _watched_files(self) -> list[str]:
        from kubewarm.engine.core import paths
        from kubewarm.engine.hotpath import file_store_dir
        from kubewarm.engine.kubeconfig import files as kubeconfig_files

        files = [f.target for f in kubeconfig_files.resolve(environ=self._environ)]
        extra = [f for f in self._files if f not in files]
        return [paths.settings_file(), *files, *extra, file_store_dir()]

    def _cheap_signature(self) -> tuple:
        result = []
        for path in self._watched_files():
            try:
                st = os.stat(path)
                result.append((path, st.st_mtime_ns, st.st_size, st.st_ino))
            except OSError:
                result.append((path, None))
        return tuple(result)

    def sync(self, why: str = "") -> None:
        """Re-read pins, kubeconfig and store; (re)schedule; tell the menu if anything changed."""
        with self._sync_lock:
            self._sync(why)

    def _sync(self, why: str) -> None:
        from kubewarm.engine.cache import admin as cache_admin
        from kubewarm.engine.kubeconfig import merge as kubeconfig_merge
        from kubewarm.engine.kubeconfig.model import KubeconfigError
        from kubewarm.engine.stores import StoreUnavailable

        signature = self._cheap_signature()
        problems = []
        values = settings.load(self._environ)
        try:
            pinned = pins.load(values)
        except pins.PinsError as exc:
            problems.append(str(exc))
            pinned = list(self._pins)
        try:
            entries = cache_admin.list_entries(values)
        except StoreUnavailable as exc:
            problems.append(f"credential store unavailable: {exc}")
            entries = []
        try:
            files = self._kubeconfig_files(entries)
            contexts = kubeconfig_merge.merge_contexts(kubeconfig_merge.load(files))
        except KubeconfigError as exc:
            problems.append(str(exc))
            contexts = list(self._contexts)
        states, targets = static_states(contexts, pinned, entries, values, self._environ)
        with self._lock:
            before = {n: (s.phase, s.expires, s.pinned, s.reason) for n, s in self._states.items()}
            old_problem = self._problem
            self._signature = signature
            self._values, self._contexts, self._pins = values, contexts, pinned
            self._targets = targets
            for name in list(self._runtime):
                if name not in states:
                    del self._runtime[name]
            merged = {}
            for name, state in states.items():
                merged[name] = self._overlay(name, state)
            self._states = merged
            self._problem = "; ".join(problems)
            after = {n: (s.phase, s.expires, s.pinned, s.reason) for n, s in merged.items()}
        if self._problem and self._problem != old_problem:
            self._event(f"problem: {self._problem}")
        self._plan_all()
        if (before != after or old_problem != self._problem) and why:
            self._event(f"state changed ({why})")
        self._changed()  # always: the menu also shows what the system says (start at login)

    def _overlay(self, name: str, state: ContextState) -> ContextState:
        """The store's view of a context, with the warmer's running phase on top."""
        run = self._runtime.get(name)
        if run is None or not run.phase:
            return state
        # A credential obtained after the failed attempt began (by kubectl after a login, say)
        # ends the failure episode.
        fresh = state.phase == WARM and state.obtained >= run.since
        if fresh and run.phase in (FAILED, NEEDS_LOGIN):
            self._event(f"{name}: a fresh credential appeared; failure episode over")
            self._runtime[name] = _Runtime()
            return state
        if state.phase in (NOT_WRAPPED, MISSING):
            return state
        return state.with_phase(run.phase, run.reason)

    # --- scheduling --------------------------------------------------------------------------

    def _plan_all(self) -> None:
        """Make the scheduled jobs match the pins: one per pinned, wrapped context."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        with self._lock:
            wanted = {}
            for name in self._pins:
                state = self._states.get(name)
                if state is None or name not in self._targets:
                    continue
                run = self._runtime.get(name) or _Runtime()
                if run.phase in (NEEDS_LOGIN, REFRESHING):
                    continue
                if run.phase == FAILED and scheduler.get_job("refresh:" + name) is not None:
                    wanted[name] = None  # keep the retry already scheduled
                elif run.phase == FAILED:  # its job went while the context was gone
                    wanted[name] = time.time() + backoff(run.failures, self._backoff)
                elif state.phase == WARM:
                    lifetime = state.lifetime or max(state.expires - time.time(), 1.0)
                    wanted[name] = state.expires - refresh_lead(self._values, lifetime)
                else:
                    wanted[name] = time.time()
        for job in scheduler.get_jobs():
            if job.id.startswith("refresh:") and job.id[8:] not in wanted:
                job.remove()
        for name, when in wanted.items():
            if when is not None:
                self._schedule(name, when, only_if_different=True)

    def _schedule(
        self, name: str, when: float, forced: bool = False, only_if_different: bool = False
    ) -> None:
        from datetime import datetime, timezone

        scheduler = self._scheduler
        if scheduler is None:
            return
        job_id = "refresh:" + name
        when = max(when, time.time())
        job = scheduler.get_job(job_id) if only_if_different else None
        planned = job.next_run_time if job is not None else None
        if planned is not None and abs(planned.timestamp() - when) < 1.0:
            return
        scheduler.add_job(
            self._run,
            "date",
            run_date=datetime.fromtimestamp(when, timezone.utc),
            args=[name, forced],
            id=job_id,
            replace_existing=True,
        )

    # --- the jobs ----------------------------------------------------------------------------

    def _beat(self) -> None:
        """Heartbeat: notice sleep/clock jumps and changed files; a full re-read now and then."""
        wall, mono = time.time(), time.monotonic()
        last_wall, last_mono = self._clocks
        self._clocks = (wall, mono)
        jumped = (wall - last_wall) - (mono - last_mono)
        self._beats += 1
        if abs(jumped) > JUMP_SECONDS:
            what = "woke from sleep" if jumped > 0 else "clock set back"
            self._event(f"{what}: wall clock moved {jumped:+.0f}s against the monotonic clock")
            self.sync("clock jump")
            return
        if self._cheap_signature() != self._signature:
            self.sync("files changed")
        elif self._beats % FULL_SYNC_EVERY == 0:
            self.sync("")
            from kubewarm.engine.cache.admin import housekeeping_if_due

            housekeeping_if_due()  # one stat unless due (every few hours); never raises

    def _run(self, name: str, forced: bool = False) -> None:
        """One scheduled refresh of pinned context ``name`` (or a forced one from the menu)."""
        from kubewarm.engine.cache import credentials

        with self._lock:
            target = self._targets.get(name)
            state = self._states.get(name)
            run = self._runtime.setdefault(name, _Runtime())
            if target is None or state is None:
                return
            if not forced and not state.pinned:
                return
            if not forced and run.phase == NEEDS_LOGIN:
                return
            values = self._values
        current = self._stored_expiry(target)
        if not forced and current is not None:
            expires, lifetime = current
            if expires - time.time() > refresh_lead(values, lifetime) + 0.5:
                self._set(name, "", expires=expires)  # someone refreshed it meanwhile
                self._schedule(name, expires - refresh_lead(values, lifetime))
                return
        self._set(name, REFRESHING)
        attempt, started = time.time(), time.monotonic()
        try:
            outcome = credentials.refresh(target.argv, target.env, target.values, key=target.key)
        except Exception as exc:  # never leave a context "refreshing" for good
            outcome = credentials.Outcome(False, target.key, f"{type(exc).__name__}: {exc}")
        took = time.monotonic() - started
        if outcome.ok:
            stored = self._stored_expiry(target)
            expires, lifetime = stored if stored else (outcome.expires, 0.0)
            self._event(
                f"{name}: refreshed ({target.plugin}, {_SOURCES[target.source]}) in {took:.1f}s;"
                f" valid until {time.strftime('%H:%M:%S', time.localtime(expires))}"
            )
            with self._lock:
                self._runtime[name] = _Runtime()
                pinned = name in self._pins
            self._set(name, "", expires=expires)
            if pinned:
                lead = refresh_lead(values, lifetime or max(expires - time.time(), 1.0))
                self._schedule(name, max(expires - lead, time.time() + MIN_INTERVAL))
            return
        with self._lock:
            run = self._runtime.setdefault(name, _Runtime())
            first = not run.notified
            run.notified = True
            run.failures += 1
            failures = run.failures
        if outcome.needs_login:
            self._set(name, NEEDS_LOGIN, reason=outcome.reason, since=attempt)
            self._event(f"{name}: needs login ({outcome.reason}); not retrying until asked")
            if first:
                self._notify(
                    f"kubewarm: {name} needs login",
                    f"{target.plugin}: {outcome.reason}\nLog in, then choose Refresh now.",
                )
            return
        delay = backoff(failures, self._backoff)
        self._set(name, FAILED, reason=outcome.reason, since=attempt)
        retry = f"retry in {delay:.0f}s" if state.pinned else "not pinned, no retry"
        self._event(f"{name}: refresh failed ({outcome.reason}); attempt {failures}, {retry}")
        if first:
            self._notify(f"kubewarm: cannot refresh {name}", f"{target.plugin}: {outcome.reason}")
        if state.pinned:
            self._schedule(name, time.time() + delay)

    def _stored_expiry(self, target: Target) -> tuple[float, float] | None:
        """(expires, lifetime) of the valid credential stored under the target's key, or None."""
        from kubewarm.engine.core.entry import decode
        from kubewarm.engine.stores import StoreUnavailable
        from kubewarm.engine.stores.choice import open_store

        try:
            blob = open_store(dict(target.values)).read(target.key)
            entry = decode(blob) if blob is not None else None
        except (StoreUnavailable, ValueError, OSError):
            return None
        if entry is None or entry.expires <= time.time():
            return None
        return entry.expires, entry.lifetime

    def _set(
        self,
        name: str,
        phase: str,
        reason: str = "",
        expires: float | None = None,
        since: float = 0.0,
    ) -> None:
        """Set a context's running phase ('' = as the store says) and tell the menu."""
        with self._lock:
            run = self._runtime.setdefault(name, _Runtime())
            if since:
                run.since = since
            run.phase, run.reason = phase, reason
            state = self._states.get(name)
            if state is None:
                return
            if phase:
                new = state.with_phase(phase, reason)
            elif expires:
                new = state.with_phase(WARM, "", expires)
            else:
                new = state.with_phase(COLD)
            changed = new != state
            self._states[name] = new
        if changed:
            self._changed()

    # --- output ------------------------------------------------------------------------------

    def _changed(self) -> None:
        try:
            self._on_change()
        except Exception as exc:  # a GUI callback must never stop the warmer
            events_log.write(f"tray update failed: {type(exc).__name__}: {exc}")

    def _event(self, line: str) -> None:
        events_log.write("warmer: " + line)
        try:
            self._on_event(line)
        except Exception:
            pass
