"""Benchmark of archive search (not a test): ``python -m bench.search [--articles 100000]``.

Fills a store with ``--articles`` generated Vietnamese news-like articles (~1.5 KB each,
people named with a Zipf-like spread, so that the popular names co-occur in hundreds of
articles), on SQLite and on PostgreSQL (``--postgres URL`` of a server where a scratch
database may be created; skipped with a note when unreachable). Then, for each engine,
it times a two-name query (``"A" AND "B"`` for the two most mentioned names, and for two rarer ones)
as ``newswatch search`` runs it -- the full-text index finds candidates, the matcher
verifies them, newest first, ``--limit 20`` -- beside the baseline: a plain scan of every
stored text with the matcher. Target: <= 200 ms per query on both engines.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench._scratch

from bench._scratch import scratch_databases
from pipelines.match.text import document_text
from pipelines.store.articles import ArticleRecord
from pipelines.store.database import Store
from pipelines.store.schema import utcnow
from pipelines.store.search import search

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Quang", "Thanh", "Hữu", "Ngọc"]
GIVEN = ["Phong", "Hùng", "Lan", "Hà", "Sơn", "Tuấn", "Hải", "Dũng", "Hương", "Bình", "Long"]
PLACES = ["Hai Bà Trưng", "Hoàn Kiếm", "Đống Đa", "Cầu Giấy", "Tây Hồ", "Long Biên"]
SENTENCES = [
    "Chiều {d}/{m}, {t} {p} làm việc với lãnh đạo quận {q} về kết quả thực hiện nhiệm vụ.",
    "Phát biểu tại hội nghị, {t} {p} đề nghị các đơn vị tập trung tháo gỡ khó khăn.",
    "Theo báo cáo, quận {q} đã hoàn thành nhiều chỉ tiêu quan trọng trong năm.",
    "Người dân phường {q} phấn khởi khi công trình được đưa vào sử dụng đúng hẹn.",
    "Dự án cải tạo hạ tầng giao thông được triển khai theo đúng tiến độ đề ra.",
    "Ông {p} cho biết thành phố sẽ tiếp tục đầu tư cho giáo dục và y tế cơ sở.",
    "Các sở, ngành liên quan cần phối hợp chặt chẽ để bảo đảm an toàn giao thông.",
    "Hội nghị cũng thông qua kế hoạch phát triển kinh tế - xã hội giai đoạn tới.",
]
TITLES = ["Phó Bí thư Thành ủy", "Chủ tịch UBND quận", "Giám đốc Sở", "Phó Chủ tịch HĐND"]


def people(rng: random.Random, count: int) -> list[str]:
    names: dict[str, None] = {}
    while len(names) < count:
        names[f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"] = None
    return list(names)


def article(rng: random.Random, n: int, names: list[str], weights: list[float]) -> ArticleRecord:
    chosen = rng.choices(names, weights=weights, k=2)
    body = []
    for i in range(12):
        template = SENTENCES[(n + i * 3) % len(SENTENCES)]
        body.append(
            template.format(
                d=1 + n % 28,
                m=1 + n % 12,
                t=rng.choice(TITLES),
                p=chosen[i % 2],
                q=rng.choice(PLACES),
            )
        )
    title = f"{chosen[0]} làm việc tại quận {rng.choice(PLACES)}"
    canonical, _ = document_text(title, "\n\n".join(body))
    return ArticleRecord(
        url=f"https://bao{n % 12}.example.vn/tin-{n}.html",
        source=f"bao{n % 12}",
        title=title,
        text=canonical,
        published=utcnow() - timedelta(minutes=n),
    )


def fill(store: Store, count: int, seed: int) -> tuple[list[str], float]:
    rng = random.Random(seed)
    names = people(rng, 400)
    weights = [1.0 / (rank + 1) for rank in range(len(names))]  # Zipf-like
    started = time.perf_counter()
    batch = []
    for n in range(count):
        batch.append((article(rng, n, names, weights), []))
        if len(batch) == 500:
            store.record_articles(batch)
            batch = []
    if batch:
        store.record_articles(batch)
    return names, time.perf_counter() - started


def timed(run: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Median milliseconds over ``repeat`` runs, and what the run returned."""
    times, result = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def measure(store: Store, names: list[str], label: str) -> None:
    queries = {
        "two popular names": f'"{names[0]}" AND "{names[1]}"',
        "two rarer names": f'"{names[30]}" AND "{names[31]}"',
    }
    with store.engine.connect() as conn:
        for what, query in queries.items():
            fast, found = timed(lambda q=query: len(search(conn, q, limit=20)), 5)
            scan, scanned = timed(
                lambda q=query: len(search(conn, q, limit=20, use_index=False)), 1
            )
            verdict = "OK" if fast <= 200 else "OVER 200 ms"
            print(
                f"  {label:<10} {what:<18} index+matcher {fast:8.1f} ms ({found} found)   "
                f"plain scan {scan:9.1f} ms ({scanned} found)   x{scan / fast:,.0f}  {verdict}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server where a scratch database may be created",
    )
    args = parser.parse_args()
    print(f"archive search, {args.articles:,} stored articles, newest 20 answers per query")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        store.migrate()
        names, took = fill(store, args.articles, args.seed)
        print(f"  sqlite     filled in {took:.0f} s ({args.articles / took:,.0f} articles/s)")
        measure(store, names, "sqlite")
        store.close()
    with scratch_databases(args.postgres, 1, "  postgresql skipped: {}") as urls:
        for url in urls:
            store = Store(url)
            store.migrate()
            names, took = fill(store, args.articles, args.seed)
            print(f"  postgresql filled in {took:.0f} s ({args.articles / took:,.0f} articles/s)")
            with store.begin() as conn:
                conn.execute(text("ANALYZE"))
            measure(store, names, "postgresql")
            store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
