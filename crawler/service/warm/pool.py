"""The service's side of the warm crawl workers: a pool with the supervisor's interface
(``crawl(source, timeout)``, ``running``, ``stop(grace)``), so the scheduler does not care
whether a poll runs in a fresh child or in a warm worker.

What per-poll children gave, and how the pool keeps it:

* a hung poll is stopped at its timeout by the worker itself, without touching the other
  polls there; a worker that does not answer by the timeout plus ``kill_margin`` is wedged
  and is killed (its whole process group), that poll is recorded as ``timeout``;
* a worker that dies (a crash, ``kill -9``, the kernel's OOM killer) is replaced and its
  unfinished polls run again, once each: a poll that takes a second worker down with it is
  recorded as ``crashed``, so one poisonous page cannot kill workers forever;
* a worker is recycled — it takes no new poll, finishes the ones it has and exits — after
  ``max_polls`` polls or above ``max_memory_mb`` of resident memory (like Celery's
  max-tasks-per-child and max-memory-per-child), or when a crawler in it failed to stop;
* a run is always recorded: by the worker when the poll ends, by the pool when the worker
  died or was killed first;
* a poll still running when the pool stops (the service is stopping) is ``stopped``, not a
  failure, whether its worker stopped it or the pool had to kill the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import re
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.service.logs import log_context, redact
from crawler.service.supervisor import (
    _PROJECT_ROOT,
    STOPPING,
    CrawlOutcome,
    _read_lines,
    _signal_group,
    _signal_name,
    record_run,
)
from pipelines.store.database import Store
from pipelines.store.schema import utcnow

__all__ = ["PoolOptions", "WarmPool", "WorkerCommand", "worker_command"]

log = logging.getLogger(__name__)
worker_log = logging.getLogger("crawler.worker")

WorkerCommand = Callable[[], Sequence[str]]
"""Builds the command line of one warm worker (the seam tests replace)."""

_READY_SECONDS = 60.0  # a worker that has not said "ready" by then failed to start
_EXIT_SECONDS = 30.0  # a recycled worker that has not exited by then is killed
_STDERR_TAIL = 20
_SUMMARY_STATUSES = ("ok", "degraded", "failed", "timeout", "stopped")  # what a worker may say


def worker_command(config_dir: Path, data_dir: Path, *, verbosity: int = 0) -> WorkerCommand:
    """The real worker: ``python -m crawler.service.warm.worker --config C --data D``."""
    flags = ["-v"] * verbosity if verbosity > 0 else ["-q"] if verbosity < 0 else []

    def build() -> list[str]:
        return [
            sys.executable, "-m", "crawler.service.warm.worker",
            "--config", str(config_dir), "--data", str(data_dir), *flags,
        ]  # fmt: skip

    return build


@dataclass(frozen=True)
class PoolOptions:
    """Sizes and limits of the pool; :meth:`from_env` reads the ``NEWSWATCH_*`` overrides."""

    workers: int = 2
    polls_per_worker: int = 64
    max_polls: int = 2000
    max_memory_mb: int = 512
    kill_margin: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PoolOptions:
        source = os.environ if env is None else env
        names = {
            "workers": "NEWSWATCH_CRAWL_WORKERS",
            "polls_per_worker": "NEWSWATCH_WORKER_POLLS",
            "max_polls": "NEWSWATCH_WORKER_MAX_POLLS",
            "max_memory_mb": "NEWSWATCH_WORKER_MAX_MEMORY",
        }
        values: dict[str, int] = {"workers": os.cpu_count() or 2}
        for key, var in names.items():
            raw = source.get(var)
            if raw is None:
                continue
            try:
                values[key] = int(raw)
                if values[key] < 1:
                    raise ValueError
            except ValueError:
                raise ValueError(
                    f"{var} must be a whole number of at least 1, not {raw!r}"
                ) from None
        return cls(**values)


@dataclass
class _Poll:
    id: int
    source: str
    launched: datetime
    answer: asyncio.Future[dict[str, Any] | None]


@dataclass
class _Worker:
    proc: asyncio.subprocess.Process
    pending: dict[int, _Poll] = field(default_factory=dict)
    ready: asyncio.Future[None] | None = None
    draining: bool = False
    dead: bool = False
    polls: int = 0
    kill_reason: str | None = None
    stopped: bool = False  # stopped by the pool's stop(): its unanswered polls are "stopped"
    stderr: deque[str] = field(default_factory=lambda: deque(maxlen=_STDERR_TAIL))
    readers: asyncio.Future[Any] | None = None


class WarmPool:
    """Spreads polls over at most ``options.workers`` warm worker processes."""

    def __init__(
        self,
        store: Store,
        command: WorkerCommand,
        options: PoolOptions | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.command = command
        self.options = options or PoolOptions()
        opts = self.options
        self._slots = asyncio.Semaphore(max(1, opts.workers * opts.polls_per_worker))
        self._workers: list[_Worker] = []
        self._starting = asyncio.Lock()
        self._ids = itertools.count(1)
        self._active = 0
        self._stopping = False
        self.started = 0  # worker processes started so far (a figure for /metrics and tests)
        merged = dict(os.environ if env is None else env)
        path = merged.get("PYTHONPATH", "")
        merged["PYTHONPATH"] = os.pathsep.join([str(_PROJECT_ROOT), *([path] if path else [])])
        self._env = merged

    @property
    def running(self) -> list[str]:
        """Sources with a poll in a worker now."""
        return sorted(p.source for w in self._workers for p in w.pending.values())

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the live workers."""
        return [w.proc.pid for w in self._workers if not w.dead]

    async def crawl(self, source: str, timeout: float) -> CrawlOutcome | None:
        """One poll of ``source``; ``None`` when the pool is stopping and it never began."""
        async with self._slots:
            if self._stopping:
                return None
            self._active += 1
            try:
                with log_context(source=source):
                    for attempt in (1, 2):
                        outcome = await self._attempt(source, timeout, last=attempt == 2)
                        if outcome is not None:
                            return outcome
                        if self._stopping:
                            return None
                        log.warning("the crawl worker died during the poll; running it again")
                return None  # not reached: the last attempt always has an outcome
            finally:
                self._active -= 1

    async def _attempt(self, source: str, timeout: float, *, last: bool) -> CrawlOutcome | None:
        started = time.monotonic()
        launched = utcnow()
        try:
            worker = await self._pick()
        except OSError as exc:
            outcome = CrawlOutcome(source, "crashed", time.monotonic() - started,
                                   error=f"cannot start a crawl worker: {exc}",
                                   recorded_by="service")  # fmt: skip
            await asyncio.to_thread(record_run, self.store, outcome, launched, [])
            return outcome
        poll = _Poll(next(self._ids), source, launched, asyncio.get_running_loop().create_future())
        worker.pending[poll.id] = poll
        order = {"op": "poll", "id": poll.id, "source": source, "timeout": timeout}
        hung = False
        try:
            await self._send(worker, order)
            answer = await asyncio.wait_for(
                asyncio.shield(poll.answer), timeout + self.options.kill_margin
            )
        except TimeoutError:
            hung = True
            worker.kill_reason = f"crawl worker killed: the poll of {source} in it hung"
            await self._kill(worker)
            answer = None
        except (ConnectionError, OSError):
            # The worker is gone: its reader settles every poll it had (at once if it did).
            answer = None if worker.dead else await poll.answer
        finally:
            worker.pending.pop(poll.id, None)
            self._maybe_retire(worker)
        duration = time.monotonic() - started
        tail = list(worker.stderr)[-5:]
        if answer is not None:
            return self._judge(source, answer, duration, worker)
        if hung:
            outcome = CrawlOutcome(
                source, "timeout", duration, recorded_by="service",
                error=f"no result after the {timeout:g} s timeout; its crawl worker was killed",
            )  # fmt: skip
            await asyncio.to_thread(record_run, self.store, outcome, launched, tail)
            return outcome
        rc = worker.proc.returncode
        how = f"killed by {_signal_name(-rc)}" if rc is not None and rc < 0 else f"status {rc}"
        reason = worker.kill_reason or f"crawl worker died ({how})"
        last_line = next((x for x in reversed(worker.stderr) if x.strip()), "")
        if last_line and not worker.kill_reason:
            reason += f": {last_line.strip()[:300]}"
        again = not last and not self._stopping
        outcome = CrawlOutcome(
            source, "stopped" if worker.stopped else "crashed", duration, exit_status=rc,
            recorded_by="service", error=redact(reason + ("; runs again" if again else "")),
        )  # fmt: skip
        await asyncio.to_thread(record_run, self.store, outcome, launched, tail)
        return None if again else outcome

    def _judge(
        self, source: str, answer: dict[str, Any], duration: float, worker: _Worker
    ) -> CrawlOutcome:
        summary = answer.get("summary") or {}
        worker.polls = int(answer.get("polls") or worker.polls)
        rss_mb = int(answer.get("rss") or 0) / 1_048_576
        why = None
        if answer.get("stuck"):
            why = "a crawler in it did not stop"
        elif worker.polls >= self.options.max_polls:
            why = f"{worker.polls} polls done"
        elif rss_mb > self.options.max_memory_mb:
            why = f"{rss_mb:.0f} MB resident, above {self.options.max_memory_mb} MB"
        if why and not worker.draining:
            log.info("recycling crawl worker %d: %s", worker.proc.pid, why)
            worker.draining = True
        status = str(summary.get("status") or "failed")
        error = summary.get("error")

        def num(key: str) -> int:
            value = summary.get(key)
            return int(value) if isinstance(value, int | float) else 0

        return CrawlOutcome(
            source=source,
            status=status if status in _SUMMARY_STATUSES else "failed",
            duration=duration, new_articles=num("new_articles"), alerts=num("alerts"),
            requests=num("requests"), fetched=num("fetched"), errors=num("errors"),
            nbytes=num("bytes"), error=redact(str(error)) if error else None,
        )  # fmt: skip

    # -- workers ------------------------------------------------------------------------

    async def _pick(self) -> _Worker:
        """The least busy live worker; a new one while there are fewer than asked and all
        the live ones are busy."""
        async with self._starting:
            live = [w for w in self._workers if not w.dead and not w.draining]
            best = min(live, key=lambda w: len(w.pending), default=None)
            if best is None or (best.pending and len(live) < self.options.workers):
                return await self._start()
            return best

    async def _start(self) -> _Worker:
        argv = list(self.command())
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            env=self._env,
        )
        worker = _Worker(proc, ready=asyncio.get_running_loop().create_future())
        self.started += 1
        self._workers.append(worker)
        worker.readers = asyncio.ensure_future(self._read(worker))
        try:
            await asyncio.wait_for(asyncio.shield(worker.ready), _READY_SECONDS)  # type: ignore[arg-type]
        except (TimeoutError, ConnectionError) as exc:
            worker.kill_reason = "the crawl worker did not start"
            await self._kill(worker)
            tail = " | ".join(list(worker.stderr)[-3:])
            raise OSError(f"the crawl worker did not start: {tail or exc}") from None
        log.debug("crawl worker %d started", proc.pid)
        return worker

    async def _send(self, worker: _Worker, message: dict[str, Any]) -> None:
        stdin = worker.proc.stdin
        if stdin is None or worker.dead:
            raise ConnectionError("the crawl worker is gone")
        stdin.write((json.dumps(message, ensure_ascii=False) + "\n").encode())
        await stdin.drain()

    async def _read(self, worker: _Worker) -> None:
        def answer(line: str) -> None:
            try:
                message = json.loads(line)
            except ValueError:
                worker_log.warning("unreadable line from crawl worker %d: %s", worker.proc.pid,
                                   line[:200])  # fmt: skip
                return
            if message.get("op") == "ready" and worker.ready and not worker.ready.done():
                worker.ready.set_result(None)
            elif message.get("op") == "done":
                poll = worker.pending.get(message.get("id"))
                if poll is not None and not poll.answer.done():
                    poll.answer.set_result(message)

        await asyncio.gather(
            _read_lines(worker.proc.stdout, answer),
            _read_lines(worker.proc.stderr, lambda line: _relay(worker, line)),
        )
        await worker.proc.wait()
        worker.dead = True
        if worker in self._workers:
            self._workers.remove(worker)
        if worker.ready is not None and not worker.ready.done():
            worker.ready.set_exception(ConnectionError("the crawl worker exited"))
        rc = worker.proc.returncode
        if worker.pending:
            log.warning("crawl worker %d died (%s) with %d polls running", worker.proc.pid,
                        _signal_name(-rc) if rc is not None and rc < 0 else f"status {rc}",
                        len(worker.pending))  # fmt: skip
        for poll in list(worker.pending.values()):
            if not poll.answer.done():
                poll.answer.set_result(None)

    def _maybe_retire(self, worker: _Worker) -> None:
        if worker.draining and not worker.pending and not worker.dead:
            task = asyncio.ensure_future(self._retire(worker))
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _retire(self, worker: _Worker) -> None:
        """End input: the worker finishes (nothing is pending) and exits; killed if it hangs."""
        stdin = worker.proc.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
        try:
            await asyncio.wait_for(worker.proc.wait(), _EXIT_SECONDS)
        except TimeoutError:
            await self._kill(worker)

    async def _kill(self, worker: _Worker) -> None:
        _signal_group(worker.proc.pid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(worker.proc.wait(), 10.0)
        if worker.readers is not None:
            with contextlib.suppress(Exception, TimeoutError):
                await asyncio.wait_for(asyncio.shield(worker.readers), 5.0)

    async def stop(self, grace: float) -> None:
        """Start no new poll; give running ones ``grace`` seconds, then stop the workers."""
        self._stopping = True
        deadline = time.monotonic() + grace
        while any(w.pending for w in self._workers) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        workers = [w for w in self._workers if not w.dead]
        for worker in workers:
            worker.stopped = True
            if worker.pending:
                worker.kill_reason = f"{STOPPING}; killed after the {grace:g} s grace period"
            with contextlib.suppress(ConnectionError, OSError):
                await self._send(worker, {"op": "stop"})
            if worker.proc.stdin is not None:
                worker.proc.stdin.close()
        # Stopped polls end within a few seconds (the worker records them); then kill.
        end = time.monotonic() + 5.0
        while any(not w.dead for w in workers) and time.monotonic() < end:
            await asyncio.sleep(0.05)
        await asyncio.gather(*(self._kill(w) for w in workers if not w.dead))
        while self._active:
            await asyncio.sleep(0.05)


_WORKER_LINE = re.compile(
    r"^\S+\s+(DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+(\S+)\s+(?:\[source=([^\]\s]+)[^\]]*\]\s+)?(.*)$"
)


def _relay(worker: _Worker, line: str) -> None:
    """A worker's warnings and errors at their level, with their source; the rest at DEBUG."""
    worker.stderr.append(line)
    found = _WORKER_LINE.match(line)
    level, text, extra = logging.DEBUG, line, {}
    if found:
        if found.group(1) in ("WARNING", "ERROR", "CRITICAL"):
            level = logging.WARNING if found.group(1) == "WARNING" else logging.ERROR
        text = f"{found.group(2)}: {found.group(4)}"
        if found.group(3):
            extra["source"] = found.group(3)
    worker_log.log(level, "%s", text, extra=extra)
