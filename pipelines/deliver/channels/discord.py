"""kind: discord -- a Discord webhook, posted with ``?wait=true``.

Without ``wait=true`` Discord answers 204 before saving, so a message it drops is never
reported. ``allowed_mentions: {parse: []}``: an ``@everyone`` in a headline must not ping
a whole server. 401/403/404 mean the webhook was deleted: the channel is disabled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pipelines.deliver.channels._http import post_json, short_text, status_error
from pipelines.deliver.channels.base import Channel, Fields, Rate, redact_url
from pipelines.deliver.render_chat import discord_payload
from pipelines.errors import PermanentDeliveryError

if TYPE_CHECKING:
    from pipelines.deliver.render import Message

__all__ = ["DiscordChannel"]


def with_wait(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "wait"] + [("wait", "true")]
    return urlunsplit(parts._replace(query=urlencode(query)))


class DiscordChannel(Channel):
    """Post each alert to a Discord channel through a webhook URL (embeds, no mentions)."""

    kind = "discord"
    example = "{kind: discord, url: 'https://discord.com/api/webhooks/123/abc'}"
    default_rate = Rate(30, 60.0)

    def __init__(self, name: str, url: str, timeout: float = 15.0) -> None:
        super().__init__(name)
        self.url = with_wait(url)
        self.timeout = timeout

    @classmethod
    def from_config(cls, name: str, fields: Fields, *, data_dir: Path) -> DiscordChannel:
        return cls(name, fields.url("url"), fields.number("timeout", 15.0, low=1, high=120))

    def target(self) -> str:
        return redact_url(self.url)

    def send(self, message: Message) -> str:
        response, raw = post_json(
            self.url, discord_payload(message), timeout=self.timeout, where=self.target()
        )
        status = response.status_code
        if 200 <= status < 300:
            try:
                sent_id = json.loads(raw).get("id")
            except (ValueError, AttributeError):
                sent_id = None
            return f"HTTP {status}" + (f", Discord message {sent_id}" if sent_id else "")
        if status in (401, 403, 404):
            raise PermanentDeliveryError(
                f"Discord answered HTTP {status}: the webhook is gone; channel disabled",
                status=status,
                disable_channel=True,
            )
        retry_after = None
        if status == 429:
            try:
                retry_after = float(json.loads(raw).get("retry_after"))
            except (ValueError, TypeError, AttributeError):
                retry_after = None
        raise status_error(response, self.target(), short_text(raw, 80), retry_after)
