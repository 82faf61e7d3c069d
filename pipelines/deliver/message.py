"""What is sent: a :class:`Message` (an alert, a digest or a notice) of alert :class:`Item`
objects, each with the :class:`StoryRef` of its article.

The renderers (:mod:`pipelines.deliver.render`, :mod:`pipelines.deliver.render_chat`) turn
it into webhook JSON, email and chat messages; the outbox builds it from the store. Pure
data; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pipelines.deliver.wording import DEFAULT_LANGUAGE

__all__ = ["DEFAULT_TIMEZONE", "Hit", "Item", "Message", "StoryRef"]

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class Hit:
    """One matched term in the article, as the matcher stored it."""

    term: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class StoryRef:
    """The story an alerted article belongs to, as it stands when the message is sent."""

    id: str
    first_seen: datetime
    articles: int
    outlets: tuple[str, ...] = ()  # every source that carried it, first one first
    update: bool = False  # a story.updated event (a new outlet), not the story's first alert
    first_message_id: str = ""  # the story's first alert on this channel (email threading)


@dataclass(frozen=True)
class Item:
    """One alert: a watch matched an article."""

    watch: str
    label: str
    url: str
    title: str
    source: str
    published: datetime | None
    snippet: str
    hits: tuple[Hit, ...] = ()
    message_id: str = ""
    story: StoryRef | None = None


@dataclass(frozen=True)
class Message:
    """One message to send through one channel: an alert, a digest or an operator notice.

    ``id`` is stable across retries and restarts (``webhook-id``, email ``Message-ID``).
    """

    kind: Literal["alert", "digest", "notice"]
    id: str
    items: tuple[Item, ...] = ()
    title: str = ""
    text: str = ""
    reason: str = ""
    timezone: str = DEFAULT_TIMEZONE
    language: str = DEFAULT_LANGUAGE  # of every text that is not the article's (wording.py)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def watches(self) -> list[str]:
        return list(dict.fromkeys(item.watch for item in self.items))
