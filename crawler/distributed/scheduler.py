"""``newswatch scheduler``: enqueue each source's poll when it is due, from the store.

Any number of schedulers may run (on several machines, for availability); only the one
holding the leader lease enqueues. The lease is a PostgreSQL session advisory lock, held on
a connection of its own: the server releases it the moment that scheduler dies or loses its
connection, and another takes over within a tick. On SQLite (one machine) it is a file lock
in the data directory. A source is due ``every`` after its last run ended; a poll enqueued
and not yet run is not enqueued again until it had ``timeout`` plus a minute to run (a lost
task is then replaced). A new leader knows nothing of what the old one enqueued: a poll may
then be enqueued once more, which the task's idempotence makes harmless.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import threading
import zlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, select, text

from crawler.config import Config, SourceConfig, load_config
from crawler.distributed.app import POLL_TASK, make_app
from crawler.service.warm.worker import config_stamp
from pipelines.store.database import Store
from pipelines.store.schema import sources, utcnow

__all__ = ["Leader", "due_sources", "last_polls", "run_scheduler"]

log = logging.getLogger(__name__)

LOST_AFTER = 60.0  # seconds past a poll's timeout before an enqueued poll counts as lost
_LOCK_KEY = zlib.crc32(b"newswatch.scheduler")


def due_sources(
    wanted: Mapping[str, SourceConfig],
    last_runs: Mapping[str, datetime | None],
    enqueued: Mapping[str, datetime],
    now: datetime,
) -> list[str]:
    """Sources to enqueue now: due since their last run, and not waiting in the queue."""
    due = []
    for name, source in wanted.items():
        last = last_runs.get(name)
        queued = enqueued.get(name)
        if queued is not None and (last is None or last < queued):
            if now - queued < timedelta(seconds=source.timeout + LOST_AFTER):
                continue  # enqueued, not run yet
        elif last is not None and now - last < timedelta(seconds=source.every):
            continue
        due.append(name)
    return due


class Leader:
    """The leader lease: a PostgreSQL advisory lock, or a file lock on SQLite."""

    def __init__(self, store: Store, data_dir: Path) -> None:
        self.store = store
        self.data_dir = data_dir
        self._conn: Connection | None = None
        self._file: IO[bytes] | None = None

    def hold(self) -> bool:
        """Whether this scheduler leads now (taking the lease when it is free)."""
        if self.store.dialect == "postgresql":
            return self._hold_advisory()
        return self._hold_file()

    def _hold_advisory(self) -> bool:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                return True
            except Exception:
                log.warning("lost the database connection holding the leader lease")
                self._drop()
        try:
            conn = self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except Exception as exc:
            log.warning("cannot reach the database for the leader lease: %s", exc)
            return False
        got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _LOCK_KEY}).scalar()
        if got:
            self._conn = conn
            log.info("leading: this scheduler enqueues the polls")
            return True
        conn.close()
        return False

    def _hold_file(self) -> bool:
        if self._file is not None:
            return True
        handle = (self.data_dir / "scheduler.lock").open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        log.info("leading: this scheduler enqueues the polls")
        return True

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def release(self) -> None:
        self._drop()
        if self._file is not None:
            self._file.close()
            self._file = None


def last_polls(store: Store) -> dict[str, datetime | None]:
    """When each source was last polled; ``None`` for a poll stopped with its worker (it
    did not do its work: the source is due again)."""
    with store.begin() as conn:
        rows = conn.execute(select(sources.c.name, sources.c.last_run_at, sources.c.last_status))
        return {n: None if status == "stopped" else at for n, at, status in rows}


def run_scheduler(
    config_dir: Path, data_dir: Path, store: Store, broker: str, queue: str, tick: float = 1.0
) -> int:
    """Enqueue due polls until SIGTERM/SIGINT; the exit status."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    data_dir.mkdir(parents=True, exist_ok=True)
    app: Any = make_app(broker, queue)
    leader = Leader(store, data_dir)
    enqueued: dict[str, datetime] = {}
    config: Config | None = None
    stamp: object = None
    leading = False
    try:
        while not stop.is_set():
            try:
                now_leading = leader.hold()
                if now_leading and not leading:
                    enqueued.clear()  # what another leader enqueued is not known here
                leading = now_leading
                if leading:
                    if config is None or config_stamp(config_dir) != stamp:
                        stamp = config_stamp(config_dir)
                        config = load_config(config_dir, data_dir)
                    wanted = {s.name: s for s in config.sources if s.enabled}
                    now = utcnow()
                    for name in due_sources(wanted, last_polls(store), enqueued, now):
                        app.send_task(POLL_TASK, args=[name], queue=queue)
                        enqueued[name] = now
                        log.debug("enqueued a poll of %s", name)
            except Exception as exc:  # the broker or the database is away: try again
                log.warning("scheduling failed, retrying: %s: %s", type(exc).__name__, exc)
                stop.wait(min(10 * tick, 5.0))
            stop.wait(tick)
    finally:
        leader.release()
        with contextlib.suppress(Exception):
            app.close()
        log.info("scheduler stopped (pid %d)", os.getpid())
    return 0
