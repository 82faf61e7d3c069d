"""Crawl children: start one per round, enforce a hard timeout, judge and record the result.

Each crawl is ``newswatch crawl --source S`` in a child process in its own session (so its
process group holds Scrapy and anything Scrapy starts). Why a child: Twisted's reactor
cannot restart in one process, and a hung or leaking crawl must be killable without taking
the service down.

Why the kill takes three steps: one SIGTERM makes Scrapy close gracefully, which waits for
in-flight downloads (up to DOWNLOAD_TIMEOUT, 180 s by default); a second SIGTERM forces the
shutdown; SIGKILL is for a child that ignores both. Signals go to the whole process group.

Why the exit status is not the verdict: a spider callback that raises still exits 0. The
child prints a JSON summary as its last stdout line and records its own run; when it dies
or is killed before printing, the supervisor records the run (``timeout`` or ``crashed``,
with the reason) so a silent failure still counts as a failure.

Why a signalled child says ``stopped`` and the supervisor may disagree: a crawl ended by
SIGTERM or SIGINT records itself as ``stopped`` (stopped on purpose, not a failure), which is
true when the service is stopping or a person pressed Ctrl-C. When the supervisor sent that
SIGTERM because the crawl overran its timeout, it knows better: the round is ``failed``, as
any crawl cut short, and the supervisor closes the child's run again with that verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

import crawler
from crawler.service.logs import log_context, redact
from pipelines.store.database import Store
from pipelines.store.schema import runs, utcnow

__all__ = [
    "STOPPING",
    "CommandFactory",
    "CrawlOutcome",
    "Supervisor",
    "crawl_command",
    "record_run",
]

log = logging.getLogger(__name__)
child_log = logging.getLogger("crawler.child")

CommandFactory = Callable[[str], Sequence[str]]
"""Builds the command line that crawls one source (the seam tests replace)."""

# How long to wait for a child's pipes to close after it exited before killing stragglers
# left in its process group (a grandchild holding stdout open would block the reader).
_DRAIN_SECONDS = 5.0
_STDERR_TAIL = 20
_MAX_LINE = 65_536
_PROJECT_ROOT = Path(crawler.__file__).resolve().parent.parent  # the folder holding crawler/
STOPPING = "the service is stopping"
"""Why a poll was ``stopped`` (the service, or the worker process running it, is stopping)."""


def crawl_command(config_dir: Path, data_dir: Path, *, verbosity: int = 0) -> CommandFactory:
    """The real child: ``python -m crawler.cli --config C --data D crawl --source S --json``."""
    flags = ["-v"] * verbosity if verbosity > 0 else ["-q"] if verbosity < 0 else []

    def build(source: str) -> list[str]:
        return [
            sys.executable, "-m", "crawler.cli",
            "--config", str(config_dir), "--data", str(data_dir), *flags,
            "crawl", "--source", source, "--json",
        ]  # fmt: skip

    return build


@dataclass(frozen=True)
class CrawlOutcome:
    """What one crawl round of one source did, as judged by the supervisor."""

    source: str
    status: str  # ok | degraded | failed | timeout | crashed | stopped
    duration: float
    new_articles: int = 0
    alerts: int = 0
    requests: int = 0
    fetched: int = 0
    errors: int = 0
    nbytes: int = 0
    error: str | None = None
    exit_status: int | None = None
    too_old: int = 0  # entries skipped as older than the source's max_age
    max_age: float = 0.0
    recorded_by: str = "child"  # child | service

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def stopped(self) -> bool:
        """Stopped on purpose (the service is stopping): neither a success nor a failure."""
        return self.status == "stopped"


@dataclass
class _Child:
    source: str
    proc: asyncio.subprocess.Process
    kill_reason: str | None = None
    stopping: bool = False  # killed because the service is stopping, not at its timeout
    stdout: deque[str] = field(default_factory=lambda: deque(maxlen=5))
    stderr: deque[str] = field(default_factory=lambda: deque(maxlen=_STDERR_TAIL))
    terminating: asyncio.Task[None] | None = None


class Supervisor:
    """Runs crawl children, at most ``max_parallel`` at once, each with a hard timeout.

    ``term_wait`` is the pause between the first and second SIGTERM, ``kill_wait`` the
    pause between the second SIGTERM and SIGKILL.
    """

    def __init__(
        self,
        store: Store,
        command: CommandFactory,
        *,
        max_parallel: int = 2,
        term_wait: float = 1.0,
        kill_wait: float = 3.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.command = command
        self.term_wait = term_wait
        self.kill_wait = kill_wait
        self._slots = asyncio.Semaphore(max(1, max_parallel))
        self._children: dict[int, _Child] = {}
        self._active = 0
        self._stopping = False
        self._env = self._child_env(env)

    @staticmethod
    def _child_env(env: Mapping[str, str] | None) -> dict[str, str]:
        merged = dict(os.environ if env is None else env)
        # The child imports ``crawler`` even when the project is not pip-installed.
        path = merged.get("PYTHONPATH", "")
        parts = [str(_PROJECT_ROOT), *([path] if path else [])]
        merged["PYTHONPATH"] = os.pathsep.join(parts)
        return merged

    @property
    def running(self) -> list[str]:
        """Sources whose crawl child is alive now."""
        return sorted(c.source for c in self._children.values())

    async def crawl(self, source: str, timeout: float) -> CrawlOutcome | None:
        """One round for ``source``; ``None`` when the service is stopping and it never began."""
        async with self._slots:
            if self._stopping:
                return None
            self._active += 1
            try:
                with log_context(source=source):
                    return await self._crawl(source, timeout)
            finally:
                self._active -= 1

    async def _crawl(self, source: str, timeout: float) -> CrawlOutcome:
        launched = utcnow()
        started = time.monotonic()
        argv = list(self.command(source))
        log.debug("starting crawl child: %s", " ".join(argv))
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                env=self._env,
            )
        except OSError as exc:
            outcome = CrawlOutcome(
                source, "crashed", time.monotonic() - started,
                error=f"cannot start the crawl process: {exc}", recorded_by="service",
            )  # fmt: skip
            await asyncio.to_thread(self._record, outcome, launched, [])
            return outcome
        child = _Child(source, proc)
        self._children[proc.pid] = child
        readers = asyncio.gather(
            _read_lines(proc.stdout, child.stdout.append),
            _read_lines(proc.stderr, lambda line: _relay(child, line)),
        )
        try:
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                child.kill_reason = f"no result after the {timeout:g} s timeout; killed"
                await self._terminate(child)
            except asyncio.CancelledError:
                child.kill_reason, child.stopping = STOPPING, True
                await asyncio.shield(self._terminate(child))
                raise
            await self._drain(child, readers)
        finally:
            self._children.pop(proc.pid, None)
            if not readers.done():
                readers.cancel()
        outcome = self._judge(child, time.monotonic() - started)
        if outcome.recorded_by == "service":
            await asyncio.to_thread(self._record, outcome, launched, list(child.stderr)[-5:])
        return outcome

    async def _drain(self, child: _Child, readers: Awaitable[Any]) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(readers), _DRAIN_SECONDS)
        except TimeoutError:
            log.warning("crawl child exited but its process group kept the pipes open; killing")
            _signal_group(child.proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(readers, _DRAIN_SECONDS)

    def _terminate(self, child: _Child) -> asyncio.Task[None]:
        """TERM, TERM again, then KILL the child's process group (one sequence per child)."""
        if child.terminating is None:
            child.terminating = asyncio.ensure_future(self._kill_sequence(child.proc))
        return child.terminating

    async def _kill_sequence(self, proc: asyncio.subprocess.Process) -> None:
        for sig, wait in (
            (signal.SIGTERM, self.term_wait),
            (signal.SIGTERM, self.kill_wait),
            (signal.SIGKILL, None),
        ):
            if proc.returncode is not None:
                return
            log.debug("sending %s to crawl process group %d", sig.name, proc.pid)
            _signal_group(proc.pid, sig)
            try:
                await asyncio.wait_for(proc.wait(), wait)
                return
            except TimeoutError:
                continue

    def _judge(self, child: _Child, duration: float) -> CrawlOutcome:
        rc = child.proc.returncode
        summary = _find_summary(child.stdout)
        if summary is not None:
            status = summary.get("status")
            if status not in ("ok", "degraded", "stopped"):
                status = "failed"
            error = summary.get("error") or None
            by = "child"
            if status == "stopped" and child.kill_reason and not child.stopping:
                # Our SIGTERM at its timeout stopped it: cut short, so failed (module docstring).
                status, by = "failed", "service"
            if status == "stopped" and child.stopping:
                error = child.kill_reason
            elif child.kill_reason:
                error = f"{error + '; ' if error else ''}{child.kill_reason} after its summary"
            return CrawlOutcome(
                source=child.source, status=status, duration=duration,
                new_articles=_int(summary, "new_articles"), alerts=_int(summary, "alerts"),
                requests=_int(summary, "requests"), fetched=_int(summary, "fetched"),
                errors=_int(summary, "errors"), nbytes=_int(summary, "bytes"),
                error=redact(str(error)) if error else None, exit_status=rc,
                too_old=_int(summary, "too_old"), max_age=float(summary.get("max_age") or 0),
                recorded_by=by,
            )  # fmt: skip
        if child.kill_reason:
            status, reason = "stopped" if child.stopping else "timeout", child.kill_reason
        elif rc is not None and rc < 0:
            status, reason = "crashed", f"crawl process killed by {_signal_name(-rc)}"
        elif rc == 0:
            status, reason = "crashed", "crawl process exited without printing its summary"
        else:
            status, reason = "crashed", f"crawl process exited with status {rc}"
        last = next((line for line in reversed(child.stderr) if line.strip()), None)
        if last and status == "crashed":
            reason += f": {last.strip()[:300]}"
        return CrawlOutcome(
            source=child.source, status=status, duration=duration,
            error=redact(reason), exit_status=rc, recorded_by="service",
        )  # fmt: skip

    def _record(self, outcome: CrawlOutcome, launched: datetime, tail: list[str]) -> None:
        record_run(self.store, outcome, launched, tail)

    async def stop(self, grace: float) -> None:
        """Start no new crawl; give running ones ``grace`` seconds, then kill them."""
        self._stopping = True
        deadline = time.monotonic() + grace
        while self._children and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        children = list(self._children.values())
        for child in children:
            if child.kill_reason is None:
                child.kill_reason = f"{STOPPING} (its {grace:g} s grace period ran out)"
                child.stopping = True
            log.info("stopping crawl of %s", child.source, extra={"source": child.source})
        await asyncio.gather(*(self._terminate(c) for c in children))
        # Let the crawl() calls record what they saw before the caller closes the store.
        while self._active:
            await asyncio.sleep(0.05)


