"""Stopping ``newswatch run`` while a poll runs: the poll is recorded and logged as
``stopped`` — not as a timeout, not as a failure — and is done again at the next start.

Real processes throughout: the service, its warm crawl worker (or, with
``NEWSWATCH_CRAWL_WORKERS=0``, its ``newswatch crawl`` child) and a slow local news site.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from pipelines.store.database import Store
from pipelines.store.schema import articles, runs, sources
from tests.conftest import REPO
from tests.servers.newssite import NewsSite

pytestmark = pytest.mark.e2e

PARAGRAPHS = [
    "UBND quận Hai Bà Trưng tổ chức hội nghị tổng kết công tác năm với các phòng ban.",
    "Các đại biểu thảo luận về chỉnh trang đô thị và giải phóng mặt bằng trên địa bàn.",
]
ARTICLES = 6
LAST_SUCCESS = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def wait_for(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {seconds:g} s: {what}")
        time.sleep(0.1)


def start(config: Path, data: Path, workers: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "NEWSWATCH_CRAWL_WORKERS": workers,
        "NEWSWATCH_STOP_GRACE": "0.5",
        "PYTHONPATH": str(REPO),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "--config", str(config), "--data", str(data),
         "run"],
        env=env, cwd=REPO, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    return err


def source_row(store: Store) -> dict[str, Any]:
    with store.begin() as conn:
        return dict(conn.execute(select(sources)).mappings().one())


def statuses(store: Store) -> list[str]:
    with store.begin() as conn:
        return list(conn.execute(select(runs.c.status).order_by(runs.c.id)).scalars())


def stored(store: Store) -> int:
    with store.begin() as conn:
        return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())


def slow_source(config: Path, site: NewsSite) -> None:
    """Publish the articles on ``site`` and write a configuration polling it hourly."""
    for i in range(ARTICLES):
        site.publish(f"hoi-nghi-{i}", f"Hội nghị {i}", PARAGRAPHS)
    (config / "sources.yaml").write_text(
        "defaults: {every: 1h, jitter: 0s, delay: 0s, timeout: 2m}\nsources:\n"
        f"  - name: slow\n    feeds: [{site.url}rss/home.rss]\n",
        encoding="utf-8",
    )
    (config / "watches.yaml").write_text(
        "defaults: {notify: [local]}\nwatches:\n  hbt:\n    any: [quận Hai Bà Trưng]\n",
        encoding="utf-8",
    )
    (config / "channels.yaml").write_text(
        "channels:\n  local: {kind: file, path: alerts.jsonl}\n", encoding="utf-8"
    )


@pytest.mark.parametrize("workers", ["1", "0"], ids=["warm-worker", "child-per-poll"])
def test_a_poll_interrupted_by_sigterm_is_stopped_not_a_timeout_and_runs_at_the_next_start(
    tmp_path: Path, workers: str
) -> None:
    config, data = tmp_path / "config", tmp_path / "var"
    config.mkdir()
    with NewsSite(latency=1.0) as site:
        slow_source(config, site)
        # The source has been failing: two rounds in a row, its last success some days ago.
        store = Store.for_data_dir(data)
        store.migrate()
        with store.begin() as conn:
            conn.execute(
                insert(sources).values(
                    name="slow", consecutive_failures=2, last_success_at=LAST_SUCCESS,
                    last_status="failed", last_error="HTTP 503",
                )
            )  # fmt: skip

        proc = start(config, data, workers)
        try:
            # The feed is read: the article requests (1 s each, two at a time) are in flight.
            wait_for(
                lambda: any(r["path"] == "/rss/home.rss" for r in site.request_log()),
                "the poll read the feed",
            )
        finally:
            log = stop(proc)
        first = stored(store)

        lines = [line for line in log.splitlines() if "crawl stopped after" in line]
        assert len(lines) == 1, log[-3000:]
        assert " INFO " in lines[0] and "[source=slow]" in lines[0]
        assert "the service is stopping" in lines[0]
        assert "polled again at the next start" in lines[0]
        assert "timeout" not in log, log[-3000:]
        assert not [line for line in log.splitlines() if "WARNING crawler.service" in line]
        assert statuses(store) == ["stopped"]
        row = source_row(store)
        assert row["last_status"] == "stopped"
        assert row["consecutive_failures"] == 2, "a stopped poll is not one more failure"
        assert row["last_success_at"] == LAST_SUCCESS and row["last_error"] == "HTTP 503"
        assert first < ARTICLES, "the scenario needs articles the stopped poll did not store"

        # The source is polled every hour, yet the stopped poll runs again at once, and
        # fetches what it had not stored.
        proc = start(config, data, workers)
        try:
            wait_for(lambda: "ok" in statuses(store), "the poll ran again")
        finally:
            stop(proc)
        assert statuses(store) == ["stopped", "ok"]
        assert stored(store) == ARTICLES
        assert source_row(store)["consecutive_failures"] == 0
        store.close()


def test_a_crawl_interrupted_with_ctrl_c_says_so_and_exits_130(tmp_path: Path) -> None:
    config, data = tmp_path / "config", tmp_path / "var"
    config.mkdir()
    with NewsSite(latency=1.0) as site:
        slow_source(config, site)
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "--config", str(config), "--data", str(data),
             "crawl", "--source", "slow"],
            env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            wait_for(
                lambda: (
                    proc.poll() is not None
                    or any(r["path"] == "/rss/home.rss" for r in site.request_log())
                ),
                "the crawl read the feed",
            )
            assert proc.poll() is None, "the crawl ended before it could be interrupted"
        finally:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err[-3000:])
    assert "stopped" in out and "SIGINT" in out, out
    store = Store.for_data_dir(data)
    assert statuses(store) == ["stopped"]
    store.close()
