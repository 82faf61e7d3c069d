"""How a :class:`~pipelines.deliver.message.Message` looks as webhook JSON and as email; the
chat apps' formats are in :mod:`pipelines.deliver.render_chat`.

Pure functions; no I/O. Article text is untrusted (a headline can contain ``<script>``,
``@everyone`` or markup), so every format escapes it for its own syntax *before* the hit
highlighting wraps the matched words: in HTML (email) ``html.escape`` on every piece and
``<b>`` around hits.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.deliver.mailheaders import POLICY, set_address_header, set_text_header
from pipelines.deliver.message import (
    DEFAULT_TIMEZONE,
    Entry,
    Hit,
    Item,
    Message,
    StoryRef,
    also_in,
    story_entries,
)
from pipelines.deliver.wording import DEFAULT_LANGUAGE, date_text, words

__all__ = [
    "DEFAULT_TIMEZONE",
    "Entry",
    "Hit",
    "Item",
    "Message",
    "StoryRef",
    "also_in",
    "email_message",
    "highlight",
    "html_escape",
    "human_time",
    "iso_time",
    "one_line",
    "plain_text",
    "sample_message",
    "story_entries",
    "webhook_payload",
]

MAX_TITLE = 180


# -- pieces ------------------------------------------------------------------------------


def one_line(text: str, limit: int = MAX_TITLE) -> str:
    """Collapse whitespace (no header injection, no broken layouts) and cap the length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def local_time(when: datetime | None, timezone: str) -> datetime | None:
    return None if when is None else when.astimezone(ZoneInfo(timezone))


def iso_time(when: datetime | None, timezone: str) -> str | None:
    """ISO 8601 with the offset of the presentation zone (``…+07:00``)."""
    local = local_time(when, timezone)
    return None if local is None else local.isoformat(timespec="seconds")


