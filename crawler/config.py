"""The configuration: three YAML files -> validated, frozen config objects.

``sources.yaml`` is validated here; watch rules by :mod:`pipelines.match.matcher`; channels by
the channel kinds in :mod:`pipelines.deliver.channels`. Every problem in every file is collected
before anything is raised, so one ``check-config`` run lists them all, each as
``FILE:LINE: PATH: message``.

A channel whose ``${VAR}`` is not set is *disabled* with a warning rather than failing the
whole configuration: the default config ships a webhook and an email channel that only
work once their environment variables are set, and the service must still start.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.yamlsrc import Located, interpolate, load_located
from pipelines.clean.extract import check_selector
from pipelines.deliver.channels.base import Channel
from pipelines.deliver.channels.registry import build_channel
from pipelines.errors import ConfigError, Problem
from pipelines.match.rules import parse_watches
from pipelines.match.watch import Watch

__all__ = [
    "DEFAULT_USER_AGENT",
    "Config",
    "SourceConfig",
    "load_config",
    "load_watches_file",
    "parse_duration",
]

DEFAULT_USER_AGENT = "newswatch/0.1 (Vietnamese news monitor; +https://newswatch.invalid/bot)"

BUILTIN_DEFAULTS: dict[str, Any] = {
    "every": "10m",
    "jitter": "30s",
    "timeout": "5m",
    "delay": "1s",
    "concurrency": 2,
    "stale_after": "24h",
    "fail_after": 3,
    # how long stored articles are kept (0: for ever); pruning never drops a pending alert
    "keep": 0,
    "user_agent": DEFAULT_USER_AGENT,
    "drop": [],
}
DEFAULT_KEYS = set(BUILTIN_DEFAULTS)
SOURCE_KEYS = DEFAULT_KEYS | {
    "name",
    "home",
    "feeds",
    "sitemaps",
    "listings",
    "article_url",
    "aliases",
    "enabled",
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def parse_duration(value: object) -> float:
    """``90``, ``"30s"``, ``"10m"``, ``"2h"``, ``"1d"``, ``"500ms"`` -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30s, 10m or 2h")
    if isinstance(value, int | float):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 10m, 2h, 1d)")
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass(frozen=True)
class SourceConfig:
    """One news site to poll; durations are in seconds."""

    name: str
    home: str | None = None
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listings: tuple[str, ...] = ()
    article_url: str | None = None
    every: float = 600.0
    jitter: float = 30.0
    timeout: float = 300.0
    delay: float = 1.0
    concurrency: int = 2
    stale_after: float = 86400.0
    fail_after: int = 3
    keep: float = 0.0
    aliases: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    user_agent: str = DEFAULT_USER_AGENT
    enabled: bool = True

    @property
    def hosts(self) -> tuple[str, ...]:
        """Hosts that belong to this source (from its URLs, plus declared aliases)."""
        found: dict[str, None] = {}
        for url in (self.home, *self.feeds, *self.sitemaps, *self.listings):
            if url:
                found[urlsplit(url).hostname or ""] = None
        for alias in self.aliases:
            found[alias] = None
        found.pop("", None)
        return tuple(found)


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    config_dir: Path
    data_dir: Path
    sources: tuple[SourceConfig, ...]
    watches: tuple[Watch, ...]
    channels: Mapping[str, Channel]
    disabled_channels: Mapping[str, str] = field(default_factory=dict)
    ops: tuple[str, ...] = ()
    warnings: tuple[Problem, ...] = ()

    def source(self, name: str) -> SourceConfig:
        for src in self.sources:
            if src.name == name:
                return src
        known = ", ".join(s.name for s in self.sources)
        raise KeyError(f"no source named {name!r} (configured: {known})")


def load_config(config_dir: Path, data_dir: Path) -> Config:
    """Load and validate ``sources.yaml``, ``watches.yaml`` and ``channels.yaml``.

    Raises :class:`ConfigError` listing every error; warnings are returned on the config.
    """
    problems: list[Problem] = []
    docs = {}
    for name in ("sources.yaml", "watches.yaml", "channels.yaml"):
        doc = load_located(config_dir / name)
        if not doc.problems:
            interpolate(doc)
        docs[name] = doc
    sources = _parse_sources(docs["sources.yaml"])
    watches = _parse_watch_doc(docs["watches.yaml"])
    channels, disabled, ops = _parse_channels(docs["channels.yaml"], data_dir)
    _check_notify(docs["watches.yaml"], watches, set(channels) | set(disabled))
    if any(p.severity == "error" for p in docs["channels.yaml"].problems):
        disabled = {k: v for k, v in disabled.items() if v != "invalid configuration"}
    for doc in docs.values():
        problems.extend(doc.problems)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ConfigError(problems)
    return Config(
        config_dir=config_dir,
        data_dir=data_dir,
        sources=tuple(sources),
        watches=tuple(watches),
        channels=channels,
        disabled_channels=disabled,
        ops=ops,
        warnings=tuple(problems),
    )


def _check_keys(
    doc: Located, value: Mapping[str, Any], path: tuple[str | int, ...], allowed: set[str]
) -> None:
    for key in value:
        if key not in allowed:
            doc.error((*path, key), f"unknown key; allowed: {', '.join(sorted(allowed))}")


