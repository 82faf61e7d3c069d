"""Thousands of sources per core (not a test): ``python bench/scale.py [--sources 2000]``.

One run, against ``--sources`` small news sites served by one local process, each on its own
loopback address (127.0.A.B: each source is its own host for politeness), each with
robots.txt and an RSS feed. Printed side by side:

  (a) CPU per poll with nothing new: warm crawl workers (all the sources, twice), and today's
      process per poll (a sample, as the baseline) — CPU of the worker processes and of the
      pool's side, not of the sites' server;
  (b) polls per second sustained by the warm workers (every source due at once);
  (c) the lag of the most overdue source: ``newswatch run`` with every source due every
      ``--every`` seconds for ``--rounds`` intervals; lag = the longest gap between two polls
      of one source minus the interval;
  (d) a round with new articles: ``--articles`` spread over ``--article-sources`` sources,
      polled by the warm workers, in articles/s against the CPU ceiling (trafilatura alone
      over the same pages on all cores, as bench/crawl.py measures it).

Targets: (a) <= 30 ms of CPU per idle poll (>= 10,000 sources per core at a 5-minute
interval); (c) no source more than one interval late with 2,000 sources on 2 cores;
(d) >= 0.8 of the CPU ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._scalesite import address  # noqa: E402
from bench.crawl import ceiling  # noqa: E402
from crawler.service.supervisor import Supervisor, crawl_command  # noqa: E402
from crawler.service.warm.pool import PoolOptions, WarmPool, worker_command  # noqa: E402
from pipelines.store.database import Store  # noqa: E402


def write_config(folder: Path, port: int, sources: int, every: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    entries = "".join(
        f"  - name: s{i:05d}\n    feeds: ['http://{address(i)}:{port}/feed.xml']\n"
        for i in range(sources)
    )
    # delay 0 as in bench/crawl.py: a site's delay adds waiting to a poll, not CPU.
    (folder / "sources.yaml").write_text(
        f"defaults: {{every: {every:g}s, jitter: 0s, delay: 0s, concurrency: 4, timeout: 2m}}\n"
        f"sources:\n{entries}",
        encoding="utf-8",
    )
    (folder / "watches.yaml").write_text(
        "defaults: {notify: [local]}\nwatches:\n  hbt:\n    any: [quận Hai Bà Trưng]\n",
        encoding="utf-8",
    )
    (folder / "channels.yaml").write_text(
        "channels:\n  local: {kind: file, path: alerts.jsonl}\n", encoding="utf-8"
    )


def cpu_of(pids: list[int]) -> float:
    """CPU seconds used so far by these live processes and their waited-for children."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
    return total


def workers_cpu(live: list[int]) -> float:
    """CPU of the live workers, plus all that exited workers (and their cleaning processes)
    used: a recycled worker's CPU is then still counted."""
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return cpu_of(live) + reaped.ru_utime + reaped.ru_stime


def control(port: int, path: str) -> object:
    with urllib.request.urlopen(f"http://{address(0)}:{port}{path}", timeout=60) as answer:
        return json.loads(answer.read())


