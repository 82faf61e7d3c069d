"""The warm crawl worker process: ``python -m crawler.service.warm.worker --config C --data D``.

It installs Scrapy's asyncio reactor once and keeps it running; each poll order is one more
crawler in it, so many sources are polled side by side and none pays a process start.

The protocol is JSON lines. On stdin, from the pool: ``{"op": "poll", "id": N, "source":
NAME, "timeout": SECONDS}``; ``{"op": "stop"}`` stops every running poll at once and exits;
end of input lets the running polls finish, then exits. On stdout, to the pool: ``{"op":
"ready", "pid": P}`` once, then ``{"op": "done", "id": N, "summary": {...}, "polls": K,
"rss": BYTES, "stuck": BOOL}`` per poll (``stuck``: its crawler did not stop, the worker
should be recycled). Anything else written to the standard output (a library's stray print)
goes to stderr, so it can never break the protocol. Logs go to stderr, one line each, in the
text format the pool relays.

The configuration is read again when one of its files changes (checked before each poll),
so a new watch applies from the next poll, as with one process per poll.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import sys
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from crawler.config import Config, load_config
from crawler.crawl import CrawlSummary, _quiet_scrapy
from crawler.service.logs import add_secrets, log_context, secrets_from_config, setup_logging
from crawler.service.warm.politeness import HostGate
from crawler.service.warm.poll import PollContext, run_poll
from pipelines.errors import ConfigError
from pipelines.persist import SharedCleaners
from pipelines.store.database import Store

__all__ = ["config_stamp", "main", "resident_bytes"]

log = logging.getLogger(__name__)

REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


def resident_bytes() -> int:
    """This process's resident memory now (Linux ``/proc``; else the peak, from getrusage)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Worker:
    """Reads poll orders, runs them side by side in this process's reactor, answers each."""

    def __init__(self, config_dir: Path, data_dir: Path, out: IO[str], log_level: str) -> None:
        self.config_dir = config_dir
        self.data_dir = data_dir
        self.out = out
        self.log_level = log_level
        self.polls = 0
        self.gate = HostGate()
        self.cleaners = SharedCleaners()
        self.abort = asyncio.Event()
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._ctx: PollContext | None = None
        self._store: Store | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, message: dict[str, Any]) -> None:
        self.out.write(json.dumps(message, ensure_ascii=False) + "\n")
        self.out.flush()

    async def serve(self) -> None:
        """Until end of input (finish running polls) or a stop order (stop them now)."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 20)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        self.send({"op": "ready", "pid": os.getpid()})
        try:
            while line := await reader.readline():
                try:
                    order = json.loads(line)
                except ValueError:
                    log.error("unreadable order from the pool: %r", line[:200])
                    continue
                if order.get("op") == "stop":
                    self.abort.set()
                    break
                if order.get("op") == "poll":
                    task = asyncio.ensure_future(self._poll(order))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            while self._tasks:
                await asyncio.wait(set(self._tasks))
        finally:
            await asyncio.to_thread(self.cleaners.close)
            if self._store is not None:
                self._store.close()

    async def _poll(self, order: dict[str, Any]) -> None:
        name = str(order.get("source"))
        stuck = False
        with log_context(source=name):
            try:
                ctx = self._context()
                source = ctx.config.source(name)
                summary, stuck = await run_poll(ctx, source, float(order["timeout"]), self.abort)
            except KeyError:
                summary = CrawlSummary(name, "failed", error=f"no source named {name!r}")
            except Exception as exc:  # never let one order take the worker down
                log.debug("poll of %s could not run", name, exc_info=True)
                summary = CrawlSummary(name, "failed", error=f"{type(exc).__name__}: {exc}")
        self.polls += 1
        self.send(
            {
                "op": "done",
                "id": order.get("id"),
                "summary": asdict(summary),
                "polls": self.polls,
                "rss": resident_bytes(),
                "stuck": stuck,
            }
        )

    def _context(self) -> PollContext:
        """The configuration as its files are now (read again only when one changed)."""
        stamp = config_stamp(self.config_dir)
        if self._ctx is not None and stamp == self._stamp:
            return self._ctx
        try:
            config: Config = load_config(self.config_dir, self.data_dir)
        except ConfigError as exc:
            if self._ctx is None:
                raise
            log.error("configuration not reloaded (%d problems); polling with the previous one",
                      len(exc.problems))  # fmt: skip
            self._stamp = stamp
            return self._ctx
        add_secrets(secrets_from_config(self.config_dir))
        if self._store is None:
            # The service that started this worker opened (and migrated) the same store.
            url = os.environ.get("NEWSWATCH_DATABASE_URL")
            self._store = Store.open(url, self.data_dir)
            password = self._store.engine.url.password
            add_secrets([str(password)] if password else [])
        self._ctx = PollContext.build(config, self._store, self.gate, self.cleaners, self.log_level)
        self._stamp = stamp
        return self._ctx


def config_stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, modification time and size of each configuration file (changes when one does)."""
    found = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            st = path.stat()
        except OSError:
            continue
        found.append((path.name, st.st_mtime_ns, st.st_size))
    return tuple(found)


def main(argv: list[str] | None = None) -> int:
    """Run one worker until its input ends; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m crawler.service.warm.worker")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    verbosity = -1 if args.quiet else args.verbose
    # The protocol gets its own copy of stdout; fd 1 then points at stderr.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    setup_logging(verbosity)
    level = "DEBUG" if verbosity > 1 else "WARNING"
    _quiet_scrapy(level)

    from scrapy.utils.reactor import install_reactor

    install_reactor(REACTOR)
    # Imported before the first crawl for the same reason as in crawler.crawl (its
    # deprecation shims walk the stack: cheap here, costly from inside the engine).
    import scrapy.core.downloader.handlers.http11  # noqa: F401
    from twisted.internet import reactor as installed

    reactor: Any = installed  # twisted's stubs type it as the bare interface

    worker = Worker(args.config, args.data, out, level)
    status = {"code": 0}
    running: list[asyncio.Future[None]] = []  # asyncio keeps only weak references to tasks

    def start() -> None:
        task = asyncio.ensure_future(worker.serve())
        running.append(task)

        def done(finished: asyncio.Future[None]) -> None:
            if not finished.cancelled() and finished.exception() is not None:
                log.error("crawl worker failed: %s", finished.exception())
                status["code"] = 1
            reactor.stop()

        task.add_done_callback(done)

    reactor.callWhenRunning(start)
    reactor.run(installSignalHandlers=False)
    return status["code"]


if __name__ == "__main__":
    sys.exit(main())
