"""What is sent: a :class:`Message` (an alert, a digest or a notice) of alert :class:`Item`
objects, each with the :class:`StoryRef` of its article, and the entries a reader sees in
it: one per story (:func:`story_entries`).

Alerts are one per (watch, story), but a digest can still hold several alerts of one story:
a burst gathers the alerts of many watches, and with ``stories: updates`` a story's first
alert and its updates can fall in the same digest. People read one entry per story (every
watch that matched it named once, "also in" merged); the webhook / file JSON keeps one
article per alert (fixed contract), so receivers group by ``story.id`` themselves.

The renderers (:mod:`pipelines.deliver.render`, :mod:`pipelines.deliver.render_chat`) turn
it into webhook JSON, email and chat messages; the outbox builds it from the store. Pure
data and functions; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pipelines.deliver.wording import DEFAULT_LANGUAGE

__all__ = [
    "DEFAULT_TIMEZONE",
    "Entry",
    "Hit",
    "Item",
    "Message",
    "StoryRef",
    "also_in",
    "story_entries",
]

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


@dataclass(frozen=True)
class Entry:
    """One entry of a message as a reader sees it: the alerts of one story there (or one
    alert without a story), first one first. The first alert's article is the one shown
    (title, link, time, snippet)."""

    items: tuple[Item, ...]

    @property
    def first(self) -> Item:
        return self.items[0]

    @property
    def labels(self) -> list[str]:
        """Every watch that matched the story, each once, in order."""
        return list(dict.fromkeys(item.label for item in self.items))

    @property
    def other_matches(self) -> list[Item]:
        """Why each other watch fired: its first alert here, unless that shows the same
        snippet with the same words as the first alert (the heading names it already)."""
        seen = {self.first.watch}
        out = []
        for item in self.items[1:]:
            if item.watch not in seen and _matched(item) != _matched(self.first):
                out.append(item)
            seen.add(item.watch)
        return out

    @property
    def outlets(self) -> list[str]:
        """The story's outlets other than the shown article's, merged over the alerts."""
        merged = dict.fromkeys(o for i in self.items if i.story for o in i.story.outlets)
        merged.update(dict.fromkeys(i.source for i in self.items))
        return [o for o in merged if o != self.first.source]


def _matched(item: Item) -> tuple[str, frozenset[str]]:
    """What a reader sees of a match: the snippet and the matched words found in it."""
    return item.snippet, frozenset(h.text for h in item.hits if h.text and h.text in item.snippet)


def story_entries(items: Sequence[Item]) -> list[Entry]:
    """A message's alerts grouped by story (``story.id``), in the order of each story's first
    alert; an alert without a story is an entry of its own."""
    groups: dict[tuple[str, object], list[Item]] = {}
    for n, item in enumerate(items):
        key: tuple[str, object] = ("story", item.story.id) if item.story else ("alone", n)
        groups.setdefault(key, []).append(item)
    return [Entry(tuple(group)) for group in groups.values()]


def also_in(entry: Entry | Item, shown: int = 3) -> str:
    """The story's other outlets: ``"Hà Nội Mới, Kinh tế & Đô thị, +3"`` (empty if none)."""
    others = (entry if isinstance(entry, Entry) else Entry((entry,))).outlets
    if len(others) > shown:
        return ", ".join(others[:shown]) + f", +{len(others) - shown}"
    return ", ".join(others)