async def warm_rounds(pool: WarmPool, names: list[str], rounds: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, polls that were not ok) of ``rounds`` rounds of every source."""
    bad = 0
    wall = cpu = 0.0
    for _ in range(rounds):
        pids = pool.worker_pids
        before = workers_cpu(pids) + time.process_time()
        started = time.perf_counter()
        outcomes = await asyncio.gather(*(pool.crawl(n, 120) for n in names))
        wall += time.perf_counter() - started
        cpu += workers_cpu(pool.worker_pids) + time.process_time() - before
        bad += sum(1 for o in outcomes if o is None or not o.ok)
        if pool.worker_pids != pids:
            print(f"    (workers recycled during the round: {pids} -> {pool.worker_pids})")
    return wall, cpu, bad


async def phase_warm(
    store: Store, config: Path, data: Path, names: list[str], workers: int
) -> tuple[WarmPool, float, float, int]:
    pool = WarmPool(store, worker_command(config, data), PoolOptions(workers=workers))
    await pool.crawl(names[0], 120)  # start the workers
    while len(pool.worker_pids) < workers:
        await asyncio.gather(*(pool.crawl(n, 120) for n in names[:workers]))
    first = time.perf_counter()
    _, _, bad = await warm_rounds(pool, names, 1)  # first contact: validators stored
    print(f"    first round of {len(names)} sources: {time.perf_counter() - first:.1f} s, "
          f"{bad} not ok")  # fmt: skip
    wall, cpu, bad = await warm_rounds(pool, names, 2)
    return pool, wall, cpu, bad


async def phase_process(store: Store, config: Path, data: Path, names: list[str]) -> float:
    """CPU seconds per idle poll, each poll in a fresh ``newswatch crawl`` process."""
    supervisor = Supervisor(store, crawl_command(config, data, verbosity=-1), max_parallel=2)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    outcomes = await asyncio.gather(*(supervisor.crawl(n, 120) for n in names))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if any(o is None or not o.ok for o in outcomes):
        print(f"    baseline: {[o.error for o in outcomes if o and not o.ok][:3]}")
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return used / len(names)


def phase_lag(
    config: Path, data: Path, every: float, rounds: int, workers: int
) -> dict[str, float]:
    """Run the service for ``rounds`` intervals; the lateness of polls, from the runs table."""
    env = {**os.environ, "NEWSWATCH_CRAWL_WORKERS": str(workers), "PYTHONPATH": str(ROOT)}
    log = data / "service.log"
    since = datetime.utcnow().isoformat(sep=" ")  # the store keeps naive UTC
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "-q", "--config", str(config),
             "--data", str(data), "run"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
        )  # fmt: skip
        started_cpu = time.monotonic()
        time.sleep(every * rounds)
        pids = [proc.pid, *children(proc.pid)]
        cpu = cpu_of(pids)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        elapsed = time.monotonic() - started_cpu
    db = sqlite3.connect(data / "newswatch.db")
    rows = db.execute(
        "SELECT source, started_at, status FROM runs WHERE started_at > ? ORDER BY started_at",
        (since,),
    ).fetchall()
    db.close()
    starts: dict[str, list[datetime]] = {}
    bad = 0
    for source, at, status in rows:
        starts.setdefault(source, []).append(datetime.fromisoformat(str(at)))
        bad += status not in ("ok", "running")
    gaps = [
        (b - a).total_seconds() - every
        for times in starts.values()
        for a, b in itertools.pairwise(times)
    ]
    gaps.sort()
    return {
        "polls": len(rows),
        "bad": bad,
        "sources": len(starts),
        "max_lag": gaps[-1] if gaps else float("nan"),
        "p99_lag": gaps[int(len(gaps) * 0.99)] if gaps else float("nan"),
        "cpu": cpu,
        "elapsed": elapsed,
    }


def children(pid: int) -> list[int]:
    """Process ids of the direct children of ``pid`` (the service's crawl workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


async def phase_articles(
    pool: WarmPool, port: int, names: list[str], sources: int, each: int
) -> tuple[float, int, list[str]]:
    """Publish, then one round of the sources that have new articles: (wall, stored, urls)."""
    control(port, f"/_publish?sites={sources}&each={each}")
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(pool.crawl(n, 600) for n in names[:sources]))
    wall = time.perf_counter() - started
    stored = sum(o.new_articles for o in outcomes if o is not None)
    urls = []
    for i in range(sources):
        with urllib.request.urlopen(f"http://{address(i)}:{port}/feed.xml", timeout=60) as r:
            feed = r.read().decode()
        urls += [part.split("</link>")[0] for part in feed.split("<link>")[2:]]
    return wall, stored, urls


