"""When each source is polled: the policy, and the APScheduler jobs that carry it out.

The policy is pure functions (no scheduler, no store), tested on its own:

* a source runs every ``every`` seconds plus up to ``jitter`` (capped at half the interval,
  or "every 2 min" with a 30 min jitter would mean "every 2 to 32 min");
* the misfire grace is one interval plus its jitter: APScheduler coalesces the missed fire
  times of a job into the newest one, which is always within that distance of now, so after
  a sleep or a stalled loop each source runs exactly once — never a burst, never skipped;
* at start a source polled recently waits for its next due time, and the overdue ones are
  spread over up to :data:`CATCH_UP_SPREAD` seconds, oldest first, so a restart does not
  start every crawl at the same moment.

:class:`SourceJobs` keeps one APScheduler job per enabled source in step with the
configuration: ``max_instances=1`` (a source never overlaps itself) and ``coalesce=True``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobEvent
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

__all__ = [
    "CATCH_UP_SPREAD",
    "Scheduled",
    "SourceJobs",
    "add_chores",
    "first_runs",
    "misfire_grace",
    "trigger_for",
]

log = logging.getLogger(__name__)

CATCH_UP_SPREAD = 60.0
JOB_PREFIX = "crawl:"


class Scheduled(Protocol):
    """What scheduling needs of a source's configuration (seconds)."""

    @property
    def every(self) -> float: ...
    @property
    def jitter(self) -> float: ...


def trigger_for(src: Scheduled) -> IntervalTrigger:
    """The interval trigger of one source."""
    jitter = min(src.jitter, src.every / 2)
    return IntervalTrigger(seconds=src.every, jitter=jitter or None, timezone="UTC")


def misfire_grace(src: Scheduled) -> int:
    """Seconds late a coalesced run may still start (APScheduler wants a whole number)."""
    return int(src.every + src.jitter) + 1


def first_runs(
    wanted: Mapping[str, Scheduled],
    last_run: Mapping[str, datetime | None],
    now: datetime,
) -> dict[str, datetime]:
    """When each source first runs: its next due time, overdue ones spread out."""
    first: dict[str, datetime] = {}
    overdue: list[tuple[datetime, str]] = []
    never = datetime.min.replace(tzinfo=now.tzinfo)
    for name, src in wanted.items():
        previous = last_run.get(name)
        due = previous + timedelta(seconds=src.every) if previous else now
        if due > now:
            first[name] = due
        else:
            overdue.append((previous or never, name))
    if overdue:
        spread = min(CATCH_UP_SPREAD, min(wanted[n].every for _, n in overdue))
        step = spread / len(overdue)
        for i, (_, name) in enumerate(sorted(overdue)):
            first[name] = now + timedelta(seconds=i * step)
    return first


Job = Callable[[], Awaitable[None]]


def add_chores(
    scheduler: BaseScheduler, alarms: Job, housekeeping: Job, alarm_every: float
) -> None:
    """The service's own jobs: staleness alarms every ``alarm_every`` seconds, and pruning
    once a day (jittered by ten minutes)."""
    scheduler.add_job(
        alarms,
        IntervalTrigger(seconds=alarm_every),
        id="alarms",
        name="staleness alarms",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=int(alarm_every) + 1,
    )
    scheduler.add_job(
        housekeeping,
        IntervalTrigger(hours=24, jitter=600),
        id="housekeeping",
        name="prune old run records",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
    )


class SourceJobs:
    """One job per enabled source on ``scheduler``, each calling ``crawl(name)``."""

    def __init__(self, scheduler: BaseScheduler, crawl: Callable[[str], Awaitable[None]]) -> None:
        self.scheduler = scheduler
        self._crawl = crawl
        scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES)
        logging.getLogger("apscheduler.scheduler").addFilter(_SKIP_NOISE)

    def close(self) -> None:
        logging.getLogger("apscheduler.scheduler").removeFilter(_SKIP_NOISE)

    def apply(
        self,
        wanted: Mapping[str, Scheduled],
        first: Mapping[str, datetime],
        previous: Mapping[str, Scheduled],
    ) -> None:
        """Schedule exactly ``wanted``: drop the jobs of removed sources, add new ones (first
        run at ``first[name]``), reschedule those whose interval or jitter changed since
        ``previous`` (what the last call scheduled)."""
        scheduler = self.scheduler
        for job in scheduler.get_jobs():
            name = job.id.removeprefix(JOB_PREFIX)
            if job.id.startswith(JOB_PREFIX) and name not in wanted:
                job.remove()
                log.info("source %s is no longer scheduled", name, extra={"source": name})
        for name, src in wanted.items():
            job_id = JOB_PREFIX + name
            old = previous.get(name)
            if scheduler.get_job(job_id) is None:
                scheduler.add_job(
                    self._crawl,
                    trigger_for(src),
                    args=[name],
                    id=job_id,
                    name=f"crawl {name}",
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=misfire_grace(src),
                    next_run_time=first[name],
                    replace_existing=True,
                )
            elif old is not None and (old.every, old.jitter) != (src.every, src.jitter):
                scheduler.reschedule_job(job_id, trigger=trigger_for(src))
                scheduler.modify_job(job_id, misfire_grace_time=misfire_grace(src))
                log.info("source %s now runs every %g s", name, src.every, extra={"source": name})

    def next_runs(self) -> dict[str, str]:
        """Next run time of every scheduled source (ISO 8601 UTC)."""
        found: dict[str, str] = {}
        for job in self.scheduler.get_jobs():
            when = getattr(job, "next_run_time", None)
            if job.id.startswith(JOB_PREFIX) and when is not None:
                found[job.id.removeprefix(JOB_PREFIX)] = when.isoformat()
        return found

    def _on_skipped(self, event: JobEvent) -> None:
        if event.job_id.startswith(JOB_PREFIX):
            name = event.job_id.removeprefix(JOB_PREFIX)
            log.info("round skipped: the previous one is still running", extra={"source": name})


class _SkipFilter(logging.Filter):
    """Drops APScheduler's "maximum number of running instances" warning: a skipped round
    is how ``max_instances=1`` works, and :meth:`SourceJobs._on_skipped` says it with the
    source in context."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in record.getMessage()


_SKIP_NOISE = _SkipFilter()
