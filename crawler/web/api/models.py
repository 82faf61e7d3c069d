"""The JSON shapes of ``/api/v1`` (pydantic models, so the OpenAPI schema is the code).

An alert reuses the webhook payload's ``watch`` and ``article`` objects (same keys, times in
ISO 8601 with the +07:00 offset); lists are ``{"items": [...], "next_cursor": ...}``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = [
    "AlertOut",
    "AlertPage",
    "ArticleDetail",
    "ArticleOut",
    "DeliveryOut",
    "DeliveryPage",
    "HitOut",
    "SearchPage",
    "SourceOut",
    "VerdictOut",
    "WatchOut",
    "WatchRef",
]


class HitOut(BaseModel):
    """One matched term: offsets are in the article's stored text (title, newline, body)."""

    term: str
    text: str
    start: int
    end: int


class WatchRef(BaseModel):
    name: str
    label: str


class ArticleOut(BaseModel):
    """The webhook payload's ``article``, plus the article's id in this store."""

    id: int
    url: str
    title: str
    source: str
    published: str | None
    snippet: str
    hits: list[HitOut]


class AlertOut(BaseModel):
    id: int
    type: str = "watch.matched"
    created_at: str
    watch: WatchRef
    article: ArticleOut
    deliveries: dict[str, str] = Field(
        description="channel -> pending | retrying | delivered | dead"
    )
    also_in: list[str] = Field(
        default_factory=list,
        description="the other outlets that carried the article's story, first seen first",
    )


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


class VerdictOut(BaseModel):
    """Why one configured watch matches the article or not (``newswatch match``'s reasons)."""

    name: str
    label: str
    matched: bool
    alerted: bool
    reasons: list[str]
    hits: list[HitOut]


class ArticleDetail(BaseModel):
    id: int
    url: str
    title: str
    source: str
    published: str | None
    fetched_at: str
    author: str | None
    text: str
    watches: list[VerdictOut]


class SourceOut(BaseModel):
    name: str
    last_run: str | None
    result: str | None
    last_success: str | None
    last_new_article: str | None
    consecutive_failures: int
    last_error: str | None
    alarm: str | None
    stale: bool
    articles_24h: int
    articles_7d: int
    lag_seconds: float | None = Field(description="median publication-to-fetch delay")


class WatchOut(BaseModel):
    name: str
    label: str
    any: list[str]
    all: list[str]
    not_: list[str] = Field(alias="not")
    except_in: list[str]
    near: dict[str, object] | None
    query: str | None
    notify: list[str]
    digest: str
    alerts_per_day: list[int] = Field(description="the last 14 days, oldest first")


class SearchPage(BaseModel):
    items: list[ArticleOut]
    next_cursor: str | None


class DeliveryOut(BaseModel):
    id: int
    channel: str
    state: str
    attempts: int
    next_attempt: str | None
    last_error: str | None
    watch: str
    article_id: int
    title: str


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
