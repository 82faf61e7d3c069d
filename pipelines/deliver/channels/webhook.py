"""kind: webhook -- the generic Standard Webhooks POST (the contract in ARCHITECTURE.md).

Signing uses the ``standardwebhooks`` library's own signer, so a receiver verifies with it:
a ``whsec_…`` secret is base64 after the prefix (``Webhook("whsec_…")``); any other secret's
UTF-8 bytes are the key (``Webhook(secret.encode())``), because the library would otherwise
base64-decode a plain password into something else.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from standardwebhooks.webhooks import Webhook

from pipelines.deliver.channels._http import post, short_text, status_error
from pipelines.deliver.channels.base import Channel, Fields, redact_url
from pipelines.deliver.render import webhook_payload

if TYPE_CHECKING:
    from pipelines.deliver.render import Message

__all__ = ["WebhookChannel", "signing_key"]


def signing_key(secret: str) -> bytes:
    """The HMAC key for a secret: ``whsec_`` + base64, or the UTF-8 bytes of anything else."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_") :] + "==", validate=False)
    return secret.encode()


class WebhookChannel(Channel):
    """POST each alert as signed JSON (Standard Webhooks headers) to any HTTP receiver."""

    kind = "webhook"
    example = (
        "{kind: webhook, url: 'https://hooks.example.vn/newswatch', "
        "secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'}"
    )

    def __init__(self, name: str, url: str, secret: str = "", timeout: float = 15.0) -> None:
        super().__init__(name)
        self.url = url
        self._key = signing_key(secret) if secret else b""
        self.timeout = timeout

    @classmethod
    def from_config(cls, name: str, fields: Fields, *, data_dir: Path) -> WebhookChannel:
        url = fields.url("url")
        secret = fields.text("secret")
        if secret.startswith("whsec_"):
            try:
                base64.b64decode(secret[len("whsec_") :] + "==", validate=True)
            except binascii.Error:
                fields.error("secret", "a whsec_ secret must be base64 after the prefix")
        timeout = fields.number("timeout", 15.0, low=1, high=120)
        return cls(name, url, secret, timeout)

    def target(self) -> str:
        return redact_url(self.url)

    def headers(self, message_id: str, body: str, now: datetime) -> dict[str, str]:
        """Standard Webhooks headers for one attempt (the timestamp is the attempt's)."""
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "Idempotency-Key": message_id,
        }
        if self._key:
            headers["webhook-signature"] = Webhook(self._key).sign(message_id, now, body)
        return headers

    def send(self, message: Message) -> str:
        body = json.dumps(webhook_payload(message), ensure_ascii=False, separators=(",", ":"))
        now = datetime.now(UTC)
        response, raw = post(
            self.url,
            data=body.encode(),
            headers=self.headers(message.id, body, now),
            timeout=(5.0, self.timeout),
            where=self.target(),
        )
        answer = short_text(raw)
        if 200 <= response.status_code < 300:
            status = f"HTTP {response.status_code} {response.reason or ''}".strip()
            return f"{status}: {answer}" if answer else status
        raise status_error(response, self.target(), answer)