def record_run(store: Store, outcome: CrawlOutcome, launched: datetime, tail: list[str]) -> None:
    """Close the run the crawl opened (if it got that far: still running, or closed as
    ``stopped`` by a crawl stopped at its timeout) or open and close one."""
    since = launched - timedelta(seconds=1)
    with store.begin() as conn:
        run_id = conn.execute(
            select(runs.c.id)
            .where(runs.c.source == outcome.source, runs.c.status.in_(("running", "stopped")))
            .where(runs.c.started_at >= since)
            .order_by(runs.c.id.desc())
            .limit(1)
        ).scalar()
    if run_id is None:
        run_id = store.start_run(outcome.source)
    detail: dict[str, Any] = {"error": outcome.error, "exit_status": outcome.exit_status}
    if outcome.too_old:
        detail.update(too_old=outcome.too_old, max_age=outcome.max_age)
    if tail:
        detail["stderr_tail"] = [redact(line) for line in tail]
    store.finish_run(
        run_id, outcome.status, new_articles=outcome.new_articles, requests=outcome.requests,
        fetched=outcome.fetched, alerts=outcome.alerts, errors=outcome.errors,
        nbytes=outcome.nbytes, detail=detail,
    )  # fmt: skip


# A child's own log line in the text format of crawler.service.logs: "TIME LEVEL logger message".
_CHILD_LINE = re.compile(
    r"^\S+\s+(DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+(\S+)\s+(?:\[[^\]]*\]\s+)?(.*)$"
)


