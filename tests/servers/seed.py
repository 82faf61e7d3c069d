"""Put alerts into a store the way the crawler does (one transaction per article), for tests.

``record_alerts(store, 3, channels=["newsroom"])`` stores three made-up Vietnamese articles
that mention "quận Hai Bà Trưng", each with its hit, alert and one delivery per channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pipelines.store import ArticleRecord, HitRecord, MatchRecord, Store

__all__ = ["HOSTILE_TITLE", "record_alerts"]

HOSTILE_TITLE = '<script>alert(1)</script> @everyone *đậm* <b>quận</b> & "Hai Bà Trưng" <!channel>'


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
) -> list[int]:
    """Record ``count`` articles matching ``watch``; returns their article ids."""
    ids: list[int] = []
    for n in range(start, start + count):
        text = (
            f"Sáng nay, UBND quận Hai Bà Trưng họp bàn về dự án số {n}. "
            "Người dân phường Bạch Mai góp ý kiến."
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
            url=f"https://tuoitrethudo.vn/du-an-so-{n}-{watch}.html",
            source="tuoitrethudo",
            title=title if title is not None else f"Quận Hai Bà Trưng khởi công dự án số {n}",
            text=text,
            published=published or datetime(2026, 11, 26, 2, 30, tzinfo=UTC),
        )
        result = store.record_article(article, [MatchRecord(watch, label, [hit], channels)])
        assert result.article_id is not None
        ids.append(result.article_id)
    return ids