def _parse_sources(doc: Located) -> list[SourceConfig]:
    data = doc.data
    if doc.problems and data is None:
        return []
    if not isinstance(data, dict):
        doc.error((), "expected a mapping with 'sources' (and optional 'defaults')")
        return []
    _check_keys(doc, data, (), {"defaults", "sources"})
    defaults = dict(BUILTIN_DEFAULTS)
    raw_defaults = data.get("defaults") or {}
    if not isinstance(raw_defaults, dict):
        doc.error(("defaults",), "expected a mapping")
        raw_defaults = {}
    _check_keys(doc, raw_defaults, ("defaults",), DEFAULT_KEYS)
    defaults.update({k: v for k, v in raw_defaults.items() if k in DEFAULT_KEYS})
    raw = data.get("sources")
    if not isinstance(raw, list) or not raw:
        doc.error(("sources",), "expected a non-empty list of sources")
        return []
    result: list[SourceConfig] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        src = _parse_source(doc, ("sources", i), item, defaults)
        if src is None:
            continue
        if src.name in seen:
            doc.error(("sources", i, "name"), f"duplicate source name {src.name!r}")
        seen.add(src.name)
        result.append(src)
    return result


def _parse_source(
    doc: Located, path: tuple[str | int, ...], item: Any, defaults: Mapping[str, Any]
) -> SourceConfig | None:
    if not isinstance(item, dict):
        doc.error(path, "expected a mapping with at least 'name'")
        return None
    _check_keys(doc, item, path, SOURCE_KEYS)
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        doc.error((*path, "name"), "needs a name of lowercase letters, digits, '-', '_' or '.'")
        return None
    merged = {**defaults, **{k: v for k, v in item.items() if k in SOURCE_KEYS}}
    fields: dict[str, Any] = {"name": name}
    home = merged.get("home")
    if home is not None:
        fields["home"] = _url(doc, (*path, "home"), home)
    for key in ("feeds", "sitemaps", "listings"):
        fields[key] = tuple(
            _url(doc, (*path, key, j), u)
            for j, u in enumerate(_str_list(doc, (*path, key), merged.get(key)))
        )
    if not (fields.get("home") or fields["feeds"] or fields["sitemaps"] or fields["listings"]):
        doc.error(path, f"source {name!r} needs at least one of home, feeds, sitemaps, listings")
    pattern = merged.get("article_url")
    if pattern is not None:
        fields["article_url"] = _regex(doc, (*path, "article_url"), pattern)
    for key in ("every", "jitter", "timeout", "delay", "stale_after", "keep"):
        try:
            fields[key] = parse_duration(merged[key])
        except ValueError as exc:
            doc.error((*path, key) if key in item else ("defaults", key), str(exc))
    if fields.get("keep", 0) < 0:
        doc.error((*path, "keep") if "keep" in item else ("defaults", "keep"), "must be 0 or more")
    for key in ("concurrency", "fail_after"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            doc.error(
                (*path, key) if key in item else ("defaults", key),
                "expected a whole number of at least 1",
            )
        else:
            fields[key] = value
    if fields.get("every", 1) <= 0:
        doc.error((*path, "every"), "must be more than 0")
    fields["aliases"] = tuple(_str_list(doc, (*path, "aliases"), merged.get("aliases")))
    fields["drop"] = tuple(_str_list(doc, (*path, "drop"), merged.get("drop")))
    for j, selector in enumerate(fields["drop"]):
        why = check_selector(selector)
        if why:
            doc.error((*path, "drop", j) if "drop" in item else ("defaults", "drop", j), why)
    fields["user_agent"] = str(merged.get("user_agent") or DEFAULT_USER_AGENT)
    enabled = merged.get("enabled", True)
    if not isinstance(enabled, bool):
        doc.error((*path, "enabled"), "expected true or false")
    fields["enabled"] = bool(enabled)
    return SourceConfig(**fields)


def _str_list(doc: Located, path: tuple[str | int, ...], value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        doc.error(path, "expected a list of strings")
        return []
    return list(value)


def _url(doc: Located, path: tuple[str | int, ...], value: Any) -> str:
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        doc.error(path, f"{value!r} is not an http(s) URL")
    return str(value)


def _regex(doc: Located, path: tuple[str | int, ...], value: Any) -> str | None:
    try:
        re.compile(str(value))
    except re.error as exc:
        doc.error(path, f"bad regular expression: {exc}")
        return None
    return str(value)


def _parse_watch_doc(doc: Located) -> list[Watch]:
    if doc.data is None:
        return []
    watches, problems = parse_watches(doc.data)
    doc.problems.extend(doc.locate(p) for p in problems)
    return watches


def _parse_channels(
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
    _check_keys(doc, data, (), {"channels", "ops"})
    raw = data.get("channels")
    if not isinstance(raw, dict) or not raw:
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
            channels[name] = build_channel(str(name), mapping, data_dir=data_dir)
        except ConfigError as exc:
            doc.problems.extend(doc.locate(p) for p in exc.problems)
            disabled[name] = "invalid configuration"  # reported above; not "unknown" below
    ops = tuple(_str_list(doc, ("ops",), data.get("ops")))
    for i, name in enumerate(ops):
        if name not in raw:
            doc.error(("ops", i), f"no channel named {name!r}")
    return channels, disabled, ops


def _check_notify(doc: Located, watches: list[Watch], known: set[str]) -> None:
    for watch in watches:
        for i, channel in enumerate(watch.notify):
            if channel not in known:
                choices = ", ".join(sorted(known)) or "none configured"
                doc.error(
                    ("watches", watch.name, "notify", i),
                    f"no channel named {channel!r} (channels: {choices})",
                )


def load_watches_file(path: Path) -> tuple[list[Watch], list[Problem]]:
    """Load one watches file on its own (``newswatch match --watches FILE``).

    Returns the watches and the warnings; raises :class:`ConfigError` on any error.
    Notify targets are not checked: there is no channels file here.
    """
    doc = load_located(path, display=str(path))
    if not doc.problems:
        interpolate(doc)
    watches = _parse_watch_doc(doc)
    if any(p.severity == "error" for p in doc.problems):
        raise ConfigError(doc.problems)
    return watches, doc.problems
