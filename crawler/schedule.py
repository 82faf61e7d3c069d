"""Scheduling policy of the service: triggers, misfire grace, and the first run of each source.

Pure functions (no scheduler, no store) so the policy is tested on its own:

* a source runs every ``every`` seconds plus up to ``jitter`` (capped at half the interval,
  or "every 2 min" with a 30 min jitter would mean "every 2 to 32 min");
* the misfire grace is one interval plus its jitter: APScheduler coalesces the missed fire
  times of a job into the newest one, which is always within that distance of now, so after
  a sleep or a stalled loop each source runs exactly once — never a burst, never skipped;
* at start a source polled recently waits for its next due time, and the overdue ones are
  spread over up to :data:`CATCH_UP_SPREAD` seconds, oldest first, so a restart does not
  start every crawl at the same moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

from apscheduler.triggers.interval import IntervalTrigger

__all__ = ["CATCH_UP_SPREAD", "Scheduled", "first_runs", "misfire_grace", "trigger_for"]

CATCH_UP_SPREAD = 60.0


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
