"""Warm crawl workers: many polls in one long-lived process, with what per-poll children gave.

Real worker processes poll the local news site; a hung host is a socket that never answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crawler.service.supervisor import CrawlOutcome
from crawler.service.warm.pool import PoolOptions, WarmPool, worker_command
from pipelines.store.database import Store
from pipelines.store.schema import runs
from tests.servers.newssite import NewsSite

pytestmark = pytest.mark.e2e

PARAGRAPHS = [
    "UBND quận Hai Bà Trưng tổ chức hội nghị tổng kết công tác năm với các phòng ban.",
    "Các đại biểu thảo luận về chỉnh trang đô thị và giải phóng mặt bằng trên địa bàn.",
]


class SilentServer:
    """Accepts connections and never answers: a host that hangs every request."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite() as s:
        yield s


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def setup(
    tmp_path: Path,
    sources: dict[str, str],
    timeouts: dict[str, str] | None = None,
    url: str | None = None,
) -> tuple[Path, Path, Store]:
    config, data = tmp_path / "config", tmp_path / "var"
    config.mkdir()
    entries = "".join(
        f"  - name: {name}\n    feeds: [{url}rss/home.rss]\n    sitemaps: [{url}sitemap.xml]\n"
        f"    timeout: {(timeouts or {}).get(name, '60s')}\n"
        for name, url in sources.items()
    )
    (config / "sources.yaml").write_text(
        f"defaults: {{delay: 0s, timeout: 60s}}\nsources:\n{entries}", encoding="utf-8"
    )
    (config / "watches.yaml").write_text(
        "defaults: {notify: [local]}\nwatches:\n  hbt:\n    any: [quận Hai Bà Trưng]\n",
        encoding="utf-8",
    )
    (config / "channels.yaml").write_text(
        "channels:\n  local: {kind: file, path: alerts.jsonl}\n", encoding="utf-8"
    )
    store = Store.open(url, data)
    store.migrate()
    return config, data, store


def pool_for(
    config: Path, data: Path, store: Store, url: str | None = None, **options: Any
) -> WarmPool:
    opts = PoolOptions(**{"workers": 1, "kill_margin": 30.0, **options})
    env = {**os.environ, **({"NEWSWATCH_DATABASE_URL": url} if url else {})}
    return WarmPool(store, worker_command(config, data), opts, env=env)


def recorded(store: Store) -> list[dict[str, Any]]:
    with store.begin() as conn:
        rows = conn.execute(select(runs).order_by(runs.c.id)).mappings().all()
    return [dict(r) for r in rows]


def test_one_worker_polls_many_sources_and_records_each_run(tmp_path: Path, site: NewsSite) -> None:
    article = site.publish("hoi-nghi-quan-hai-ba-trung", "Hội nghị quận", PARAGRAPHS)
    names = ["a", "b", "c", "d"]
    config, data, store = setup(tmp_path, dict.fromkeys(names, site.url))

    async def scenario() -> tuple[list[CrawlOutcome | None], list[CrawlOutcome | None], int]:
        pool = pool_for(config, data, store)
        first = list(await asyncio.gather(*(pool.crawl(n, 60) for n in names)))
        second = list(await asyncio.gather(*(pool.crawl(n, 60) for n in names)))
        started = pool.started
        await pool.stop(1.0)
        return first, second, started

    first, second, started = asyncio.run(scenario())
    assert started == 1, "eight polls need one worker process, not eight"
    assert all(o is not None and o.ok for o in first + second), first + second
    # The article is stored once, by whichever source reached it first.
    assert sum(o.new_articles for o in first if o) == 1
    assert sum(o.new_articles for o in second if o) == 0
    assert [r["status"] for r in recorded(store)] == ["ok"] * 8
    polled = [r for r in site.request_log() if r["path"] == "/rss/home.rss"]
    assert polled[-4:] and all(r["status"] == 304 for r in polled[-4:]), "second round: 304s"
    assert any(article.endswith(r["path"]) for r in site.request_log())
    store.close()


def test_hung_poll_times_out_without_touching_the_other_polls_of_its_worker(
    tmp_path: Path, site: NewsSite, silent: SilentServer
) -> None:
    # Two hosts (a host is polled by one poll at a time), the hung one with a 3 s timeout.
    hangs = silent.url.replace("127.0.0.1", "localhost")
    config, data, store = setup(tmp_path, {"hangs": hangs, "fine": site.url}, {"hangs": "3s"})

    async def scenario() -> tuple[CrawlOutcome | None, CrawlOutcome | None, int]:
        pool = pool_for(config, data, store)
        hung = asyncio.ensure_future(pool.crawl("hangs", 3))
        await asyncio.sleep(0.5)
        fine = await pool.crawl("fine", 60)
        result = await hung
        started = pool.started
        await pool.stop(1.0)
        return result, fine, started

    hung, fine, started = asyncio.run(scenario())
    assert fine is not None and fine.ok
    assert hung is not None and hung.status == "timeout"
    assert hung.error and "3 s timeout" in hung.error
    assert started == 1, "a timeout stops one crawler, not the worker"
    statuses = {r["source"]: r["status"] for r in recorded(store)}
    assert statuses == {"hangs": "timeout", "fine": "ok"}
    store.close()


