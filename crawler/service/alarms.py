"""Operator alarms: a source that went quiet or keeps failing, once per incident.

Two conditions, judged from the ``sources`` row the runs keep up to date:

``failing``  ``fail_after`` rounds in a row did not succeed (timeouts and crashes count; a
             round ``stopped`` with the service neither counts nor ends the run of failures).
``stale``    the source has produced no new article for ``stale_after`` although its rounds
             succeed — the silent failure of a site that changed its pages or feeds. While a
             source is ``failing`` it is not also called ``stale``: one cause, one message.

The raised alarms live in ``sources.alarm`` so a restart neither repeats nor forgets them.
Each notice is enqueued under a key that names the incident (the article or the success it
is measured from), and enqueueing is idempotent by key: a crash between enqueueing and
saving the alarm cannot send the same notice twice. A recovery notice goes out when the
condition clears.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, select, update

from crawler.service.logs import log_context
from pipelines.store.database import Store
from pipelines.store.schema import runs, sources, utcnow

__all__ = ["AlarmSource", "Alarms", "Incident", "Notify", "SourceState", "active_incidents"]

log = logging.getLogger(__name__)

Notify = Callable[[Store, str, str, str, Sequence[str]], bool]
"""``enqueue_notice(store, key, title, text, channels) -> bool`` (True when newly queued)."""


class AlarmSource(Protocol):
    """What the alarms need of a source's configuration."""

    @property
    def name(self) -> str: ...
    @property
    def stale_after(self) -> float: ...
    @property
    def fail_after(self) -> int: ...


@dataclass(frozen=True)
class SourceState:
    """The stored state of one source, as far as alarms are concerned."""

    name: str
    first_run_at: datetime | None
    last_new_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    alarm: frozenset[str]


@dataclass(frozen=True)
class Incident:
    """One active condition; ``since`` identifies it (the same for its whole life)."""

    kind: str  # stale | failing
    since: datetime | None
    detail: str


def active_incidents(src: AlarmSource, state: SourceState, now: datetime) -> dict[str, Incident]:
    """Which alarms should be raised now for this source (pure: no I/O)."""
    found: dict[str, Incident] = {}
    if src.fail_after > 0 and state.consecutive_failures >= src.fail_after:
        error = f"; last error: {state.last_error}" if state.last_error else ""
        found["failing"] = Incident(
            "failing",
            state.last_success_at,
            f"{state.consecutive_failures} rounds in a row failed{error}",
        )
        return found
    quiet_since = state.last_new_at or state.first_run_at
    if quiet_since is not None and src.stale_after > 0:
        quiet = (now - quiet_since).total_seconds()
        if quiet >= src.stale_after:
            what = "its last new article" if state.last_new_at else "its first round"
            found["stale"] = Incident(
                "stale",
                quiet_since,
                f"no new article for {human_duration(quiet)} (since {what} at "
                f"{quiet_since:%Y-%m-%d %H:%M} UTC; stale_after is "
                f"{human_duration(src.stale_after)})",
            )
    return found


def human_duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``26 h``, ``3 d`` — rounded for people."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


class Alarms:
    """Raises and clears operator alarms; ``notify`` is
    ``pipelines.deliver.dispatch.enqueue_notice``.

    With no ``notify`` (or no ``ops`` channels) the alarms are still tracked and logged.
    """

    def __init__(self, store: Store, notify: Notify | None) -> None:
        self.store = store
        self.notify = notify

    def check(
        self,
        configured: Iterable[AlarmSource],
        ops: Sequence[str],
        now: datetime | None = None,
    ) -> list[str]:
        """Check every source; returns the notice keys acted on (raised or recovered)."""
        moment = now or utcnow()
        states = self._load_states()
        acted: list[str] = []
        for src in configured:
            state = states.get(src.name)
            if state is None:
                continue  # never ran: nothing to judge yet
            with log_context(source=src.name):
                acted.extend(self._check_one(src, state, ops, moment))
        return acted

    def _check_one(
        self, src: AlarmSource, state: SourceState, ops: Sequence[str], now: datetime
    ) -> list[str]:
        active = active_incidents(src, state, now)
        raised = state.alarm
        acted: list[str] = []
        for kind in sorted(set(active) - raised):
            incident = active[kind]
            key = f"{kind}:{src.name}:{_stamp(incident.since)}"
            verb = "is failing" if kind == "failing" else "has gone stale"
            log.warning("source %s %s: %s", src.name, verb, incident.detail)
            title = f"newswatch: source {src.name} {verb}"
            text = (
                f"Source {src.name} {verb}: {incident.detail}.\n"
                f"Check it with `newswatch status` and `newswatch -v crawl --source {src.name}`."
            )
            self._send(key, title, text, ops)
            acted.append(key)
        for kind in sorted(raised - set(active)):
            cured_by = state.last_new_at if kind == "stale" else state.last_success_at
            key = f"recovered:{kind}:{src.name}:{_stamp(cured_by)}"
            was = "failing" if kind == "failing" else "stale"
            log.info("source %s recovered (was %s)", src.name, was)
            title = f"newswatch: source {src.name} recovered"
            text = f"Source {src.name} is no longer {was}" + (
                f": it found a new article at {state.last_new_at:%Y-%m-%d %H:%M} UTC."
                if kind == "stale" and state.last_new_at
                else ": its last round succeeded."
            )
            self._send(key, title, text, ops)
            acted.append(key)
        if set(active) != raised:
            self._save_alarm(src.name, frozenset(active))
        return acted

    def _send(self, key: str, title: str, text: str, ops: Sequence[str]) -> None:
        if self.notify is None or not ops:
            log.info("no ops channel configured: notice %s only logged", key)
            return
        if self.notify(self.store, key, title, text, list(ops)):
            log.info("notice %s queued for %s", key, ", ".join(ops))

    def _save_alarm(self, name: str, active: frozenset[str]) -> None:
        value = ",".join(sorted(active)) or None
        with self.store.begin() as conn:
            conn.execute(update(sources).where(sources.c.name == name).values(alarm=value))

    def _load_states(self) -> dict[str, SourceState]:
        with self.store.begin() as conn:
            rows = conn.execute(select(sources)).mappings().all()
            # The first run matters only to a source that never found an article; asking for
            # it alone keeps this cheap on a runs table that grows for months.
            quiet = [row["name"] for row in rows if row["last_new_at"] is None]
            firsts: Mapping[str, Any] = {}
            if quiet:
                firsts = dict(
                    conn.execute(
                        select(runs.c.source, func.min(runs.c.started_at))
                        .where(runs.c.source.in_(quiet))
                        .group_by(runs.c.source)
                    ).all()
                )
        return {
            row["name"]: SourceState(
                name=row["name"],
                first_run_at=_aware(firsts.get(row["name"])),
                last_new_at=row["last_new_at"],
                last_success_at=row["last_success_at"],
                consecutive_failures=row["consecutive_failures"] or 0,
                last_error=row["last_error"],
                alarm=frozenset(a for a in (row["alarm"] or "").split(",") if a),
            )
            for row in rows
        }


def _aware(value: Any) -> datetime | None:
    # func.min() loses the column type, so SQLite hands back a naive UTC datetime or a string.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if isinstance(value, datetime) else None


def _stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y%m%dT%H%M%S") if moment else "never"
