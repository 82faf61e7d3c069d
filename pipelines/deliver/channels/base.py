"""The base of every channel kind: :class:`Channel`, the YAML reader :class:`Fields`, the
:class:`Rate` limit, and the redaction helpers that keep secrets out of logs and the store."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from pipelines.errors import PathPart, Problem

if TYPE_CHECKING:
    from pipelines.deliver.render import Message

__all__ = ["DEFAULT_BURST", "Channel", "Fields", "Rate", "redact_url", "scrub"]

DEFAULT_BURST = 20


@dataclass(frozen=True)
class Rate:
    """At most ``count`` messages per ``per`` seconds (a token bucket of that size)."""

    count: int
    per: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        found = re.fullmatch(r"\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*", text)
        if not found or int(found.group(1)) < 1:
            raise ValueError(f"expected a rate like 1/s, 20/min or 500/h, got {text!r}")
        per = {"s": 1.0, "m": 60.0, "h": 3600.0}[found.group(2)[0]]
        return cls(int(found.group(1)), per)


_URL = re.compile(r"(https?://[^/\s?#]+)[^\s]*")
_BOT_TOKEN = re.compile(r"bot\d+:[\w-]+")


def scrub(text: str) -> str:
    """Last line of defence before a text is stored or logged: no URL paths, no bot tokens."""
    return _BOT_TOKEN.sub("bot<token>", _URL.sub(r"\1/…", text))


def redact_url(url: str) -> str:
    """Scheme and host only: webhook URLs carry their secret in the path or query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<url>"
    return f"{parts.scheme}://{host}{port}/…" if parts.scheme else "<url>"


class Channel(ABC):
    """Base of every channel kind: a name, a kind, and :meth:`send`."""

    kind: ClassVar[str]
    example: ClassVar[str]
    default_rate: ClassVar[Rate | None] = None

    def __init__(self, name: str) -> None:
        self.name = name
        self.max_in_flight = 1
        self.rate: Rate | None = self.default_rate
        self.burst = DEFAULT_BURST
        # The language of every text that is not the article's ("vi" or "en"; wording.py).
        self.language = "vi"

    @classmethod
    @abstractmethod
    def from_config(cls, name: str, fields: Fields, *, data_dir: Path) -> Channel:
        """Build from the validated YAML mapping (read through ``fields``); no I/O."""

    @abstractmethod
    def send(self, message: Message) -> str:
        """Deliver one message; return what the receiver answered ("HTTP 200").

        Raises :class:`~pipelines.errors.DeliveryError` (retried) or
        :class:`~pipelines.errors.PermanentDeliveryError` (dead at once). Error texts
        never contain a secret or a full URL.
        """

    def target(self) -> str:
        """Where this channel sends, safe to log (no secrets)."""
        return self.kind

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} -> {self.target()}>"


@dataclass
class Fields:
    """Reads one YAML mapping, collecting located problems; unknown keys are errors."""

    mapping: Mapping[str, object]
    path: tuple[PathPart, ...]
    problems: list[Problem] = field(default_factory=list)
    used: set[str] = field(default_factory=set)

    def error(self, key: PathPart | None, message: str) -> None:
        where = self.path if key is None else (*self.path, key)
        self.problems.append(Problem(where, message))

    def _get(self, key: str) -> object:
        self.used.add(key)
        return self.mapping.get(key)

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str:
        value = self._get(key)
        if value is None or value == "":
            if required:
                self.error(key, "required (set it, or the environment variable it names)")
            return default or ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(key, f"expected a string, got {type(value).__name__}")
            return default or ""
        return str(value)

    def number(
        self,
        key: str,
        default: float,
        *,
        low: float = 0.0,
        high: float = float("inf"),
        integer: bool = False,
    ) -> float:
        value = self._get(key)
        if value is None:
            return default
        try:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError
            number = int(value) if integer else float(value)
        except ValueError:
            kind = "an integer" if integer else "a number"
            self.error(key, f"expected {kind}, got {value!r}")
            return default
        if not low <= number <= high:
            self.error(key, f"must be between {low:g} and {high:g}, got {number:g}")
            return default
        return number

    def strings(self, key: str, *, required: bool = False) -> list[str]:
        value = self._get(key)
        if value is None or value == "" or value == []:
            if required:
                self.error(key, "required: one address or a list of them")
            return []
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            self.error(key, "expected a string or a list of strings")
            return []
        out = [str(v).strip() for v in items if str(v).strip()]
        if required and not out:
            self.error(key, "required: one address or a list of them")
        return out

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(key, default)
        if value not in choices:
            self.error(key, f"expected one of {', '.join(choices)}, got {value!r}")
            return default
        return value

    def url(self, key: str, *, required: bool = True) -> str:
        value = self.text(key, required=required)
        if value and urlsplit(value).scheme not in ("http", "https"):
            self.error(key, f"expected an http:// or https:// URL, got {redact_url(value)}")
        elif value and not urlsplit(value).hostname:
            self.error(key, "the URL has no host")
        return value

    def sub(self, key: str) -> Fields:
        value = self._get(key)
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            self.error(key, "expected a mapping")
            value = {}
        return Fields(value, (*self.path, key), self.problems)

    def check_unknown(self, allowed: set[str] | None = None) -> None:
        allowed = self.used if allowed is None else allowed
        for key in self.mapping:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                self.error(str(key), f"unknown key (allowed: {known})")
