"""Benchmark of the web interface (not a test): ``python -m bench.web [--articles 100000]
[--alerts 20000] [--requests 300] [--threads 4]``.

Fills a temporary SQLite store with ``--articles`` Vietnamese-like articles over 30 days and
``--alerts`` alerts (each with its hit and two deliveries), starts the real ``newswatch web``
in a child process, and times, over keep-alive HTTP from this process, the alerts page and
the API (first page, a filtered page, a page deep in the cursor, an article with its
explanations) beside ``/healthz`` as the baseline: the same server, the same framework and
middleware, no database. Prints p50, p95 and requests/s (one client, then ``--threads``
clients at once). Target: p95 <= 100 ms for the alerts page and the API.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import insert

from pipelines.store.database import Store
from pipelines.store.schema import alerts, articles, deliveries, hits

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["tuoitrethudo", "hanoimoi", "kinhtedothi", "vnexpress", "tuoitre", "thanhnien"]
WATCHES = ["quan-hai-ba-trung", "phuong-bach-mai", "vanh-dai-4", "nguyen-van-phong"]
PHRASES = (
    "người dân phường quận thành phố Hà Nội dự án giao thông kinh tế xã hội công trình "
    "tiến độ họp bàn lãnh đạo chính quyền địa phương năm nay kế hoạch triển khai"
)
WORDS = PHRASES.split()
TERM = "quận Hai Bà Trưng"


def fill(store: Store, n_articles: int, n_alerts: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=30)
    step = (now - start) / n_articles
    alert_every = max(1, n_articles // n_alerts)
    batch_a, batch_h, batch_al, batch_d = [], [], [], []
    alert_id = delivery_id = 0

    def flush() -> None:
        with store.begin() as conn:
            for table, rows in ((articles, batch_a), (hits, batch_h)):
                if rows:
                    conn.execute(insert(table), rows)
            for table, rows in ((alerts, batch_al), (deliveries, batch_d)):
                if rows:
                    conn.execute(insert(table), rows)
        for rows in (batch_a, batch_h, batch_al, batch_d):
            rows.clear()

    for i in range(1, n_articles + 1):
        when = start + step * i
        title = " ".join(rng.choice(WORDS) for _ in range(10)).capitalize()
        body = " ".join(rng.choice(WORDS) for _ in range(120))
        alerted = i % alert_every == 0 and alert_id < n_alerts
        if alerted:
            body = f"Sáng nay, UBND {TERM} {body}"
        text = f"{title}\n{body}"
        batch_a.append(
            {
                "id": i,
                "url": f"https://{SOURCES[i % len(SOURCES)]}.vn/bai-{i}.html",
                "source": SOURCES[i % len(SOURCES)],
                "title": title,
                "published": when - timedelta(minutes=rng.randint(1, 90)),
                "text": text,
                "content_hash": f"{i:064x}",
                "fetched_at": when,
                "flags": "",
            }
        )
        if alerted:
            alert_id += 1
            at = text.index(TERM)
            watch = WATCHES[alert_id % len(WATCHES)]
            batch_h.append(
                {
                    "article_id": i,
                    "watch": watch,
                    "term": TERM,
                    "start": at,
                    "end": at + len(TERM),
                    "text": TERM,
                    "snippet": text[max(0, at - 60) : at + 120],
                    "flags": "",
                }
            )
            batch_al.append(
                {
                    "id": alert_id,
                    "watch": watch,
                    "label": watch,
                    "article_id": i,
                    "created_at": when,
                }
            )
            for channel in ("local", "newsroom"):
                delivery_id += 1
                delivered = rng.random() < 0.9
                batch_d.append(
                    {
                        "id": delivery_id,
                        "alert_id": alert_id,
                        "channel": channel,
                        "status": "delivered" if delivered else "dead",
                        "attempts": 1 if delivered else 10,
                        "next_attempt": when,
                        "message_id": f"nw_{delivery_id:032x}",
                        "created_at": when,
                    }
                )
        if len(batch_a) >= 5000:
            flush()
    flush()


def write_config(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    sources = "".join(f"  - name: {s}\n    home: https://{s}.vn/\n" for s in SOURCES)
    (folder / "sources.yaml").write_text(f"sources:\n{sources}", encoding="utf-8")
    watches = "".join(f"  {w}:\n    any: [{TERM}]\n" for w in WATCHES)
    (folder / "watches.yaml").write_text(
        f"defaults: {{notify: [local]}}\nwatches:\n{watches}", encoding="utf-8"
    )
    (folder / "channels.yaml").write_text(
        "channels:\n  local: {kind: file, path: alerts.jsonl}\n", encoding="utf-8"
    )


def time_path(base: str, path: str, count: int, threads: int) -> tuple[list[float], float]:
    """Latencies (s) of ``count`` sequential GETs, and requests/s with ``threads`` clients."""
    session = requests.Session()
    for _ in range(5):  # warm-up: connections, caches, first template compile
        session.get(base + path, timeout=30).raise_for_status()
    latencies = []
    for _ in range(count):
        t0 = time.perf_counter()
        answer = session.get(base + path, timeout=30)
        latencies.append(time.perf_counter() - t0)
        answer.raise_for_status()

    def worker(n: int) -> None:
        own = requests.Session()
        for _ in range(n):
            own.get(base + path, timeout=30).raise_for_status()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, [count // threads] * threads))
    rate = (count // threads * threads) / (time.perf_counter() - t0)
    return latencies, rate


def report(label: str, latencies: Sequence[float], rate: float) -> str:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[int(len(ordered) * 0.95) - 1] * 1000
    seq = len(ordered) / sum(ordered)
    return f"{label:<38} {p50:7.1f} ms   {p95:7.1f} ms   {seq:7.0f} / {rate:.0f}"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--alerts", type=int, default=20_000)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        data, config = Path(tmp) / "var", Path(tmp) / "config"
        write_config(config)
        store = Store.for_data_dir(data)
        store.migrate()
        t0 = time.perf_counter()
        fill(store, args.articles, args.alerts)
        store.close()
        print(
            f"store: {args.articles:,} articles, {args.alerts:,} alerts, "
            f"{2 * args.alerts:,} deliveries, filled in {time.perf_counter() - t0:.1f} s"
        )
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "crawler.cli", "-q", "--config", str(config)),
                *("--data", str(data), "web", "--http", "127.0.0.1:0"),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "NEWSWATCH_WEB_TOKEN": ""},
        )
        try:
            assert server.stdout is not None
            base = server.stdout.readline().split()[1].rstrip("/")
            deep = requests.get(base + "/api/v1/alerts?limit=50", timeout=30).json()
            cursor = deep["items"][-1]["id"] - args.alerts // 2  # a page half-way back
            paths = [
                ("/healthz  (baseline)", "/healthz"),
                ("alerts page", "/"),
                ("alerts page, one watch", f"/?watch={WATCHES[1]}"),
                ("alerts page, one source", f"/?source={SOURCES[2]}"),
                ("API alerts", "/api/v1/alerts"),
                ("API alerts, channel filter", "/api/v1/alerts?channel=newsroom"),
                ("API alerts, cursor half-way", f"/api/v1/alerts?cursor={cursor}"),
                ("API article (with explanations)", f"/api/v1/articles/{args.articles // 2}"),
            ]
            print(
                f"{'':<38} {'p50':>7}      {'p95':>7}      req/s, 1 client / {args.threads} clients"
            )
            for label, path in paths:
                latencies, rate = time_path(base, path, args.requests, args.threads)
                print(report(label, latencies, rate), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
