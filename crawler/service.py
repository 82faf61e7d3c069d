"""``newswatch run``: the long-running service.

One asyncio process (no Twisted: APScheduler's TwistedScheduler installs a reactor Scrapy
refuses) holding

* an APScheduler 3.x ``AsyncIOScheduler`` with one job per enabled source, at its interval
  with jitter, ``max_instances=1`` (a source never overlaps itself) and ``coalesce=True``;
  ``misfire_grace_time`` is one interval plus its jitter, so after a sleep or a stall each
  source runs exactly once, never a burst of every missed round and never not at all;
* the :class:`~crawler.supervisor.Supervisor`, which runs each round as a child process
  with a hard timeout and at most ``NEWSWATCH_MAX_CRAWLS`` children at once;
* the dispatcher (:mod:`pipelines.dispatch`) in a thread, sending due alerts continuously;
* staleness alarms (:mod:`crawler.alarms`), the optional ``/healthz`` + ``/metrics`` server
  and a state file for ``newswatch status``.

Signals: SIGTERM and SIGINT stop it gracefully (no new rounds; running ones get
``NEWSWATCH_STOP_GRACE`` seconds, then TERM, TERM, KILL; the dispatcher finishes the send in
hand; queued alerts stay in the store). SIGHUP reloads the configuration: sources are
rescheduled, channels rebuilt, and new watches apply from the next round (every round reads
the configuration afresh); queued alerts are untouched.

At start the schedule catches up from the store: a source whose interval passed while the
service was down runs soon, and overdue sources are spread over up to a minute rather than
started all at once.
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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select, text

from crawler.alarms import Alarms, Notify
from crawler.dispatch_thread import (
    DispatcherFactory,
    DispatcherThread,
    default_dispatcher,
    default_notify,
)
from crawler.health import HealthServer, parse_address
from crawler.instance import AlreadyRunning, InstanceLock, write_state
from crawler.logs import add_secrets, log_context, secrets_from_config, setup_logging
from crawler.metrics import Metrics
from crawler.schedule import first_runs, misfire_grace, trigger_for
from crawler.status import channel_counts
from crawler.supervisor import CommandFactory, CrawlOutcome, Supervisor, crawl_command
from pipelines.errors import ConfigError, StoreError
from pipelines.schema import sources, utcnow
from pipelines.store import Store

if TYPE_CHECKING:
    from crawler.config import Config, SourceConfig

__all__ = ["Service", "ServiceOptions", "run_service"]

log = logging.getLogger(__name__)

JOB_PREFIX = "crawl:"
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
        return cls(http=http, max_parallel=max_parallel, stop_grace=stop_grace)


def run_service(
    config_dir: Path,
    data_dir: Path,
    *,
    http: str | None = None,
    log_format: str = "text",
    verbosity: int = 0,
) -> int:
    """Run until SIGTERM/SIGINT; the exit status (0 stopped cleanly, 1 failure, 2 bad config)."""
    setup_logging(verbosity, log_format, log_file=data_dir / "logs" / "newswatch.log")
    try:
        options = ServiceOptions.from_env(http=http)
        if http is not None:
            parse_address(http)
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    lock = InstanceLock(data_dir)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        log.error("%s", exc)
        return 1
    try:
        return _run_locked(config_dir, data_dir, options, verbosity)
    finally:
        lock.release()


def _run_locked(config_dir: Path, data_dir: Path, options: ServiceOptions, verbosity: int) -> int:
    from crawler.config import load_config

    def loader() -> Config:
        return load_config(config_dir, data_dir)

    try:
        config = loader()
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("%s", problem.render())
        log.error("not starting: fix the configuration (newswatch check-config shows it)")
        return 2
    for warning in config.warnings:
        log.warning("%s", warning.render())
    add_secrets(secrets_from_config(config_dir))
    try:
        store = Store.for_data_dir(data_dir)
        store.migrate()
    except StoreError as exc:
        log.error("%s", exc)
        return 1
    try:
        service = Service(
            config,
            store,
            loader=loader,
            command=crawl_command(config_dir, data_dir, verbosity=verbosity),
            options=options,
            notify=default_notify(),
        )
        return asyncio.run(service.run())
    finally:
        store.close()


class Service:
    """The scheduler, the crawl supervisor, the dispatcher and the health server together."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        loader: Callable[[], Config],
        command: CommandFactory,
        options: ServiceOptions | None = None,
        dispatcher: DispatcherFactory | None = default_dispatcher,
        notify: Notify | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.loader = loader
        self.options = options or ServiceOptions()
        self.supervisor = Supervisor(
            store,
            command,
            max_parallel=self.options.max_parallel,
            term_wait=self.options.term_wait,
            kill_wait=self.options.kill_wait,
        )
        self.metrics = Metrics(store, channel_counts)
        self.alarms = Alarms(store, notify)
        self._dispatcher_factory = dispatcher
        self.dispatcher: DispatcherThread | None = None
        self.http: HealthServer | None = None
        self.scheduler: AsyncIOScheduler | None = None
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
                self.http = HealthServer(self.options.http, self.metrics.registry, self._checks())
                try:
                    self.http.start()
                except OSError as exc:
                    log.error("cannot serve --http %s: %s", self.options.http, exc.strerror)
                    self.http = None
                    return 1
                log.info("serving %s/healthz and %s/metrics", self.http.url, self.http.url)
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
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES)
        logging.getLogger("apscheduler.scheduler").addFilter(_SKIP_NOISE)
        self._apply_sources(self.config, catch_up=True)
        self.scheduler.add_job(
            self._alarm_job,
            IntervalTrigger(seconds=self.options.alarm_every),
            id="alarms",
            name="staleness alarms",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(self.options.alarm_every) + 1,
        )
        self.scheduler.add_job(
            self._housekeeping_job,
            IntervalTrigger(hours=24, jitter=600),
            id="housekeeping",
            name="prune old run records",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
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
        logging.getLogger("apscheduler.scheduler").removeFilter(_SKIP_NOISE)
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
        scheduler = self.scheduler
        assert scheduler is not None
        wanted = {s.name: s for s in config.sources if s.enabled}
        for job in scheduler.get_jobs():
            name = job.id.removeprefix(JOB_PREFIX)
            if job.id.startswith(JOB_PREFIX) and name not in wanted:
                job.remove()
                log.info("source %s is no longer scheduled", name, extra={"source": name})
        first = self._first_runs(wanted, catch_up)
        for name, src in wanted.items():
            job_id = JOB_PREFIX + name
            old = self._sources.get(name)
            if scheduler.get_job(job_id) is None:
                scheduler.add_job(
                    self._crawl_job,
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
        self._sources = wanted

    def _first_runs(
        self, wanted: Mapping[str, SourceConfig], catch_up: bool
    ) -> dict[str, datetime]:
        last: dict[str, datetime | None] = {}
        if catch_up:
            with self.store.begin() as conn:
                rows = conn.execute(select(sources.c.name, sources.c.last_run_at)).all()
            last = {name: at for name, at in rows}
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

    def _on_skipped(self, event: JobEvent) -> None:
        if event.job_id.startswith(JOB_PREFIX):
            name = event.job_id.removeprefix(JOB_PREFIX)
            log.info("round skipped: the previous one is still running", extra={"source": name})

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
        found: dict[str, str] = {}
        if self.scheduler is None:
            return found
        for job in self.scheduler.get_jobs():
            when = getattr(job, "next_run_time", None)
            if job.id.startswith(JOB_PREFIX) and when is not None:
                found[job.id.removeprefix(JOB_PREFIX)] = when.isoformat()
        return found

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


class _SkipFilter(logging.Filter):
    """Drops APScheduler's "maximum number of running instances" warning: a skipped round
    is how ``max_instances=1`` works, and :meth:`Service._on_skipped` says it with the
    source in context."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in record.getMessage()


_SKIP_NOISE = _SkipFilter()


def _log_outcome(outcome: CrawlOutcome) -> None:
    if outcome.ok:
        log.info(
            "crawl ok: %d new articles, %d alerts, %d requests, %d pages in %.1f s",
            outcome.new_articles,
            outcome.alerts,
            outcome.requests,
            outcome.fetched,
            outcome.duration,
        )
    else:
        log.warning("crawl %s after %.1f s: %s", outcome.status, outcome.duration, outcome.error)
