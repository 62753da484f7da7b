"""The APScheduler 3.x adapter: one date job per pinned context (``refresh:<name>``) and an
interval job, the heartbeat. Nothing here decides anything; ``policy`` says when.

Jobs use ``misfire_grace_time=None`` (a refresh missed during sleep still runs, late),
``coalesce=True`` (once, not once per missed run) and ``max_instances=1`` (never two refreshes
of one context at a time). APScheduler waits on a monotonic clock, which stops while a laptop
sleeps: the heartbeat wakes it so that what fell due runs within one beat of waking.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

PREFIX = "refresh:"
SAME_TIME = 1.0  # a job this close to the wanted time is left alone (no churn on every sync)


class Scheduler:
    """Runs ``refresh(name, forced)`` at planned times and ``beat()`` every ``heartbeat`` s."""

    def __init__(
        self, refresh: Callable[[str, bool], None], beat: Callable[[], None], heartbeat: float
    ) -> None:
        self._refresh = refresh
        self._beat = beat
        self._heartbeat = heartbeat
        self._scheduler = None

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    def start(self) -> None:
        """Start the scheduler (no jobs yet; ``start_heartbeat`` adds the beat)."""
        # lazy: slow path only (apscheduler costs ~60 ms; only a started warmer needs it)
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.base import JobLookupError  # lazy: as above
        from apscheduler.schedulers.background import BackgroundScheduler  # lazy: as above

        class Tolerant(BackgroundScheduler):
            """APScheduler removes a date job once it has run; if the warmer removed it a
            moment before (keep_only on another thread), the JobLookupError would end the
            scheduler's own thread, and with it every refresh and the heartbeat."""

            def remove_job(self, job_id, jobstore=None) -> None:
                try:
                    super().remove_job(job_id, jobstore)
                except JobLookupError:
                    pass

        self._scheduler = Tolerant(
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            timezone=timezone.utc,
            daemon=True,
        )
        self._scheduler.start()

    def start_heartbeat(self) -> None:
        """Add the heartbeat; separate from ``start`` so the first read happens before it."""
        if self._scheduler is not None:
            self._scheduler.add_job(
                self._beat, "interval", seconds=self._heartbeat, id="heartbeat",
                replace_existing=True,
            )  # fmt: skip

    def stop(self, wait: bool = False) -> bool:
        """Stop, by default without waiting for running refreshes (``wait``: until they are
        done, so that none writes afterwards); False if it was not running."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return False
        scheduler.shutdown(wait=wait)
        return True

    def at(self, name: str, when: float, *, forced: bool = False, if_moved: bool = False) -> None:
        """Refresh ``name`` at ``when`` (epoch seconds; the past means now), replacing its job.
        ``if_moved``: leave a job planned within ``SAME_TIME`` of ``when`` as it is."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        when = max(when, time.time())
        job = scheduler.get_job(PREFIX + name) if if_moved else None
        planned = job.next_run_time if job is not None else None
        if planned is not None and abs(planned.timestamp() - when) < SAME_TIME:
            return
        scheduler.add_job(
            self._refresh, "date", run_date=datetime.fromtimestamp(when, timezone.utc),
            args=[name, forced], id=PREFIX + name, replace_existing=True,
        )  # fmt: skip

    def has(self, name: str) -> bool:
        """Whether a refresh of ``name`` is scheduled."""
        scheduler = self._scheduler
        return scheduler is not None and scheduler.get_job(PREFIX + name) is not None

    def keep_only(self, names: set[str]) -> None:
        """Drop the refresh jobs of every context not in ``names``."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        for job in scheduler.get_jobs():
            if job.id.startswith(PREFIX) and job.id[len(PREFIX) :] not in names:
                scheduler.remove_job(job.id)  # gone meanwhile (it just ran) is fine

    def planned(self) -> dict[str, float]:
        """When each scheduled refresh is due (epoch seconds), by context name."""
        scheduler = self._scheduler
        jobs = scheduler.get_jobs() if scheduler is not None else []
        return {
            job.id[len(PREFIX) :]: job.next_run_time.timestamp()
            for job in jobs
            if job.id.startswith(PREFIX) and job.next_run_time is not None
        }
