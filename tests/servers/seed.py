"""Put alerts into a store the way the crawler does (one transaction per article), for tests.

``record_alerts(store, 3, channels=["newsroom"])`` stores three made-up Vietnamese articles
that mention "quận Hai Bà Trưng", each with its hit, alert and one delivery per channel.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from pipelines.store.articles import ArticleRecord, HitRecord, MatchRecord
from pipelines.store.database import Store
from pipelines.store.schema import deliveries

__all__ = ["HOSTILE_TITLE", "Clock", "new_store", "record_alerts", "set_times"]

HOSTILE_TITLE = '<script>alert(1)</script> @everyone *đậm* <b>quận</b> & "Hai Bà Trưng" <!channel>'


_WORDS = (
    "cầu đường trường học chợ công viên nhà văn hóa bệnh viện ngõ phố hồ nước cây xanh bãi xe "
    "trạm điện cống thoát nước vỉa hè đèn chiếu sáng sân chơi thư viện nhà tập thể ký túc xá "
    "bến xe ga tàu nhà máy kho hàng rạp hát sân vận động"
)
SYLLABLES = _WORDS.split(" ")


def record_alerts(
    store: Store,
    count: int,
    *,
    channels: Sequence[str] = ("newsroom",),
    watch: str = "quan-hai-ba-trung",
    label: str = "Quận Hai Bà Trưng",
    title: str | None = None,
    start: int = 0,
    published: datetime | None = None,
    source: str = "tuoitrethudo",
) -> list[int]:
    """Record ``count`` articles matching ``watch``; returns their article ids. Another
    ``source`` with the same ``start`` records copies of the same news from that outlet
    (they join the first outlet's stories and alert nothing)."""
    ids: list[int] = []
    for n in range(start, start + count):
        # Each article a different piece of news (made of its own words), or the copies
        # would be grouped into one story and alert once.
        words = random.Random(n).choices(SYLLABLES, k=80)
        text = (
            f"Sáng nay, UBND quận Hai Bà Trưng họp bàn về dự án số {n}. "
            f"Người dân phường Bạch Mai góp ý kiến: {' '.join(words)}."
        )
        begin = text.index("quận Hai Bà Trưng")
        hit = HitRecord(
            term="quận Hai Bà Trưng",
            start=begin,
            end=begin + 17,
            text="quận Hai Bà Trưng",
            snippet=text[: begin + 40],
        )
        article = ArticleRecord(
            url=f"https://{source}.vn/du-an-so-{n}-{watch}.html",
            source=source,
            title=title if title is not None else f"Quận Hai Bà Trưng khởi công dự án số {n}",
            text=text,
            published=published or datetime(2026, 11, 26, 2, 30, tzinfo=UTC),
        )
        result = store.record_article(article, [MatchRecord(watch, label, [hit], channels)])
        assert result.article_id is not None
        ids.append(result.article_id)
    return ids


class Clock:
    """An injected clock for the Dispatcher: time moves only when the test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        # a little ahead of the real clock, so alerts just recorded are due
        self.now = start or datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def new_store(data_dir: Path) -> Store:
    """A migrated SQLite store under ``data_dir`` (close it at the end of the test)."""
    store = Store.for_data_dir(data_dir)
    store.migrate()
    return store


def set_times(store: Store, when: datetime) -> None:
    """Pretend every queued delivery was created (and first due) at ``when``."""
    with store.begin() as conn:
        conn.execute(update(deliveries).values(created_at=when, next_attempt=when))