def human_time(when: datetime | None, timezone: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The local time as the readers of ``language`` write it (``14/01/2022 10:30``)."""
    local = local_time(when, timezone)
    return "" if local is None else date_text(local, language)


def meta_line(item: Item, message: Message, escape: Callable[[str], str] = str) -> str:
    """``Nguồn: tuoitrethudo · Đăng lúc: 14/01/2022 10:30`` in the message's language."""
    label = words(message.language)
    when = human_time(item.published, message.timezone, message.language)
    parts = [f"{label['source']}: {escape(item.source)}"] if item.source else []
    if when:
        parts.append(f"{label['published']}: {when}")
    return " · ".join(parts)


def segments(snippet: str, hits: Sequence[Hit]) -> list[tuple[str, bool]]:
    """Split a snippet into (text, is_hit) pieces, hits being the matched words it contains."""
    words = sorted({h.text for h in hits if h.text}, key=len, reverse=True)
    if not words:
        return [(snippet, False)] if snippet else []
    pattern = re.compile("|".join(re.escape(w) for w in words))
    out: list[tuple[str, bool]] = []
    pos = 0
    for found in pattern.finditer(snippet):
        if found.start() > pos:
            out.append((snippet[pos : found.start()], False))
        out.append((found.group(0), True))
        pos = found.end()
    if pos < len(snippet):
        out.append((snippet[pos:], False))
    return out


def highlight(
    snippet: str, hits: Sequence[Hit], escape: Callable[[str], str], bold: Callable[[str], str]
) -> str:
    return "".join(bold(escape(t)) if hit else escape(t) for t, hit in segments(snippet, hits))


def html_escape(text: str) -> str:
    return html.escape(text, quote=True)


def _star(text: str) -> str:
    """A hit in plain text: ``*quận Hai Bà Trưng*``."""
    return f"*{text}*"


def _html_bold(text: str) -> str:
    return f"<b>{text}</b>"


def match_text(
    item: Item, entry: Entry, escape: Callable[[str], str], bold: Callable[[str], str]
) -> str:
    """Why another watch of an entry fired: its highlighted snippet, and its outlet when that
    is not the shown article's (it matched the story in another paper)."""
    text = highlight(item.snippet, item.hits, escape, bold)
    return text if item.source == entry.first.source else f"{text} ({escape(item.source)})"


# -- webhook / file ----------------------------------------------------------------------


def story_json(story: StoryRef, timezone: str) -> dict[str, Any]:
    return {
        "id": story.id,
        "first_seen": iso_time(story.first_seen, timezone),
        "articles": story.articles,
    }


def article_json(item: Item, timezone: str) -> dict[str, Any]:
    return {
        "url": item.url,
        "title": item.title,
        "source": item.source,
        "published": iso_time(item.published, timezone),
        "snippet": item.snippet,
        "hits": [
            {"term": h.term, "text": h.text, "start": h.start, "end": h.end} for h in item.hits
        ],
    }


def webhook_payload(message: Message) -> dict[str, Any]:
    """The JSON body fixed by the webhook contract (also one line of the ``file`` channel)."""
    if message.kind == "notice":
        return {
            "type": "newswatch.notice",
            "id": message.id,
            "title": message.title,
            "text": message.text,
        }
    if message.kind == "digest":
        articles = []
        for item in message.items:
            entry = article_json(item, message.timezone)
            entry["watch"] = {"name": item.watch, "label": item.label}
            entry["id"] = item.message_id
            if item.story is not None:
                entry["story"] = story_json(item.story, message.timezone)
                entry["also_in"] = [o for o in item.story.outlets if o != item.source]
            articles.append(entry)
        return {
            "type": "watch.digest",
            "id": message.id,
            "reason": message.reason,
            "articles": articles,
        }
    item = message.items[0]
    payload: dict[str, Any] = {
        "type": "story.updated" if item.story and item.story.update else "watch.matched",
        "id": message.id,
        "watch": {"name": item.watch, "label": item.label},
        "article": article_json(item, message.timezone),
    }
    if item.story is not None:
        payload["story"] = story_json(item.story, message.timezone)
    return payload


# -- email ---------------------------------------------------------------------------------


def subject(message: Message) -> str:
    if message.kind == "notice":
        return one_line(f"[newswatch] {message.title}")
    if message.kind == "digest":
        labels = ", ".join(dict.fromkeys(i.label for i in message.items))
        stories = len(story_entries(message.items))
        count = words(message.language)["new_articles"].format(n=stories)
        return one_line(f"[{labels}] {count}")
    item = message.items[0]
    if item.story and item.story.update:
        update = words(message.language)["update"]
        return one_line(f"[{item.label}] {update} ({item.source}): {item.title}")
    return one_line(f"[{item.label}] {item.title}")


def plain_text(message: Message) -> str:
    """The text/plain part (also used by Apprise and as the chat fallback)."""
    if message.kind == "notice":
        return f"{message.title}\n\n{message.text}\n\n-- \nnewswatch\n"
    blocks = []
    for entry in story_entries(message.items):
        item = entry.first
        meta = meta_line(item, message)
        snippet = highlight(item.snippet, item.hits, str, _star)
        labels = ", ".join(entry.labels)
        block = f"[{labels}] {one_line(item.title)}\n{item.url}\n{meta}\n{snippet}"
        for other in entry.other_matches:
            block += f"\n[{other.label}] {match_text(other, entry, str, _star)}"
        if others := also_in(entry):
            block += f"\n{words(message.language)['also_in']}: {others}"
        blocks.append(block)
    watching = words(message.language)["watches"]
    footer = f"-- \nnewswatch · {watching}: " + ", ".join(message.watches) + "\n"
    return "\n\n".join(blocks) + "\n\n" + footer


def html_body(message: Message) -> str:
    """The text/html part: simple inline-styled HTML, every piece of article text escaped."""
    if message.kind == "notice":
        return (
            f"<html><body><h3>{html_escape(message.title)}</h3>"
            f"<p>{html_escape(message.text)}</p></body></html>"
        )
    label = words(message.language)
    parts = [f'<html lang="{message.language}"><body style="font-family:sans-serif">']
    for entry in story_entries(message.items):
        item = entry.first
        meta = meta_line(item, message, html_escape)
        snippet = highlight(item.snippet, item.hits, html_escape, _html_bold)
        parts.append(
            f'<div style="margin-bottom:16px">'
            f'<div style="color:#666;font-size:12px">{label["alert"]} · '
            f"{html_escape(', '.join(entry.labels))}</div>"
            f'<a href="{html_escape(item.url)}" style="font-size:16px">'
            f"{html_escape(one_line(item.title))}</a>"
            f'<div style="color:#080;font-size:12px">{meta}</div>'
            f"<div>{snippet}</div>"
            + "".join(
                f'<div><span style="color:#666">{html_escape(other.label)}:</span> '
                f"{match_text(other, entry, html_escape, _html_bold)}</div>"
                for other in entry.other_matches
            )
            + (
                f'<div style="color:#666;font-size:12px">{label["also_in"]}: '
                f"{html_escape(others)}</div>"
                if (others := also_in(entry))
                else ""
            )
            + "</div>"
        )
    parts.append(
        f'<hr><div style="color:#666;font-size:12px">newswatch · {label["watches"]}: '
        + html_escape(", ".join(message.watches))
        + "</div></body></html>"
    )
    return "".join(parts)


def email_message(
    message: Message, *, sender: str, to: Sequence[str], now: datetime
) -> EmailMessage:
    """A multipart/alternative email with deterministic ``Message-ID`` and threading headers.

    ``Message-ID`` is ``<{message.id}@{domain of sender}>``, so a resend after a crash carries
    the same id and mailboxes collapse it; ``References``/``In-Reply-To`` point at one
    synthetic root per watch so clients thread a watch's alerts together, and a story update
    replies to its story's first alert.
    """
    domain = parseaddr(sender)[1].rpartition("@")[2] or "newswatch.invalid"
    msg = EmailMessage(policy=POLICY)
    set_text_header(msg, "Subject", subject(message))
    set_address_header(msg, "From", [sender])
    set_address_header(msg, "To", to)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{message.id}@{domain}>"
    if message.kind != "notice" and message.items:
        roots = " ".join(f"<watch-{_header_token(w)}@{domain}>" for w in message.watches)
        story = message.items[0].story
        if message.kind == "alert" and story and story.update and story.first_message_id:
            first = f"<{story.first_message_id}@{domain}>"
            msg["References"] = f"{roots} {first}"
            msg["In-Reply-To"] = first
        else:
            msg["References"] = roots
            msg["In-Reply-To"] = roots.split(" ")[0]
        msg["List-Id"] = (
            f"newswatch {_header_token(message.watches[0])} "
            f"<{_header_token(message.watches[0])}.newswatch.{domain}>"
        )
    else:
        msg["List-Id"] = f"newswatch notices <notices.newswatch.{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(plain_text(message), cte="quoted-printable")
    msg.add_alternative(html_body(message), subtype="html", cte="quoted-printable")
    return msg


def _header_token(text: str) -> str:
    """A watch name made safe for a Message-ID / List-Id token."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "watch"


def sample_message(language: str = DEFAULT_LANGUAGE) -> Message:
    """A made-up Vietnamese alert for ``newswatch test-alert`` (not from any real site)."""
    now = datetime.now(UTC)
    snippet = (
        "UBND quận Hai Bà Trưng tổ chức hội nghị triển khai kế hoạch chỉnh trang đô thị năm 2026."
    )
    item = Item(
        watch="newswatch-test",
        label=words(language)["test_label"],
        url="https://example.vn/tin-thu-nghiem-123.html",
        title="Quận Hai Bà Trưng triển khai kế hoạch chỉnh trang đô thị",
        source="example.vn",
        published=now,
        snippet=snippet,
        hits=(Hit("quận Hai Bà Trưng", "quận Hai Bà Trưng", 5, 22),),
        message_id="",
    )
    message_id = f"nw_test_{int(now.timestamp() * 1000):x}"
    return Message("alert", message_id, items=(item,), language=language)
