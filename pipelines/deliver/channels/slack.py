"""kind: slack -- a Slack incoming webhook (the URL is the secret).

Slack answers errors as plain-text codes; those that mean the hook is gone for good
(``no_service``, ``channel_is_archived``, ``invalid_token``, ``action_prohibited``)
disable the channel instead of being retried for three days.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.deliver.channels._http import post_json, short_text, status_error
from pipelines.deliver.channels.base import Channel, Fields, Rate, redact_url
from pipelines.deliver.render_chat import slack_text
from pipelines.errors import PermanentDeliveryError

if TYPE_CHECKING:
    from pipelines.deliver.render import Message

__all__ = ["SlackChannel"]

GONE = {
    "no_service",
    "channel_is_archived",
    "invalid_token",
    "action_prohibited",
    "channel_not_found",
    "team_disabled",
}


class SlackChannel(Channel):
    """Post each alert to a Slack channel through an incoming webhook URL (mrkdwn text)."""

    kind = "slack"
    example = "{kind: slack, url: 'https://hooks.slack.com/services/T000/B000/XXXX'}"
    default_rate = Rate(1, 1.0)

    def __init__(self, name: str, url: str, timeout: float = 15.0) -> None:
        super().__init__(name)
        self.url = url
        self.timeout = timeout

    @classmethod
    def from_config(cls, name: str, fields: Fields, *, data_dir: Path) -> SlackChannel:
        return cls(name, fields.url("url"), fields.number("timeout", 15.0, low=1, high=120))

    def target(self) -> str:
        return redact_url(self.url)

    def send(self, message: Message) -> str:
        text = slack_text(message)
        payload = {"text": text, "unfurl_links": False}
        response, raw = post_json(self.url, payload, timeout=self.timeout, where=self.target())
        answer = short_text(raw)
        if 200 <= response.status_code < 300:
            return f"HTTP {response.status_code} {answer}".strip()
        if answer in GONE:
            raise PermanentDeliveryError(
                f"Slack answered {answer} (HTTP {response.status_code}); channel disabled",
                status=response.status_code,
                disable_channel=True,
            )
        raise status_error(response, self.target(), answer)
