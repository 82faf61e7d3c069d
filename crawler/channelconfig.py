"""``channels.yaml`` -> channels (each built by its kind), the ones disabled, ``ops``; and the
check that every ``notify`` of ``watches.yaml`` names a channel.

A channel whose ``${VAR}`` is not set is *disabled* with a warning rather than failing the
whole configuration (see :mod:`crawler.config`). ``defaults.language`` (``vi`` or ``en``) is
the language of the alert texts of every channel that does not set its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawler.yamlsrc import Located, check_keys, str_list
from pipelines.deliver.channels.base import Channel
from pipelines.deliver.channels.registry import build_channel
from pipelines.deliver.wording import DEFAULT_LANGUAGE, LANGUAGES
from pipelines.errors import ConfigError
from pipelines.match.watch import Watch

__all__ = ["check_notify", "parse_channels"]


def parse_channels(
    doc: Located,
    data_dir: Path,
) -> tuple[dict[str, Channel], dict[str, str], tuple[str, ...]]:
    channels: dict[str, Channel] = {}
    disabled: dict[str, str] = {}
    data = doc.data
    if data is None:
        return channels, disabled, ()
    if not isinstance(data, dict):
        doc.error((), "expected a mapping with 'channels' (and optional 'ops')")
        return channels, disabled, ()
    check_keys(doc, data, (), {"channels", "ops", "defaults"})
    language = _channel_defaults(doc, data.get("defaults"))
    if "channels" not in data:
        doc.error(("channels",), "missing: a mapping of channel name -> settings")
    # `channels: {}` or a bare `channels:` is "none configured yet", not a mistake.
    raw = data.get("channels") or {}
    if not isinstance(raw, dict):
        doc.error(("channels",), "expected a mapping of channel name -> settings")
        raw = {}
    for name, mapping in raw.items():
        path = ("channels", name)
        unset = sorted({var for p, var in doc.unset.items() if p[:2] == path})
        if unset:
            names = ", ".join(unset)
            disabled[name] = (
                f"environment variables {names} are not set"
                if len(unset) > 1
                else f"environment variable {names} is not set"
            )
            doc.error(path, f"channel disabled: {disabled[name]}", severity="warning")
            continue
        try:
            channels[name] = build_channel(str(name), mapping, data_dir=data_dir, language=language)
        except ConfigError as exc:
            doc.problems.extend(doc.locate(p) for p in exc.problems)
            disabled[name] = "invalid configuration"  # reported above; not "unknown" below
    ops = tuple(str_list(doc, ("ops",), data.get("ops")))
    for i, name in enumerate(ops):
        if name not in raw:
            doc.error(("ops", i), f"no channel named {name!r}")
    return channels, disabled, ops


def _channel_defaults(doc: Located, raw: Any) -> str:
    """``channels.yaml``'s ``defaults`` (only ``language`` today), checked where written."""
    if raw is None:
        return DEFAULT_LANGUAGE
    if not isinstance(raw, dict):
        doc.error(("defaults",), "expected a mapping, e.g. {language: vi}")
        return DEFAULT_LANGUAGE
    check_keys(doc, raw, ("defaults",), {"language"})
    language = raw.get("language", DEFAULT_LANGUAGE)
    if language not in LANGUAGES:
        doc.error(
            ("defaults", "language"),
            f"expected one of {', '.join(LANGUAGES)} (the language of alert texts), "
            f"got {language!r}",
        )
        return DEFAULT_LANGUAGE
    return str(language)


def check_notify(doc: Located, watches: list[Watch], known: set[str]) -> None:
    """Every channel named in ``notify`` exists, checked where the name is written."""
    data = doc.data if isinstance(doc.data, dict) else {}
    raw_defaults = data.get("defaults")
    raw_watches = data.get("watches")
    written: list[tuple[tuple[str | int, ...], Any]] = []
    if isinstance(raw_defaults, dict) and "notify" in raw_defaults:
        written.append((("defaults", "notify"), raw_defaults["notify"]))
    for watch in watches:
        own = raw_watches.get(watch.name) if isinstance(raw_watches, dict) else None
        if isinstance(own, dict) and "notify" in own:
            written.append((("watches", watch.name, "notify"), own["notify"]))
    choices = ", ".join(sorted(known)) or "none configured"
    for path, names in written:
        for i, channel in enumerate(names if isinstance(names, list) else []):
            if channel not in known:
                doc.error((*path, i), f"no channel named {channel!r} (channels: {choices})")