def _print_lag(lag: dict[str, float], every: float) -> None:
    print(f"(c) newswatch run, {lag['sources']:.0f} sources every {every:g} s for "
          f"{lag['elapsed']:.0f} s: {lag['polls']:.0f} polls ({lag['bad']:.0f} not ok); most "
          f"overdue source {lag['max_lag']:.1f} s late (p99 {lag['p99_lag']:.1f} s); "
          f"CPU {lag['cpu'] / max(lag['elapsed'], 1):.2f} cores   target <= {every:g} s: "
          f"{'met' if lag['max_lag'] <= every else 'MISSED'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sources", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--baseline", type=int, default=20, help="polls of the baseline")
    parser.add_argument("--every", type=float, default=60.0, help="interval of (c), seconds")
    parser.add_argument("--rounds", type=int, default=3, help="intervals (c) runs for")
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--article-sources", type=int, default=20)
    parser.add_argument(
        "--lag-only", action="store_true", help="only (c): a long run at a real interval"
    )
    args = parser.parse_args()
    each = max(1, args.articles // args.article_sources)
    with tempfile.TemporaryDirectory(prefix="nw-scale-") as tmp:
        root = Path(tmp)
        site = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "_scalesite.py"), str(args.sources)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        assert site.stdout is not None
        port = int(site.stdout.readline().split()[1])
        try:
            config, data = root / "config", root / "var"
            write_config(config, port, args.sources, args.every)
            store = Store.for_data_dir(data)
            store.migrate()
            names = [f"s{i:05d}" for i in range(args.sources)]
            if args.lag_only:
                store.close()
                lag = phase_lag(config, data, args.every, args.rounds, args.workers)
                _print_lag(lag, args.every)
                return
            print(f"{args.sources} sources on {len(set(map(address, range(args.sources))))} "
                  f"loopback addresses, {args.workers} warm workers, "
                  f"{os.cpu_count()} cores")  # fmt: skip

            async def warm_and_articles() -> tuple[float, float, int, float, int, list[str]]:
                pool, wall, cpu, bad = await phase_warm(store, config, data, names, args.workers)
                art_wall, stored, urls = await phase_articles(
                    pool, port, names, args.article_sources, each
                )
                await pool.stop(5.0)
                return wall, cpu, bad, art_wall, stored, urls

            wall, cpu, bad, art_wall, stored, urls = asyncio.run(warm_and_articles())
            polls = 2 * args.sources
            sample = names[-args.baseline :]
            baseline = asyncio.run(phase_process(store, config, data, sample))
            store.close()
            pages = []
            for url in urls:
                with urllib.request.urlopen(url, timeout=60) as r:
                    pages.append(r.read().decode())
            t_ceiling = ceiling(pages, urls)
            lag = phase_lag(config, data, args.every, args.rounds, args.workers)
        finally:
            site.terminate()
            site.wait()
            site.stdout.close()
    per_poll = cpu / polls
    print(f"(a) CPU per poll, nothing new: warm {per_poll * 1000:7.1f} ms "
          f"({polls} polls, {bad} not ok)   process per poll {baseline * 1000:7.1f} ms "
          f"({len(sample)} polls)   = {baseline / per_poll:.0f}x less")  # fmt: skip
    cores = os.cpu_count() or 1
    print(f"    sources per core at a 5-minute interval: warm {300 / per_poll:,.0f}, "
          f"process per poll {300 / baseline:,.0f}   target <= 30 ms: "
          f"{'met' if per_poll <= 0.030 else 'MISSED'}")  # fmt: skip
    print(f"(b) polls per second sustained (warm, every source due at once): "
          f"{polls / wall:,.0f} on {cores} cores")  # fmt: skip
    _print_lag(lag, args.every)
    rate, ceiling_rate = stored / art_wall, len(urls) / t_ceiling
    print(f"(d) round with new articles: {stored} stored from {args.article_sources} sources in "
          f"{art_wall:.2f} s = {rate:.1f} articles/s; trafilatura alone on all cores "
          f"{ceiling_rate:.1f} articles/s; ratio {rate / ceiling_rate:.2f}   target >= 0.8: "
          f"{'met' if rate / ceiling_rate >= 0.8 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
