"""kind: apprise -- any service Apprise knows (ntfy, Pushover, Matrix, Zalo…), optional extra.

Apprise is imported lazily, at send time, and only checked for at configuration time:
most installs never need it (``pip install 'newswatch[apprise]'``). Apprise itself keeps no
queue and follows redirects by default, so ``redirect=no`` is forced onto the URL and the
outbox does the retrying. It reports only success or failure, not the receiver's answer.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.deliver.channels.base import Channel, Fields
from pipelines.deliver.render import plain_text, subject
from pipelines.errors import DeliveryError

if TYPE_CHECKING:
    from pipelines.deliver.render import Message

__all__ = ["AppriseChannel"]

INSTALL_HINT = "kind apprise needs the optional extra: pip install 'newswatch[apprise]'"


class AppriseChannel(Channel):
    """Send each alert through one Apprise URL (optional extra: newswatch[apprise])."""

    kind = "apprise"
    example = "{kind: apprise, url: 'ntfys://ntfy.sh/newswatch-topic'}"

    def __init__(self, name: str, url: str) -> None:
        super().__init__(name)
        self._url = url

    @classmethod
    def from_config(cls, name: str, fields: Fields, *, data_dir: Path) -> AppriseChannel:
        url = fields.text("url", required=True)
        if url and "://" not in url:
            fields.error("url", "expected an Apprise URL such as ntfys://ntfy.sh/topic")
        if importlib.util.find_spec("apprise") is None:
            fields.error("kind", INSTALL_HINT)
        return cls(name, url)

    def target(self) -> str:
        scheme = self._url.partition("://")[0]
        return f"apprise {scheme}://…"

    def _url_no_redirect(self) -> str:
        joiner = "&" if "?" in self._url else "?"
        return f"{self._url}{joiner}redirect=no"

    def send(self, message: Message) -> str:
        try:
            apprise: Any = importlib.import_module("apprise")
        except ImportError:
            raise DeliveryError(INSTALL_HINT) from None
        notifier = apprise.Apprise()
        if not notifier.add(self._url_no_redirect()):
            raise DeliveryError(f"{self.target()}: Apprise does not understand this URL")
        ok = notifier.notify(title=subject(message), body=plain_text(message))
        if not ok:
            raise DeliveryError(f"{self.target()}: Apprise reported a failure")
        return "Apprise reported success"
