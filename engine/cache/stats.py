"""``kubewarm stats``: requests served from the cache, plugin runs, and the time saved.

The shim appends one line per event to a counter file per UTC day (see ``hotpath.count``):
a hit costs it one ``open``/``write``/``close``. This module reads them back. The time a hit
saved is the plugin's measured run time for that kubeconfig user (the mean of its successful
runs, foreground or background, in the days read, else on the latest earlier day that has
any), else the mean of the same plugin for any user; a user whose plugin never ran here has an
unknown saving (``None``), never a guess.

Warm without pinning (``KUBEWARM_WARM_RECENT``) is accounted for apart: the plugin runs it
spent (``recent`` runs) and the kubectl waits it saved, i.e. its refreshes whose credential a
kubectl call then found in the cache. Without that refresh the first such call would have run
the plugin itself; the calls after it would have found that call's credential.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kubewarm.engine.core import paths
from kubewarm.engine.hotpath import STATS_DIR

RECENT = "recent"  # a run line's ``where`` for warm-without-pinning (else fg or bg)
KEEP_DAYS = 92  # counter files older than this are deleted (~60 bytes a hit)
DAY = 86400


@dataclass
class UserStats:
    """One kubeconfig user (``KUBEWARM_USER``; '' for calls outside a wrapped kubeconfig)."""

    user: str
    plugin: str = ""
    contexts: list[str] = field(default_factory=list)
    hits: int = 0
    runs: int = 0  # on kubectl's path: what the cache could not answer
    background_runs: int = 0  # refreshes by the tray or the shim's detached refresh
    failed_runs: int = 0
    recent_runs: int = 0  # of the background runs: for warm-without-pinning
    recent_saves: int = 0  # kubectl waits those runs saved (their credential was used)
    run_seconds: float | None = None  # measured mean of a successful run
    saved_seconds: float | None = None  # hits x run_seconds

    @property
    def requests(self) -> int:
        return self.hits + self.runs


@dataclass
class Stats:
    """Counts over ``days`` UTC days ending with ``until`` (a YYYY-MM-DD day, included)."""

    since: str
    until: str
    days: int
    users: list[UserStats]

    @property
    def hits(self) -> int:
        return sum(u.hits for u in self.users)

    @property
    def runs(self) -> int:
        return sum(u.runs for u in self.users)

    @property
    def background_runs(self) -> int:
        return sum(u.background_runs for u in self.users)

    @property
    def saved_seconds(self) -> float:
        return sum(u.saved_seconds or 0.0 for u in self.users)

    @property
    def recent_runs(self) -> int:
        return sum(u.recent_runs for u in self.users)

    @property
    def recent_saves(self) -> int:
        return sum(u.recent_saves for u in self.users)

    @property
    def recent_saved_seconds(self) -> float:
        """The time the saved waits would have taken (each at that user's run time)."""
        return sum(u.recent_saves * (u.run_seconds or 0.0) for u in self.users)


def stats_dir() -> str:
    return os.path.join(paths.cache_dir(), STATS_DIR)


def _day(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def _lines(names: Iterable[str]) -> Iterable[list[str]]:
    for name in names:
        try:
            with open(os.path.join(stats_dir(), name), encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError:
            continue
        for line in text.splitlines():
            yield line.split("\t")


def _day_files() -> list[str]:
    try:
        names = os.listdir(stats_dir())
    except OSError:
        return []
    return sorted(n for n in names if len(n) == 10 and n[4] == "-" and n[7] == "-")


def collect(
    days: int = 7, now: float | None = None, contexts: Mapping[str, Sequence[str]] | None = None
) -> Stats:
    """The counts of the last ``days`` days (today included); ``contexts`` maps a kubeconfig
    user to the contexts that use it, for the report.

    Reads the period's counter files and the day before (a warm-recent refresh late that day
    may serve a call in the period); older days only for a user whose plugin did not run in
    that time, newest first, until its run time is known. The tray asks every minute: its cost
    must not grow with the 92 days kept."""
    now = time.time() if now is None else now
    days = max(int(days), 1)
    since, until = _day(now - (days - 1) * DAY), _day(now)
    before = _day(now - days * DAY)
    files = _day_files()
    older = [n for n in files if n < before]
    users: dict[str, UserStats] = {}
    warmed: set[str] = set()  # keys whose stored credential a warm-recent run fetched, unused
    durations: dict[str, list[int]] = {}  # user -> ms of successful runs (the days read)
    by_plugin: dict[str, list[int]] = {}
    for name in (n for n in files if before <= n <= until):
        in_period = since <= name
        for fields in _lines([name]):
            kind = fields[0]
            if kind == "h" and len(fields) == 3:
                saved = fields[1] in warmed
                warmed.discard(fields[1])
                if in_period:
                    entry = users.setdefault(fields[2], UserStats(fields[2]))
                    entry.hits += 1
                    entry.recent_saves += saved
            elif kind == "r" and len(fields) == 7 and fields[5].isdigit():
                user, plugin, where, ms, ok = fields[2], fields[3], fields[4], fields[5], fields[6]
                if ok == "1":
                    durations.setdefault(user, []).append(int(ms))
                    by_plugin.setdefault(plugin, []).append(int(ms))
                    if where == RECENT:
                        warmed.add(fields[1])
                    else:
                        warmed.discard(fields[1])
                if not in_period:
                    continue
                entry = users.setdefault(user, UserStats(user))
                entry.plugin = plugin
                if where == "fg":
                    entry.runs += 1
                else:
                    entry.background_runs += 1
                    entry.recent_runs += where == RECENT
                if ok != "1":
                    entry.failed_runs += 1
    for entry in users.values():
        if not entry.plugin or not (durations.get(entry.user) or by_plugin.get(entry.plugin)):
            _measure_earlier(entry, older, durations, by_plugin)
        measured = durations.get(entry.user) or by_plugin.get(entry.plugin)
        if measured:
            entry.run_seconds = sum(measured) / len(measured) / 1000.0
            entry.saved_seconds = entry.hits * entry.run_seconds
        entry.contexts = sorted((contexts or {}).get(entry.user, ()))
    ordered = sorted(users.values(), key=lambda u: (-(u.saved_seconds or 0.0), -u.hits, u.user))
    return Stats(since, until, days, ordered)


def _measure_earlier(
    entry: UserStats,
    older: list[str],
    durations: dict[str, list[int]],
    by_plugin: dict[str, list[int]],
) -> None:
    """A user's plugin and run time from the latest earlier day that ran its plugin (added to
    ``durations``/``by_plugin``); nothing when no kept day did."""
    for name in reversed(older):
        found = False
        for fields in _lines([name]):
            if fields[0] != "r" or len(fields) != 7 or not fields[5].isdigit():
                continue
            user, plugin, ok = fields[2], fields[3], fields[6]
            if user != entry.user and (not entry.plugin or plugin != entry.plugin):
                continue
            if user == entry.user and not entry.plugin:
                entry.plugin = plugin
            if ok == "1":
                found = True
                durations.setdefault(user, []).append(int(fields[5]))
                by_plugin.setdefault(plugin, []).append(int(fields[5]))
        if found:
            return


def saved_this_week(now: float | None = None) -> tuple[float, int]:
    """(seconds saved, requests served from the cache) over the last 7 days (the tray's line)."""
    report = collect(7, now=now)
    return report.saved_seconds, report.hits


def prune(keep_days: int = KEEP_DAYS, now: float | None = None) -> int:
    """Delete counter files older than ``keep_days``; how many went. Never raises."""
    oldest = _day((time.time() if now is None else now) - keep_days * DAY)
    removed = 0
    for name in _day_files():
        if name < oldest:
            try:
                os.unlink(os.path.join(stats_dir(), name))
                removed += 1
            except OSError:
                pass
    return removed
