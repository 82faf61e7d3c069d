"""``newswatch run`` polls in warm workers: one long-lived process serves every poll."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.servers.newssite import NewsSite

pytestmark = pytest.mark.e2e


def worker_pids(parent: int) -> set[int]:
    """The warm crawl workers among the children of ``parent``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat[1]) == parent and b"crawler.service.warm.worker" in cmdline:
            found.add(int(entry.name))
    return found


def test_run_serves_many_polls_from_one_warm_worker(tmp_path: Path) -> None:
    config, data = tmp_path / "config", tmp_path / "var"
    config.mkdir()
    with NewsSite() as site:
        host2 = site.url.replace("127.0.0.1", "localhost")
        (config / "sources.yaml").write_text(
            "defaults: {every: 1s, jitter: 0s, delay: 0s, timeout: 30s}\nsources:\n"
            f"  - name: one\n    feeds: [{site.url}rss/home.rss]\n"
            f"  - name: two\n    feeds: [{host2}rss/home.rss]\n",
            encoding="utf-8",
        )
        (config / "watches.yaml").write_text(
            "defaults: {notify: [local]}\nwatches:\n  hbt:\n    any: [quận Hai Bà Trưng]\n",
            encoding="utf-8",
        )
        (config / "channels.yaml").write_text(
            "channels:\n  local: {kind: file, path: alerts.jsonl}\n", encoding="utf-8"
        )
        env = {**os.environ, "NEWSWATCH_CRAWL_WORKERS": "1", "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "-q", "--config", str(config),
             "--data", str(data), "run"],
            env=env, cwd=REPO, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        seen: set[int] = set()
        rows: list[tuple[str, str]] = []
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                seen |= worker_pids(proc.pid)
                db = data / "newswatch.db"
                if db.exists():
                    with sqlite3.connect(db) as conn:
                        try:
                            rows = conn.execute("SELECT source, status FROM runs").fetchall()
                        except sqlite3.OperationalError:
                            rows = []
                if sum(1 for _, status in rows if status == "ok") >= 6:
                    break
                time.sleep(0.2)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    done = [r for r in rows if r[1] != "running"]
    assert len(done) >= 6 and {s for s, _ in done} == {"one", "two"}, err[-2000:]
    assert all(status == "ok" for _, status in done), done
    assert len(seen) == 1, f"one warm worker for {len(done)} polls, not {len(seen)} processes"
