"""``newswatch worker``: Celery's threads hand each poll task to this machine's warm crawl
workers (:class:`~crawler.service.warm.pool.WarmPool`) and wait for its outcome.

The task is idempotent: a source polled less than half an interval ago is not polled again
(a task redelivered after a crash, or enqueued twice across a change of scheduler, costs
nothing), and everything a poll does is recorded in the store under its unique keys.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from crawler.config import Config, load_config
from crawler.service.supervisor import CrawlOutcome
from crawler.service.warm.pool import PoolOptions, WarmPool, worker_command
from crawler.service.warm.worker import config_stamp
from pipelines.store.database import Store
from pipelines.store.schema import sources, utcnow

__all__ = ["PollRunner", "polled_recently"]

log = logging.getLogger(__name__)


class PollRunner:
    """The warm pool of one ``newswatch worker`` process, on an event loop in its own thread."""

    def __init__(
        self,
        config_dir: Path,
        data_dir: Path,
        store: Store,
        options: PoolOptions,
        *,
        verbosity: int = 0,
    ) -> None:
        self.config_dir = config_dir
        self.data_dir = data_dir
        self.store = store
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="warm-pool", daemon=True)
        self._thread.start()
        command = worker_command(config_dir, data_dir, verbosity=verbosity)

        async def build() -> WarmPool:
            return WarmPool(store, command, options)

        self.pool = asyncio.run_coroutine_threadsafe(build(), self.loop).result()
        self._lock = threading.Lock()
        self._config: Config | None = None
        self._stamp: object = None

    def config(self) -> Config:
        """The configuration as its files are now (read again when one changed)."""
        with self._lock:
            stamp = config_stamp(self.config_dir)
            if self._config is None or stamp != self._stamp:
                self._config = load_config(self.config_dir, self.data_dir)
                self._stamp = stamp
            return self._config

    def poll(self, name: str) -> CrawlOutcome | None:
        """Run one poll of ``name`` (the task); ``None`` when there was nothing to do."""
        try:
            source = self.config().source(name)
        except KeyError:
            log.warning("poll of %s dropped: no such source in the configuration", name)
            return None
        if self._polled_recently(name, source.every / 2):
            log.info("poll of %s skipped: it was polled less than half an interval ago", name)
            return None
        future = asyncio.run_coroutine_threadsafe(self.pool.crawl(name, source.timeout), self.loop)
        outcome = future.result()
        if outcome is not None:
            log.info("poll of %s: %s, %d new articles, %d alerts", name, outcome.status,
                     outcome.new_articles, outcome.alerts)  # fmt: skip
        return outcome

    def _polled_recently(self, name: str, seconds: float) -> bool:
        return polled_recently(self.store, name, seconds)

    def stop(self, grace: float) -> None:
        """Stop the warm workers (running polls get ``grace`` seconds), then the loop."""
        asyncio.run_coroutine_threadsafe(self.pool.stop(grace), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


def polled_recently(store: Store, name: str, seconds: float) -> bool:
    """Whether ``name`` was polled within ``seconds`` -- a poll stopped with its worker does
    not count: the task redelivered after a worker's stop must run."""
    with store.begin() as conn:
        row = conn.execute(
            select(sources.c.last_run_at, sources.c.last_status).where(sources.c.name == name)
        ).first()
    if row is None or row.last_run_at is None or row.last_status == "stopped":
        return False
    return bool(row.last_run_at > utcnow() - timedelta(seconds=seconds))
