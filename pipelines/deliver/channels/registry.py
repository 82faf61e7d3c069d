"""The registry of channel kinds (:data:`KINDS`) and :func:`build_channel`, which turns one
``channels.yaml`` entry into a channel of its kind."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pipelines.deliver.channels.apprise import AppriseChannel
from pipelines.deliver.channels.base import DEFAULT_BURST, Channel, Fields, Rate
from pipelines.deliver.channels.discord import DiscordChannel
from pipelines.deliver.channels.email import EmailChannel
from pipelines.deliver.channels.file import FileChannel
from pipelines.deliver.channels.slack import SlackChannel
from pipelines.deliver.channels.telegram import TelegramChannel
from pipelines.deliver.channels.webhook import WebhookChannel
from pipelines.deliver.wording import DEFAULT_LANGUAGE, LANGUAGES
from pipelines.errors import ConfigError, PathPart, Problem

__all__ = ["KINDS", "build_channel"]

COMMON_KEYS = ("kind", "max_in_flight", "rate", "burst", "language")

KINDS: dict[str, type[Channel]] = {
    k.kind: k
    for k in (
        WebhookChannel,
        EmailChannel,
        FileChannel,
        SlackChannel,
        DiscordChannel,
        TelegramChannel,
        AppriseChannel,
    )
}


def build_channel(
    name: str,
    mapping: Mapping[str, object],
    *,
    data_dir: Path,
    language: str = DEFAULT_LANGUAGE,
) -> Channel:
    """Build one channel from its YAML mapping (already env-interpolated). No I/O.

    ``language`` is the one of ``channels.yaml``'s ``defaults``; the channel's own
    ``language`` key overrides it.

    Raises :class:`ConfigError` whose problems have paths like
    ``("channels", name, "smtp", "port")``; unknown keys are errors.
    """
    path: tuple[PathPart, ...] = ("channels", name)
    if not isinstance(mapping, Mapping):
        raise ConfigError([Problem(path, "expected a mapping with at least 'kind'")])
    kind = mapping.get("kind")
    if kind not in KINDS:
        choices = ", ".join(sorted(KINDS))
        message = "'kind' is required" if kind is None else f"unknown kind {kind!r}"
        raise ConfigError([Problem((*path, "kind"), f"{message} (kinds: {choices})")])
    fields = Fields(mapping, path)
    channel = KINDS[str(kind)].from_config(name, fields, data_dir=data_dir)
    channel.max_in_flight = int(fields.number("max_in_flight", 1, low=1, high=32, integer=True))
    channel.burst = int(fields.number("burst", DEFAULT_BURST, low=0, high=10_000, integer=True))
    rate = fields.text("rate")
    if rate:
        try:
            channel.rate = Rate.parse(rate)
        except ValueError as exc:
            fields.error("rate", str(exc))
    channel.language = fields.choice("language", LANGUAGES, language)
    fields.used.update(COMMON_KEYS)
    fields.check_unknown()
    if fields.problems:
        raise ConfigError(fields.problems)
    return channel