def test_killed_worker_is_replaced_and_its_unfinished_polls_run_again(
    tmp_path: Path, database_url: str
) -> None:
    with NewsSite(latency=0.7) as site:
        site.publish("hoi-nghi-quan-hai-ba-trung", "Hội nghị quận", PARAGRAPHS)
        hosts = {"a": site.url, "b": site.url.replace("127.0.0.1", "localhost")}
        config, data, store = setup(tmp_path, hosts, url=database_url)

        async def scenario() -> tuple[list[CrawlOutcome | None], int]:
            pool = pool_for(config, data, store, database_url)
            polls = asyncio.gather(pool.crawl("a", 60), pool.crawl("b", 60))
            while len(pool.running) < 2:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # both in flight
            os.kill(pool.worker_pids[0], signal.SIGKILL)
            outcomes = list(await polls)
            started = pool.started
            await pool.stop(1.0)
            return outcomes, started

        outcomes, started = asyncio.run(scenario())
    assert started == 2
    assert all(o is not None and o.ok for o in outcomes), outcomes
    rows = recorded(store)
    crashed = [r for r in rows if r["status"] == "crashed"]
    assert {r["source"] for r in crashed} == {"a", "b"}
    errors = [json.loads(r["detail"])["error"] for r in crashed]
    assert all("SIGKILL" in e and "runs again" in e for e in errors), errors
    assert sorted(r["source"] for r in rows if r["status"] == "ok") == ["a", "b"]
    assert sum(r["new_articles"] or 0 for r in rows) == 1
    store.close()


def test_worker_is_recycled_after_max_polls_and_above_the_memory_limit(
    tmp_path: Path, site: NewsSite
) -> None:
    config, data, store = setup(tmp_path, {"a": site.url})

    async def scenario(**options: int) -> tuple[int, set[int]]:
        pool = pool_for(config, data, store, **options)
        pids: set[int] = set()
        for _ in range(3):
            outcome = await pool.crawl("a", 60)
            assert outcome is not None and outcome.ok, outcome
            pids.update(pool.worker_pids)
        started = pool.started
        await pool.stop(1.0)
        return started, pids

    started, pids = asyncio.run(scenario(max_polls=2))
    assert started == 2 and len(pids) == 2
    started, _ = asyncio.run(scenario(max_memory_mb=1))
    assert started == 3, "a worker above the memory limit takes no further poll"
    store.close()


def test_a_poll_that_kills_every_worker_is_recorded_as_crashed_after_one_rerun(
    tmp_path: Path,
) -> None:
    store = Store.for_data_dir(tmp_path)
    store.migrate()
    dies = (
        "import json, os, sys\n"
        "print(json.dumps({'op': 'ready', 'pid': os.getpid()}), flush=True)\n"
        "sys.stdin.readline()\n"
        "print('segfault in a parser', file=sys.stderr, flush=True)\n"
        "os._exit(3)\n"
    )

    async def scenario() -> tuple[CrawlOutcome | None, int]:
        pool = WarmPool(store, lambda: [sys.executable, "-c", dies], PoolOptions(workers=1))
        outcome = await pool.crawl("poison", 30)
        return outcome, pool.started

    outcome, started = asyncio.run(scenario())
    assert started == 2
    assert outcome is not None and outcome.status == "crashed"
    assert outcome.error and "status 3" in outcome.error and "segfault" in outcome.error
    assert [r["status"] for r in recorded(store)] == ["crashed", "crashed"]
    store.close()


def test_wedged_worker_is_killed_at_the_timeout_and_the_poll_recorded(tmp_path: Path) -> None:
    store = Store.for_data_dir(tmp_path)
    store.migrate()
    wedged = (
        "import json, os, sys, time\n"
        "print(json.dumps({'op': 'ready', 'pid': os.getpid()}), flush=True)\n"
        "sys.stdin.readline()\n"
        "time.sleep(600)\n"
    )

    async def scenario() -> tuple[CrawlOutcome | None, list[int]]:
        options = PoolOptions(workers=1, kill_margin=0.5)
        pool = WarmPool(store, lambda: [sys.executable, "-c", wedged], options)
        task = asyncio.ensure_future(pool.crawl("stuck", 0.5))
        while not pool.worker_pids:
            await asyncio.sleep(0.05)
        pids = pool.worker_pids
        return await task, pids

    outcome, pids = asyncio.run(scenario())
    assert outcome is not None and outcome.status == "timeout"
    assert outcome.error and "worker was killed" in outcome.error
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)
    assert [r["status"] for r in recorded(store)] == ["timeout"]
    store.close()


def test_stop_ends_running_polls_after_the_grace_and_records_them(
    tmp_path: Path, silent: SilentServer
) -> None:
    config, data, store = setup(tmp_path, {"hangs": silent.url}, {"hangs": "2m"})

    async def scenario() -> tuple[CrawlOutcome | None, list[int]]:
        pool = pool_for(config, data, store)
        task = asyncio.ensure_future(pool.crawl("hangs", 120))
        while not pool.running:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        pids = pool.worker_pids
        await pool.stop(0.5)
        return await task, pids

    outcome, pids = asyncio.run(scenario())
    assert outcome is not None and outcome.status == "stopped"  # on purpose: not a timeout
    assert outcome.error and "the service is stopping" in outcome.error
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)
    assert [r["status"] for r in recorded(store)] == ["stopped"]
    store.close()
