"""Exceptions shared by the newswatch packages.

Hierarchy::

    NewswatchError
    ├── ConfigError          one or more problems in the YAML configuration (exit status 2)
    ├── StoreError           the database cannot be opened, migrated or written (exit 1)
    │   └── StoreConfigError     the database URL itself is wrong: scheme, driver (exit 2)
    └── DeliveryError        a channel failed to deliver one message
        └── PermanentDeliveryError   retrying cannot help (410, bad address, bad config)

A :class:`Problem` is one located finding in the configuration: the path inside the
document (``("watches", "quan-hai-ba-trung", "any", 2)``) and a message for a person.
The config loader maps the path to ``FILE:LINE``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ConfigError",
    "DeliveryError",
    "NewswatchError",
    "PermanentDeliveryError",
    "Problem",
    "StoreConfigError",
    "StoreError",
]

PathPart = str | int
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding about the configuration, located by its path inside one YAML file."""

    path: tuple[PathPart, ...]
    message: str
    severity: Severity = "error"
    file: str = ""
    line: int = 0

    def render(self) -> str:
        """``FILE:LINE: PATH: message`` — the format the CLI contract fixes."""
        where = f"{self.file}:{self.line}" if self.file else "<config>"
        dotted = ".".join(str(p) for p in self.path) or "(top)"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {dotted}: {prefix}{self.message}"


class NewswatchError(Exception):
    """Base class of every error newswatch raises on purpose."""

    #: the command's exit status when this error ends it (2: fix the configuration)
    exit_code: int = 1


@dataclass
class ConfigError(NewswatchError):
    """The configuration has errors; ``problems`` lists every one of them."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(p.render() for p in self.problems)


class StoreError(NewswatchError):
    """The database cannot be opened, migrated or written."""


class StoreConfigError(StoreError):
    """The database URL is wrong (scheme, driver, syntax): a configuration error."""

    exit_code = 2


class DeliveryError(NewswatchError):
    """One send through one channel failed; it will be retried.

    ``retry_after`` (seconds) is the receiver's own hint (``Retry-After``, Telegram's
    ``retry_after``); ``status`` is the HTTP status or SMTP code when there was one.
    The message must never contain a secret or a full webhook URL.
    """

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: the delivery goes dead at once (and 410 disables the channel)."""

    def __init__(
        self, message: str, *, status: int | None = None, disable_channel: bool = False
    ) -> None:
        super().__init__(message, status=status)
        self.disable_channel = disable_channel