def _relay(child: _Child, line: str) -> None:
    """Pass the child's warnings and errors on at their level; the rest at DEBUG."""
    child.stderr.append(line)
    found = _CHILD_LINE.match(line)
    level, text = logging.DEBUG, line
    if found:
        if found.group(1) in ("WARNING", "ERROR", "CRITICAL"):
            level = logging.WARNING if found.group(1) == "WARNING" else logging.ERROR
        text = f"{found.group(2)}: {found.group(3)}"
    child_log.log(level, "%s", text, extra={"source": child.source})


async def _read_lines(stream: asyncio.StreamReader | None, sink: Callable[[str], None]) -> None:
    """Feed every complete line of a child's pipe to ``sink`` (over-long lines truncated)."""
    if stream is None:
        return
    pending = b""
    while True:
        chunk = await stream.read(65_536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            sink(raw[:_MAX_LINE].decode("utf-8", "replace").rstrip("\r"))
        if len(pending) > _MAX_LINE:
            pending = pending[:_MAX_LINE]
    if pending:
        sink(pending.decode("utf-8", "replace"))


def _find_summary(lines: deque[str]) -> dict[str, Any] | None:
    for line in reversed(lines):
        text = line.strip()
        if not text:
            continue
        if not text.startswith("{"):
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, dict) and "status" in data else None
    return None


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    return int(value) if isinstance(value, int | float) else 0


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    # The group can be gone already (the child exited between our check and the signal).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
