"""The long-running service (``newswatch run``) once started: one asyncio process holding

* the APScheduler 3.x ``AsyncIOScheduler`` with one job per enabled source
  (:class:`~crawler.service.schedule.SourceJobs`) plus the alarm and housekeeping jobs
  (no Twisted here: APScheduler's TwistedScheduler installs a reactor Scrapy refuses);
* the :class:`~crawler.service.warm.pool.WarmPool` running the polls in warm crawl workers
  (or, with ``NEWSWATCH_CRAWL_WORKERS=0``, the :class:`~crawler.service.supervisor.Supervisor`
  running each in a child process, at most ``NEWSWATCH_MAX_CRAWLS`` at once);
* the dispatcher (:mod:`pipelines.deliver.dispatch`) in a thread, sending due alerts;
* staleness alarms (:mod:`crawler.service.alarms`), the optional ``/healthz`` + ``/metrics``
  server and a state file for ``newswatch status``.

Start-up (lock, configuration, store) is :mod:`crawler.service.main`. Signals: SIGTERM and
SIGINT stop it gracefully (no new rounds; running ones get ``NEWSWATCH_STOP_GRACE`` seconds,
then are stopped and recorded as ``stopped``, no failure, to be polled first at the next start;
the dispatcher finishes the send in hand; queued alerts stay in the store). SIGHUP reloads the
configuration: sources are rescheduled, channels rebuilt, and new watches apply from the next
round (every round reads the configuration afresh); queued alerts are untouched.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy import select, text

from crawler.service.alarms import Alarms, Notify
from crawler.service.dispatch_thread import (
    DispatcherFactory,
    DispatcherThread,
    default_dispatcher,
)
from crawler.service.instance import write_state
from crawler.service.logs import add_secrets, log_context, redact, secrets_from_config
from crawler.service.metrics import Metrics
from crawler.service.schedule import SourceJobs, add_chores, first_runs
from crawler.service.status import channel_counts
from crawler.service.supervisor import CommandFactory, CrawlOutcome, Supervisor
from crawler.service.warm.pool import WarmPool
from crawler.web.app import web_server
from crawler.web.context import token_from_env
from crawler.web.server import WebServer
from pipelines.errors import ConfigError
from pipelines.store.backfill import note_watch_changes
from pipelines.store.database import Store
from pipelines.store.schema import sources, utcnow

if TYPE_CHECKING:
    from crawler.config import Config, SourceConfig

__all__ = ["Service", "ServiceOptions"]

log = logging.getLogger(__name__)

HISTORY_DAYS = 90  # run records and send attempts older than this are pruned daily
HEARTBEAT_SECONDS = 1.0
# /healthz fails when the event loop has not ticked for this long (a wedged service).
HEARTBEAT_STALE = 15.0


@dataclass(frozen=True)
class ServiceOptions:
    """Knobs of the service; :meth:`from_env` reads the ``NEWSWATCH_*`` overrides."""

    http: str | None = None
    max_parallel: int = 2
    stop_grace: float = 3.0
    term_wait: float = 1.0
    kill_wait: float = 3.0
    alarm_every: float = 60.0
    dispatch_poll: float = 1.0
    web_token: str | None = None

    @classmethod
    def from_env(
        cls, http: str | None = None, env: Mapping[str, str] | None = None
    ) -> ServiceOptions:
        source = os.environ if env is None else env
        try:
            max_parallel = int(source.get("NEWSWATCH_MAX_CRAWLS", cls.max_parallel))
            stop_grace = float(source.get("NEWSWATCH_STOP_GRACE", cls.stop_grace))
        except ValueError as exc:
            raise ValueError(
                f"NEWSWATCH_MAX_CRAWLS must be a whole number and NEWSWATCH_STOP_GRACE a "
                f"number of seconds ({exc})"
            ) from None
        token = token_from_env(source)
        return cls(http=http, max_parallel=max_parallel, stop_grace=stop_grace, web_token=token)


class Service:
    """The scheduler, the crawl supervisor, the dispatcher and the health server together."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        loader: Callable[[], Config],
        command: CommandFactory | None = None,
        pool: WarmPool | None = None,
        options: ServiceOptions | None = None,
        dispatcher: DispatcherFactory | None = default_dispatcher,
        notify: Notify | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.loader = loader
        self.options = options or ServiceOptions()
        opts = self.options  # polls run in warm workers, or each in a child (the supervisor)
        self.supervisor: WarmPool | Supervisor = pool or Supervisor(
            store, command, max_parallel=opts.max_parallel,  # type: ignore[arg-type]
            term_wait=opts.term_wait, kill_wait=opts.kill_wait)  # fmt: skip
        self.metrics = Metrics(store, channel_counts)
        self.alarms = Alarms(store, notify)
        self._dispatcher_factory = dispatcher
        self.dispatcher: DispatcherThread | None = None
        self.http: WebServer | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.jobs: SourceJobs | None = None
        self.started_at = utcnow()
        self.heartbeat = time.monotonic()
        self.rounds = 0
        self._stop: asyncio.Event | None = None
        self._sources: dict[str, SourceConfig] = {}
        self._jobs = 0
        self._last_state: dict[str, Any] | None = None
        self._tasks: set[asyncio.Future[bool]] = set()
        self._reloading = asyncio.Lock()

    # -- life cycle ---------------------------------------------------------------------

    async def run(self) -> int:
        """Serve until :meth:`request_stop` (SIGTERM/SIGINT); the exit status (0, or 1 when
        the health endpoint cannot listen)."""
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        try:
            if self.options.http:
                # First, so a busy port fails the start before anything else runs.
                try:
                    self.http = web_server(
                        self.options.http,
                        self.store,
                        lambda: self.config,  # swapped on SIGHUP: pages read the current one
                        registry=self.metrics.registry,
                        checks=self._checks(),
                        token=self.options.web_token,
                        redact=redact,
                    )
                    self.http.start()
                except OSError as exc:
                    log.error("cannot serve --http %s: %s", self.options.http, exc.strerror)
                    self.http = None
                    return 1
                log.info("serving %s/ (pages, /api/v1, /healthz, /metrics)", self.http.url)
            self._start()
            heartbeat = asyncio.ensure_future(self._heartbeat())
            await self._stop.wait()
            heartbeat.cancel()
            await self._shutdown()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
        return 0

    def request_stop(self) -> None:
        if self._stop is not None and not self._stop.is_set():
            log.info(
                "stop requested: finishing running crawls (grace %g s)", self.options.stop_grace
            )
            self._stop.set()

    def request_reload(self) -> None:
        log.info("reload requested (SIGHUP)")
        task = asyncio.ensure_future(self.reload())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _start(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.jobs = SourceJobs(self.scheduler, self._crawl_job)
        self._apply_sources(self.config, catch_up=True)
        note_watch_changes(self.store, self.config.watches)
        add_chores(
            self.scheduler, self._alarm_job, self._housekeeping_job, self.options.alarm_every
        )
        self.scheduler.start()
        self._init_failure_gauges()
        self._start_dispatcher()
        self._write_state()
        log.info(
            "service started: %d sources, %d watches, channels: %s; ops: %s",
            len(self._sources),
            len(self.config.watches),
            ", ".join(self.config.channels) or "none",
            ", ".join(self._ops()) or "none",
        )

    async def _shutdown(self) -> None:
        assert self.scheduler is not None
        self.scheduler.pause()
        await self.supervisor.stop(self.options.stop_grace)
        deadline = time.monotonic() + 5.0
        while self._jobs and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.scheduler.shutdown(wait=False)
        if self.jobs is not None:
            self.jobs.close()
        await asyncio.sleep(0)  # AsyncIOScheduler.shutdown runs on the next loop turn
        if self.dispatcher is not None:
            stopped = await asyncio.to_thread(self.dispatcher.stop, 10.0)
            if not stopped:
                log.warning("dispatcher still sending; its lease makes the delivery retry later")
        if self.http is not None:
            self.http.close()
        log.info("service stopped after %d rounds", self.rounds)

    def _start_dispatcher(self) -> None:
        factory = self._dispatcher_factory
        if factory is None:
            return
        config = self.config
        try:
            factory(self.store, config)  # fail here, once, with a clear line
        except ImportError as exc:
            log.warning("dispatcher not available (%s): alerts stay queued", exc)
            return
        self.dispatcher = DispatcherThread(
            lambda: factory(self.store, config), self.options.dispatch_poll
        )
        self.dispatcher.start()

    # -- configuration --------------------------------------------------------------------

    async def reload(self) -> bool:
        """Load the configuration again; on errors keep the running one."""
        async with self._reloading:
            if self._stop is not None and self._stop.is_set():
                return False
            return await self._reload()

    async def _reload(self) -> bool:
        try:
            config = await asyncio.to_thread(self.loader)
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("%s", problem.render())
            log.error("configuration NOT reloaded (%d problems); still running the old one",
                      len(exc.problems))  # fmt: skip
            return False
        except Exception:
            log.exception("configuration NOT reloaded; still running the old one")
            return False
        for warning in config.warnings:
            log.warning("%s", warning.render())
        add_secrets(secrets_from_config(config.config_dir))
        self.config = config
        self._apply_sources(config, catch_up=False)
        await asyncio.to_thread(note_watch_changes, self.store, config.watches)
        if self.dispatcher is not None:
            await asyncio.to_thread(self.dispatcher.stop, 30.0)
            self.dispatcher = None
        self._start_dispatcher()
        self._write_state()
        log.info(
            "configuration reloaded: %d sources, %d watches, %d channels",
            len(self._sources),
            len(config.watches),
            len(config.channels),
        )
        return True

    def _ops(self) -> list[str]:
        # Disabled ops channels too: like alerts, a notice waits until its channel is set up.
        return list(self.config.ops)

    def _apply_sources(self, config: Config, *, catch_up: bool) -> None:
        assert self.jobs is not None
        wanted = {s.name: s for s in config.sources if s.enabled}
        self.jobs.apply(wanted, self._first_runs(wanted, catch_up), previous=self._sources)
        self._sources = wanted

    def _first_runs(
        self, wanted: Mapping[str, SourceConfig], catch_up: bool
    ) -> dict[str, datetime]:
        last: dict[str, datetime | None] = {}
        if catch_up:
            with self.store.begin() as conn:
                rows = conn.execute(select(sources)).mappings().all()
            # A poll stopped with the service is due at once: it did not do its work.
            last = {r["name"]: r["last_run_at"] for r in rows if r["last_status"] != "stopped"}
        return first_runs(wanted, last, utcnow())

    # -- jobs -----------------------------------------------------------------------------

    async def _crawl_job(self, name: str) -> None:
        src = self._sources.get(name)
        if src is None:
            return
        self._jobs += 1
        try:
            with log_context(source=name):
                outcome = await self.supervisor.crawl(name, src.timeout)
                if outcome is None:
                    return
                self.rounds += 1
                self.metrics.observe(outcome)
                _log_outcome(outcome)
                await asyncio.to_thread(self.alarms.check, [src], self._ops())
        except Exception:
            log.exception("round of %s could not be completed", name, extra={"source": name})
        finally:
            self._jobs -= 1
            self._write_state()

    async def _alarm_job(self) -> None:
        try:
            await asyncio.to_thread(self.alarms.check, list(self._sources.values()), self._ops())
        except Exception:
            log.exception("staleness check failed")

    async def _housekeeping_job(self) -> None:
        # Months unattended: run records and send attempts must not grow without bound.
        try:
            removed = await asyncio.to_thread(self.store.prune_history, HISTORY_DAYS)
            log.info("pruned history older than %d days: %s", HISTORY_DAYS, removed)
            keep = {s.name: s.keep for s in self.config.sources if s.keep > 0}
            if keep:
                articles = await asyncio.to_thread(self.store.prune_articles, keep)
                log.info("pruned %d articles past their sources' keep", articles)
        except Exception:
            log.exception("pruning old history failed")

    async def _heartbeat(self) -> None:
        beats = 0
        while True:
            self.heartbeat = time.monotonic()
            self.metrics.running.set(len(self.supervisor.running))
            running = self.scheduler is not None and self.scheduler.state == STATE_RUNNING
            self.metrics.scheduler_up.set(1 if running else 0)
            beats += 1
            if beats % 5 == 0:
                self._write_state()
            await asyncio.sleep(HEARTBEAT_SECONDS)

    def _init_failure_gauges(self) -> None:
        with self.store.begin() as conn:
            rows = conn.execute(select(sources.c.name, sources.c.consecutive_failures)).all()
        for name, failures in rows:
            if name in self._sources:
                self.metrics.failures.labels(name).set(failures or 0)

    # -- health and state -----------------------------------------------------------------

    def _checks(self) -> dict[str, Callable[[], str | None]]:
        def scheduler() -> str | None:
            if self.scheduler is None or self.scheduler.state != STATE_RUNNING:
                return "scheduler is not running"
            age = time.monotonic() - self.heartbeat
            return f"event loop stalled for {age:.0f} s" if age > HEARTBEAT_STALE else None

        def store() -> str | None:
            with self.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return None

        def dispatcher() -> str | None:
            if self.dispatcher is not None and not self.dispatcher.alive:
                return "dispatcher thread is not running"
            return None

        return {"scheduler": scheduler, "store": store, "dispatcher": dispatcher}

    def next_runs(self) -> dict[str, str]:
        """Next run time of every scheduled source (ISO 8601 UTC)."""
        return self.jobs.next_runs() if self.jobs is not None else {}

    def _write_state(self) -> None:
        state: dict[str, Any] = {
            "pid": os.getpid(),
            "started_at": self.started_at.isoformat(),
            "http": self.http.url if self.http is not None else None,
            "next_runs": self.next_runs(),
            "running": self.supervisor.running,
            "rounds": self.rounds,
        }
        if state == self._last_state:
            return
        try:
            write_state(self.config.data_dir, state)
            self._last_state = state
        except OSError as exc:
            log.warning("cannot write the service state file: %s", exc)


def _log_outcome(outcome: CrawlOutcome) -> None:
    if outcome.ok:
        log.info("crawl ok: %d new articles, %d alerts, %d requests, %d pages in %.1f s",
                 outcome.new_articles, outcome.alerts, outcome.requests, outcome.fetched,
                 outcome.duration)  # fmt: skip
    elif outcome.stopped:  # on purpose, not a failure; _first_runs keeps the promise
        log.info("crawl stopped after %.1f s: %s; the source is polled again at the next start "
                 "(articles not stored yet are fetched then)",
                 outcome.duration, outcome.error)  # fmt: skip
    else:
        log.warning("crawl %s after %.1f s: %s", outcome.status, outcome.duration, outcome.error)
