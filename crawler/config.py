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

from crawler.channelconfig import check_notify, parse_channels
from crawler.yamlsrc import Located, interpolate, load_located
from crawler.yamlsrc import check_keys as _check_keys
from crawler.yamlsrc import str_list as _str_list
from pipelines.clean.extract import check_selector
from pipelines.deliver.channels.base import Channel
from pipelines.errors import ConfigError, Problem
from pipelines.match.rules import parse_watches
from pipelines.match.watch import Watch

__all__ = [
    "DEFAULT_USER_AGENT",
    "Config",
    "SourceConfig",
    "format_duration",
    "load_config",
    "load_sources_file",
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
    "max_age": "7d",
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
    "lead",
    "captions",
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


def format_duration(seconds: float) -> str:
    """Seconds -> the largest whole unit: ``604800`` -> ``"7d"``, ``5400`` -> ``"90m"``."""
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


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
    max_age: float = 7 * 86400.0  # feed/sitemap entries older than this are skipped; 0: no limit
    keep: float = 0.0  # stored articles older than this are pruned; 0: kept for ever
    aliases: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    lead: tuple[str, ...] = ()  # CSS selectors of the lead, tried before the cleaner's own
    captions: tuple[str, ...] = ()  # CSS selectors of photo captions, likewise
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
    channels, disabled, ops = parse_channels(docs["channels.yaml"], data_dir)
    check_notify(docs["watches.yaml"], watches, set(channels) | set(disabled))
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


def _parse_sources(doc: Located) -> list[SourceConfig]:
    data = doc.data
    if doc.problems and data is None:
        return []
    if not isinstance(data, dict):
        doc.error((), "expected a mapping with 'sources' (and optional 'defaults')")
        return []
    _check_keys(doc, data, (), {"defaults", "sources"})
    raw_defaults = data.get("defaults") or {}
    if not isinstance(raw_defaults, dict):
        doc.error(("defaults",), "expected a mapping")
        raw_defaults = {}
    _check_keys(doc, raw_defaults, ("defaults",), DEFAULT_KEYS)
    # Each value is checked where it is written: a bad default is an error even when every
    # source overrides it (the next source added would inherit it).
    # Unset keys keep SourceConfig's own defaults, the built-in ones.
    defaults = _settings(doc, ("defaults",), raw_defaults)
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


def _settings(doc: Located, path: tuple[str | int, ...], raw: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a source inherits from ``defaults`` that are written in ``raw``, checked
    and converted (durations in seconds); each problem is reported at ``path``."""
    fields: dict[str, Any] = {}
    for key in ("every", "jitter", "timeout", "delay", "stale_after"):
        if key in raw:
            try:
                fields[key] = parse_duration(raw[key])
            except ValueError as exc:
                doc.error((*path, key), str(exc))
    if fields.get("every", 1) <= 0:
        doc.error((*path, "every"), "must be more than 0")
    for key, zero in (("max_age", "0 means no limit"), ("keep", "0 means for ever")):
        if key in raw:
            try:
                fields[key] = parse_duration(raw[key])
                if fields[key] < 0:
                    raise ValueError("must not be negative")
            except ValueError as exc:
                doc.error((*path, key), f"{exc}; {zero}")
    for key in ("concurrency", "fail_after"):
        if key not in raw:
            continue
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            doc.error((*path, key), "expected a whole number of at least 1")
        else:
            fields[key] = value
    if "drop" in raw:
        fields["drop"] = tuple(_str_list(doc, (*path, "drop"), raw["drop"]))
        for j, selector in enumerate(fields["drop"]):
            why = check_selector(selector)
            if why:
                doc.error((*path, "drop", j), why)
    if "user_agent" in raw:
        agent = raw["user_agent"]
        if not isinstance(agent, str) or not agent.strip():
            doc.error((*path, "user_agent"), "expected a non-empty text")
        else:
            fields["user_agent"] = agent.strip()
    return fields


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
    fields: dict[str, Any] = {**defaults, "name": name}
    fields.update(_settings(doc, path, {k: v for k, v in item.items() if k in DEFAULT_KEYS}))
    home = item.get("home")
    if home is not None:
        fields["home"] = _url(doc, (*path, "home"), home)
    for key in ("feeds", "sitemaps", "listings"):
        fields[key] = tuple(
            _url(doc, (*path, key, j), u)
            for j, u in enumerate(_str_list(doc, (*path, key), item.get(key)))
        )
    if not (fields.get("home") or fields["feeds"] or fields["sitemaps"] or fields["listings"]):
        doc.error(path, f"source {name!r} needs at least one of home, feeds, sitemaps, listings")
    pattern = item.get("article_url")
    if pattern is not None:
        fields["article_url"] = _regex(doc, (*path, "article_url"), pattern)
    fields["aliases"] = tuple(_str_list(doc, (*path, "aliases"), item.get("aliases")))
    for key in ("lead", "captions"):  # per site only: selectors of one site's markup
        fields[key] = tuple(_str_list(doc, (*path, key), item.get(key)))
        for j, selector in enumerate(fields[key]):
            why = check_selector(selector)
            if why:
                doc.error((*path, key, j), why)
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        doc.error((*path, "enabled"), "expected true or false")
    fields["enabled"] = bool(enabled)
    return SourceConfig(**fields)


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


def load_sources_file(path: Path, display: str | None = None) -> list[SourceConfig]:
    """Load one sources file on its own (``newswatch sources add`` checks its result).

    Raises :class:`ConfigError` listing every error, named after ``display`` (or ``path``).
    """
    doc = load_located(path, display=display or str(path))
    if not doc.problems:
        interpolate(doc)
    sources = _parse_sources(doc)
    if any(p.severity == "error" for p in doc.problems):
        raise ConfigError(doc.problems)
    return sources


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
