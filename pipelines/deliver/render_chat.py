"""What an alert looks like in the chat apps: Telegram HTML, Slack mrkdwn, Discord embeds.

Each format escapes the untrusted article text for its own syntax *before* the hit
highlighting wraps the matched words:

- Telegram HTML: ``html.escape`` on every piece, ``<b>`` around hits;
- Slack mrkdwn: ``&``, ``<``, ``>`` as entities (``<!channel>`` and links cannot be
  injected), ``*`` around hits;
- Discord markdown: markdown characters backslash-escaped; mentions are also switched
  off in the payload (``allowed_mentions``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipelines.deliver.render import (
    Message,
    also_in,
    highlight,
    html_escape,
    iso_time,
    match_text,
    meta_line,
    one_line,
    story_entries,
)
from pipelines.deliver.wording import words

__all__ = ["ChatMarkup", "chat_html", "chat_text", "discord_payload", "slack_text"]


@dataclass(frozen=True)
class ChatMarkup:
    """How one chat app marks up an alert: its escaping, bold, link and bell."""

    escape: Callable[[str], str]
    bold: Callable[[str], str]
    link: Callable[[str, str], str]  # (escaped url, escaped title) -> markup
    bell: str


def chat_text(message: Message, markup: ChatMarkup, limit: int) -> str:
    """An alert, a digest or a notice as one chat message of at most about ``limit``
    characters; a digest shows each story once, and stories that do not fit are counted
    ("… (+3)")."""
    esc = markup.escape
    if message.kind == "notice":
        # cut before escaping: a cut entity ("&am") would make the app refuse the message
        body = one_line(message.text, limit // 2)
        return f"{markup.bold(esc(one_line(message.title)))}\n{esc(body)}"
    label = words(message.language)
    entries = story_entries(message.items)
    count = label["new_articles"].format(n=len(entries))
    lines = [markup.bold(esc(count))] if message.kind == "digest" else []
    for n, entry in enumerate(entries):
        item = entry.first
        meta = meta_line(item, message, esc)
        snippet = highlight(item.snippet, item.hits, esc, markup.bold)
        title = markup.link(esc(item.url), esc(one_line(item.title)))
        heading = esc(", ".join(entry.labels))
        if item.story and item.story.update:
            heading += f" · {esc(label['update'])}"
        block = f"{markup.bell} {heading}\n{title}\n{meta}\n{snippet}"
        for other in entry.other_matches:
            block += f"\n{esc(other.label)}: {match_text(other, entry, esc, markup.bold)}"
        if others := also_in(entry):
            block += f"\n{esc(label['also_in'] + ': ' + others)}"
        if sum(len(x) + 2 for x in lines) + len(block) > limit:
            lines.append(f"… (+{len(entries) - n})")
            break
        lines.append(block)
    return "\n\n".join(lines)


def slack_escape(text: str) -> str:
    """Slack's three control characters as entities: no ``<!channel>``, no injected links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Telegram's HTML parse mode: only <b> and <a> are produced; everything else is escaped.
TELEGRAM = ChatMarkup(
    escape=html_escape,
    bold=lambda t: f"<b>{t}</b>",
    link=lambda url, title: f'<a href="{url}">{title}</a>',
    bell="🔔",
)
# Slack mrkdwn: a "|" in a title would end the link text early.
SLACK = ChatMarkup(
    escape=slack_escape,
    bold=lambda t: f"*{t}*",
    link=lambda url, title: f"*<{url}|{title.replace('|', '¦')}>*",
    bell=":bell:",
)


def chat_html(message: Message, limit: int = 4000) -> str:
    """Telegram HTML parse mode."""
    return chat_text(message, TELEGRAM, limit)


def slack_text(message: Message, limit: int = 3500) -> str:
    """Slack mrkdwn text."""
    return chat_text(message, SLACK, limit)


_DISCORD_MARKDOWN = re.compile(r"([\\*_~`|>#\[\]()<:-])")


def discord_escape(text: str) -> str:
    """Markdown characters backslash-escaped; ``@`` followed by a zero-width space."""
    return _DISCORD_MARKDOWN.sub(r"\\\1", text).replace("@", "@\u200b")


def _discord_bold(text: str) -> str:
    return f"**{text}**"


def discord_payload(message: Message) -> dict[str, Any]:
    """Discord webhook body: an embed per story (max 10), mentions never parsed."""
    body: dict[str, Any] = {"allowed_mentions": {"parse": []}, "username": "newswatch"}
    if message.kind == "notice":
        body["content"] = discord_escape(f"{message.title}\n{message.text}")[:2000]
        return body
    entries = story_entries(message.items)
    embeds = []
    for entry in entries[:10]:
        item = entry.first
        description = highlight(item.snippet, item.hits, discord_escape, _discord_bold)
        for other in entry.other_matches:
            matched = match_text(other, entry, discord_escape, _discord_bold)
            description += f"\n{discord_escape(other.label)}: {matched}"
        labels = ", ".join(entry.labels)
        embed: dict[str, Any] = {
            "title": discord_escape(one_line(item.title, 200)),
            "url": item.url,
            "description": description[:4000],
            "footer": {
                "text": one_line(
                    f"{labels} · {words(message.language)['source']}: {item.source}", 2000
                )
            },
        }
        stamp = iso_time(item.published, message.timezone)
        if stamp:
            embed["timestamp"] = stamp
        embeds.append(embed)
    labels = ", ".join(dict.fromkeys(i.label for i in message.items))
    more = len(entries) - len(embeds)
    content = f"🔔 {labels}" + (f" (+{more})" if more > 0 else "")
    body["content"] = discord_escape(one_line(content, 1900))
    body["embeds"] = embeds
    return body
