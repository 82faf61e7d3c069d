"""kind: telegram -- a Telegram bot's ``sendMessage`` in HTML parse mode.

The bot token sits in the URL path, so the API URL is never logged (the target is shown
as the chat id only). 429 carries ``parameters.retry_after``; 403 (bot blocked or kicked)
and 400 "chat not found" cannot heal by retrying and disable the channel.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.deliver.channels._http import post_json
from pipelines.deliver.channels.base import Channel, Fields, Rate
from pipelines.deliver.render_chat import chat_html
from pipelines.errors import DeliveryError, PermanentDeliveryError

if TYPE_CHECKING:
    from pipelines.deliver.render import Message

__all__ = ["TelegramChannel"]


class TelegramChannel(Channel):
    """Send each alert to a Telegram chat through a bot (HTML text, link preview)."""

    kind = "telegram"
    example = "{kind: telegram, token: '123456:ABC-DEF', chat_id: '-1001234567890'}"
    default_rate = Rate(20, 60.0)

    def __init__(
        self,
        name: str,
        token: str,
        chat_id: str,
        api_url: str = "https://api.telegram.org",
        timeout: float = 15.0,
    ) -> None:
        super().__init__(name)
        self._token = token
        self.chat_id = chat_id
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    @classmethod
    def from_config(cls, name: str, fields: Fields, *, data_dir: Path) -> TelegramChannel:
        token = fields.text("token", required=True)
        if token and not re.fullmatch(r"\d+:[\w-]+", token):
            fields.error("token", "expected a bot token like 123456:ABC-DEF (from @BotFather)")
        chat_id = fields.text("chat_id", required=True)
        api_url = fields.url("api_url", required=False) or "https://api.telegram.org"
        return cls(name, token, chat_id, api_url, fields.number("timeout", 15.0, low=1, high=120))

    def target(self) -> str:
        return f"telegram chat {self.chat_id}"

    def send(self, message: Message) -> str:
        body = {
            "chat_id": self.chat_id,
            "text": chat_html(message),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": message.kind != "alert"},
        }
        response, raw = post_json(
            f"{self.api_url}/bot{self._token}/sendMessage",
            body,
            timeout=self.timeout,
            where=self.target(),
        )
        try:
            answer: dict[str, Any] = json.loads(raw)
        except ValueError:
            answer = {}
        status = response.status_code
        if status == 200 and answer.get("ok"):
            sent = (answer.get("result") or {}).get("message_id")
            return f"HTTP 200, Telegram message {sent}"
        description = " ".join(str(answer.get("description", "")).split())[:160]
        where = f"Telegram ({self.target()})"
        if status == 429:
            params = answer.get("parameters") or {}
            retry_after = params.get("retry_after")
            raise DeliveryError(
                f"HTTP 429 from {where}: {description}",
                status=status,
                retry_after=float(retry_after) if retry_after else None,
            )
        if status == 403 or (status == 400 and "chat not found" in description.lower()):
            raise PermanentDeliveryError(
                f"HTTP {status} from {where}: {description}; channel disabled",
                status=status,
                disable_channel=True,
            )
        if status == 401:
            raise PermanentDeliveryError(
                f"HTTP 401 from {where}: the bot token is not valid",
                status=status,
                disable_channel=True,
            )
        raise DeliveryError(f"HTTP {status} from {where}: {description}", status=status)
