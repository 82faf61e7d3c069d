"""kind: file -- append one JSON line per alert under the data dir (no setup needed)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.deliver.channels.base import Channel, Fields
from pipelines.deliver.render import webhook_payload
from pipelines.errors import DeliveryError

if TYPE_CHECKING:
    from pipelines.deliver.render import Message

__all__ = ["FileChannel"]


class FileChannel(Channel):
    """Append each alert as one JSON line (the webhook payload) to a file under the data dir."""

    kind = "file"
    example = "{kind: file, path: alerts.jsonl}"

    def __init__(self, name: str, path: Path) -> None:
        super().__init__(name)
        self.path = path

    @classmethod
    def from_config(cls, name: str, fields: Fields, *, data_dir: Path) -> FileChannel:
        raw = fields.text("path", "alerts.jsonl")
        path = Path(raw)
        if path.is_absolute() or ".." in path.parts:
            fields.error("path", "must be a relative path inside the data dir")
        return cls(name, data_dir / path)

    def target(self) -> str:
        return self.path.name

    def send(self, message: Message) -> str:
        line = json.dumps(webhook_payload(message), ensure_ascii=False) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise DeliveryError(f"cannot append to {self.path.name}: {exc.strerror}") from None
        return f"appended to {self.path.name}"
