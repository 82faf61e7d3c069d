"""Crawl throughput and incremental cost, against the local news site (not a test).

One run, all against the same generated site (N article pages, a feed and a sitemap) served
with a fixed response latency:

  (a) newswatch's full round: crawl, clean, match, store (``newswatch crawl``)
  (b) what a user would write: sequential ``requests`` + trafilatura over the same URLs
  (c) trafilatura alone over the same saved pages on all cores (the CPU ceiling)
  (d) a second newswatch round with nothing new: requests, bytes, time

Usage: python bench/crawl.py [--articles 300] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
import trafilatura

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.demo.localsite import read_request_log  # noqa: E402
from crawler.demo.sitepages import SiteArticle, write_article  # noqa: E402

ICT = timezone(timedelta(hours=7))
WORDS = [
    "thành",
    "phố",
    "quận",
    "phường",
    "người",
    "dân",
    "cán",
    "bộ",
    "công",
    "trình",
    "dự",
    "án",
    "giao",
    "thông",
    "trường",
    "học",
    "bệnh",
    "viện",
    "chợ",
    "đường",
    "phố",
    "hội",
    "nghị",
    "kinh",
    "tế",
    "xã",
    "hội",
    "ngân",
    "sách",
    "đầu",
    "tư",
    "chỉnh",
    "trang",
    "đô",
    "thị",
    "môi",
    "trường",
    "cây",
    "xanh",
    "an",
    "toàn",
    "thực",
    "phẩm",
    "văn",
    "hóa",
    "thể",
    "thao",
    "du",
    "lịch",
]
PLACES = [
    "quận Hai Bà Trưng",
    "quận Đống Đa",
    "phường Bạch Mai",
    "quận Cầu Giấy",
    "huyện Đông Anh",
    "phường Vĩnh Tuy",
]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(14, 26))]
    if rng.random() < 0.3:
        words.insert(rng.randint(0, len(words)), rng.choice(PLACES))
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def build_site(root: Path, count: int) -> None:
    rng = random.Random(7)
    now = datetime.now(ICT).replace(microsecond=0)
    for i in range(count):
        paragraphs = tuple(" ".join(_sentence(rng) for _ in range(3)) for _ in range(8))
        write_article(
            root,
            SiteArticle(
                id=300000 + i,
                slug=f"tin-so-{i}-ve-chu-de-{i % 17}",
                title=_sentence(rng)[:90],
                sapo=_sentence(rng),
                paragraphs=paragraphs,
                section=rng.choice(["thoi-su", "xa-hoi", "kinh-te"]),
                published=(now - timedelta(minutes=i)).isoformat(),
            ),
        )


def start_site(root: Path, latency: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crawler.demo.localsite",
            str(root),
            "--latency",
            str(latency),
            "--heavy",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().split()[1]


def write_config(folder: Path, url: str, concurrency: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sources.yaml").write_text(
        f"defaults: {{delay: 0s, concurrency: {concurrency}, timeout: 10m}}\nsources:\n"
        f"  - name: bench\n    feeds: [{url}rss/home.rss]\n    sitemaps: [{url}sitemap.xml]\n"
    )
    (folder / "watches.yaml").write_text(
        "watches:\n  hbt:\n    any: [quận Hai Bà Trưng, phường Bạch Mai]\n    notify: [local]\n"
    )
    (folder / "channels.yaml").write_text("channels:\n  local: {kind: file, path: alerts.jsonl}\n")


def newswatch_round(cfg: Path, data: Path, articles: int) -> tuple[float, dict[str, object]]:
    env = {**os.environ, "NEWSWATCH_MAX_ARTICLES": str(max(articles, 500))}  # all in one round
    started = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawler.cli",
            "-q",
            "--config",
            str(cfg),
            "--data",
            str(data),
            "crawl",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env=env,
    )
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        sys.exit(f"newswatch crawl failed:\n{out.stdout}\n{out.stderr}")
    return elapsed, json.loads(out.stdout.strip().splitlines()[-1])


def _extract(args: tuple[str, str]) -> bool:
    html, url = args
    doc = trafilatura.bare_extraction(
        html, url=url, include_comments=False, with_metadata=True, fast=True
    )
    return doc is not None


def naive_loop(urls: list[str]) -> tuple[float, list[str]]:
    pages = []
    started = time.perf_counter()
    with requests.Session() as session:
        for url in urls:
            html = session.get(url, timeout=30).text
            trafilatura.bare_extraction(
                html, url=url, include_comments=False, with_metadata=True, fast=True
            )
            pages.append(html)
    return time.perf_counter() - started, pages


def ceiling(pages: list[str], urls: list[str]) -> float:
    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_extract, [(pages[0], urls[0])] * workers))  # warm the workers
        started = time.perf_counter()
        list(pool.map(_extract, zip(pages, urls, strict=True), chunksize=4))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nw-bench-") as tmp:
        root = Path(tmp)
        build_site(root / "site", args.articles)
        proc, url = start_site(root / "site", args.latency)
        try:
            write_config(root / "config", url, args.concurrency)
            t_a, s_a = newswatch_round(root / "config", root / "var", args.articles)
            log_a = read_request_log(root / "site")
            urls = sorted(
                {url.rstrip("/") + r["path"] for r in log_a if r["path"].endswith(".html")}
            )
            t_b, pages = naive_loop(urls)
            t_c = ceiling(pages, urls)
            before = len(read_request_log(root / "site"))
            t_d, s_d = newswatch_round(root / "config", root / "var", args.articles)
            log_d = read_request_log(root / "site")[before:]
        finally:
            proc.terminate()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
    n = len(urls)
    bytes_a = sum(int(r["bytes"]) for r in log_a)
    bytes_d = sum(int(r["bytes"]) for r in log_d)
    index_d = [r for r in log_d if r["path"] != "/robots.txt"]
    page_kb = sum(int(r["bytes"]) for r in log_a if r["path"].endswith(".html")) / n / 1024
    print(
        f"site: {args.articles} articles (pages of {page_kb:.0f} KB on average), "
        f"{args.latency * 1000:.0f} ms latency, {os.cpu_count()} cores; "
        f"newswatch concurrency {args.concurrency}"
    )
    print(
        f"(a) newswatch full round   {n / t_a:8.1f} articles/s  ({n} articles, {t_a:.2f} s, "
        f"{s_a['new_articles']} stored, {s_a['alerts']} alerts)"
    )
    print(f"(b) requests + trafilatura {n / t_b:8.1f} articles/s  ({t_b:.2f} s, sequential)")
    print(f"(c) trafilatura, all cores {n / t_c:8.1f} articles/s  ({t_c:.2f} s, no network)")
    print(f"    a/c = {t_c / t_a:.2f} (target >= 0.8)   a/b = {t_b / t_a:.2f} (target >= 3)")
    print(
        f"(d) second round: {len(log_d)} requests, "
        f"{sum(1 for r in log_d if r['path'].endswith('.html'))} article requests, "
        f"{sum(1 for r in index_d if r['conditional'] and r['status'] == 304)}/{len(index_d)} "
        f"index requests conditional and 304, {bytes_d} bytes "
        f"({100 * bytes_d / max(bytes_a, 1):.3f}% of round 1's {bytes_a}), {t_d:.2f} s, "
        f"{s_d['new_articles']} new"
    )


if __name__ == "__main__":
    main()
