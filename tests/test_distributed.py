"""Distributed mode end to end: two schedulers, a worker and a dispatcher as real processes,
on PostgreSQL and RabbitMQ, against the local news site.

A published article alerts once; of two schedulers exactly one leads, and the sources are
polled at their interval, not twice as often; a worker killed with SIGKILL in the middle of
its polls is restarted and polling goes on.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from crawler.config import SourceConfig
from crawler.distributed.runner import polled_recently
from crawler.distributed.scheduler import due_sources, last_polls
from pipelines.store.database import Store
from pipelines.store.schema import runs
from tests.conftest import REPO
from tests.databases import postgres_database, require_postgres
from tests.servers.newssite import NewsSite

BROKER = os.environ.get("NEWSWATCH_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672//")
EVERY = 3
PARAGRAPHS = [
    "UBND quận Hai Bà Trưng tổ chức hội nghị tổng kết công tác năm với các phòng ban.",
    "Các đại biểu thảo luận về chỉnh trang đô thị và giải phóng mặt bằng trên địa bàn.",
]


def test_due_sources_waits_for_the_interval_and_for_enqueued_polls() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    src = {n: SourceConfig(name=n, feeds=("http://x/",), every=60, timeout=30) for n in "abcde"}
    last = {
        "a": None,  # never polled: due
        "b": now - timedelta(seconds=30),  # polled half an interval ago: not due
        "c": now - timedelta(seconds=61),  # due
        "d": now - timedelta(seconds=300),  # enqueued 10 s ago, not run since: waits
        "e": now - timedelta(seconds=300),  # enqueued 2 min ago and never ran: lost, again
    }
    enqueued = {"d": now - timedelta(seconds=10), "e": now - timedelta(seconds=120)}
    assert due_sources(src, last, enqueued, now) == ["a", "c", "e"]


def test_a_poll_stopped_with_its_worker_is_due_again_and_its_task_runs(
    tmp_path: Path,
) -> None:
    # A worker stopped mid-poll records the poll `stopped`; Celery hands the task to
    # another worker (acks late), which must not skip it as "polled just now", and the
    # scheduler must see the source as due.
    store = Store.for_data_dir(tmp_path)
    store.migrate()
    done, stopped = store.start_run("done"), store.start_run("stopped")
    store.finish_run(done, "ok")
    store.finish_run(stopped, "stopped", detail={"error": "the service is stopping"})
    assert polled_recently(store, "done", 300)
    assert not polled_recently(store, "stopped", 300)
    assert not polled_recently(store, "never", 300)
    last = last_polls(store)
    assert last["done"] is not None and last["stopped"] is None
    store.close()


def _broker_reachable() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            return None
    except OSError as exc:
        return f"RabbitMQ is not reachable at 127.0.0.1:5672 ({exc})"


@pytest.fixture
def broker() -> str:
    reason = _broker_reachable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the distributed tests", pytrace=False)
        pytest.skip(reason)
    return BROKER


@pytest.fixture
def pg() -> Iterator[str]:
    require_postgres()
    with postgres_database() as url:
        yield url


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(0.2)


@pytest.mark.e2e
def test_schedulers_worker_and_dispatcher_alert_once_and_survive_a_killed_worker(
    tmp_path: Path, pg: str, broker: str
) -> None:
    config, data = tmp_path / "config", tmp_path / "var"
    config.mkdir()
    with NewsSite() as site, NewsSite() as quiet:
        other = quiet.url.replace("127.0.0.1", "localhost")
        (config / "sources.yaml").write_text(
            f"defaults: {{every: {EVERY}s, jitter: 0s, delay: 0s, timeout: 30s}}\nsources:\n"
            f"  - name: one\n    feeds: [{site.url}rss/home.rss]\n"
            f"  - name: two\n    feeds: [{other}rss/home.rss]\n",
            encoding="utf-8",
        )
        (config / "watches.yaml").write_text(
            "defaults: {notify: [local]}\nwatches:\n  hbt:\n    any: [quận Hai Bà Trưng]\n",
            encoding="utf-8",
        )
        (config / "channels.yaml").write_text(
            "channels:\n  local: {kind: file, path: alerts.jsonl}\n", encoding="utf-8"
        )
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "NEWSWATCH_DATABASE_URL": pg,
            "NEWSWATCH_BROKER_URL": broker,
            "NEWSWATCH_QUEUE": f"newswatch-test-{uuid.uuid4().hex[:12]}",
            "NEWSWATCH_CRAWL_WORKERS": "1",
        }
        store = Store(pg)
        store.migrate()
        procs: dict[str, subprocess.Popen[bytes]] = {}
        logs = tmp_path / "logs"
        logs.mkdir()

        def start(name: str, *command: str) -> None:
            with (logs / f"{name}.log").open("ab") as out:
                procs[name] = subprocess.Popen(
                    [sys.executable, "-m", "crawler.cli", "--config", str(config),
                     "--data", str(data), *command],
                    env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip

        def ok_runs() -> list[tuple[str, datetime]]:
            with store.begin() as conn:
                rows = conn.execute(
                    select(runs.c.source, runs.c.started_at).where(runs.c.status == "ok")
                ).all()
            return [(s, at) for s, at in rows]

        def alerts() -> list[dict[str, object]]:
            path = data / "alerts.jsonl"
            if not path.exists():
                return []
            return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]

        try:
            start("scheduler-1", "scheduler")
            start("scheduler-2", "scheduler")
            start("worker", "worker", "--concurrency", "4")
            start("dispatch", "dispatch", "--forever")
            url = site.publish("hoi-nghi-quan-hai-ba-trung", "Hội nghị quận", PARAGRAPHS)
            path = urlsplit(url).path
            wait_for(lambda: any(path in json.dumps(a) for a in alerts()), 120, "the alert")
            # Kill the worker in the middle of its polls; a new one takes over.
            wait_for(lambda: len(ok_runs()) >= 4, 60, "four polls")
            procs["worker"].send_signal(signal.SIGKILL)
            procs["worker"].wait()
            killed_at = len(ok_runs())
            start("worker", "worker", "--concurrency", "4")
            wait_for(lambda: len(ok_runs()) >= killed_at + 4, 90, "polls after the kill")
            window_start = datetime.now(UTC).replace(tzinfo=None)
            time.sleep(4 * EVERY)
            window = [(s, at) for s, at in ok_runs() if at.replace(tzinfo=None) >= window_start]
            shown = subprocess.run(
                [sys.executable, "-m", "crawler.cli", "--config", str(config), "--data",
                 str(data), "status", "--json"],
                env=env, cwd=REPO, capture_output=True, text=True, timeout=60, check=True,
            )  # fmt: skip
            status = json.loads(shown.stdout)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs.values():
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            store.close()
    texts = {p: (logs / f"{p}.log").read_text(errors="replace") for p in procs}
    assert sum("leading" in texts[f"scheduler-{i}"] for i in (1, 2)) == 1, texts
    matched = [a for a in alerts() if path in json.dumps(a)]
    assert len(matched) == 1, matched
    # Four intervals: each source polled about four times, not eight (two schedulers).
    per_source = {s: sum(1 for x, _ in window if x == s) for s in ("one", "two")}
    assert all(2 <= n <= 5 for n in per_source.values()), (per_source, texts["worker"][-3000:])
    # status: the worker that answers, the queue's depth, each source's lag.
    assert len(status["distributed"]["workers"]) == 1, status["distributed"]
    assert isinstance(status["distributed"]["queue_depth"], int)
    assert all(s["lag"] is not None and s["lag"] < 30 for s in status["sources"])
