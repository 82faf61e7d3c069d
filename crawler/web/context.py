"""What the web app is given by whoever runs it (the service or ``newswatch web``), and the
rule about where it may listen.

The app binds 127.0.0.1 by default. Any other address serves the archive to a network, so
it needs ``NEWSWATCH_WEB_TOKEN``; without it :func:`check_bind` refuses with one line.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from pipelines.store.database import Store

if TYPE_CHECKING:
    from crawler.config import Config

__all__ = [
    "TOKEN_ENV",
    "BindRefused",
    "Check",
    "WebContext",
    "allowed_hosts",
    "check_bind",
    "is_loopback",
    "parse_address",
    "token_from_env",
]

TOKEN_ENV = "NEWSWATCH_WEB_TOKEN"
MIN_TOKEN = 16  # characters; a short token is guessed by anyone who can reach the port

#: A health check: None when healthy, else a short reason.
Check = Callable[[], str | None]


class BindRefused(ValueError):
    """The address needs a token that is not set (or is too short); the message says so."""


def parse_address(text: str) -> tuple[str, int]:
    """``127.0.0.1:9410`` or ``:9410`` (loopback) -> (host, port); ValueError when malformed."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--http expects HOST:PORT such as 127.0.0.1:9410, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def is_loopback(host: str) -> bool:
    """Only this machine can connect (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """``NEWSWATCH_WEB_TOKEN``, or None when unset or empty."""
    value = (env if env is not None else os.environ).get(TOKEN_ENV, "").strip()
    return value or None


def check_bind(address: str, token: str | None) -> tuple[str, int]:
    """(host, port) to listen on; :class:`BindRefused` for a non-loopback address without a
    good token, ValueError for a malformed one."""
    host, port = parse_address(address)
    if token is not None and len(token) < MIN_TOKEN:
        raise BindRefused(
            f"{TOKEN_ENV} is too short: use at least {MIN_TOKEN} random characters "
            "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )
    if not is_loopback(host) and token is None:
        raise BindRefused(
            f"refusing to serve the web interface on {address} without {TOKEN_ENV}: "
            "set it to a long random token, or bind 127.0.0.1"
        )
    return host, port


def _no_checks() -> dict[str, Check]:
    return {}


@dataclass
class WebContext:
    """Everything the app reads: the store, the current configuration (the service swaps it
    on SIGHUP, hence a callable), health checks, metrics, the token and a redactor."""

    store: Store
    config: Callable[[], Config]
    registry: CollectorRegistry | None = None
    checks: Mapping[str, Check] = field(default_factory=_no_checks)
    token: str | None = None
    #: Removes secrets from text shown (the service's log redaction).
    redact: Callable[[str], str] = str
    #: Host headers accepted; None accepts any. A loopback bind without a token accepts
    #: only loopback names, so a web page cannot reach it by DNS rebinding.
    allowed_hosts: Sequence[str] | None = None


def allowed_hosts(host: str, token: str | None) -> tuple[str, ...] | None:
    """The Host headers to accept for this bind: loopback names for a loopback bind
    without a token (against DNS rebinding), any otherwise (the token guards it)."""
    if token is None and is_loopback(host):
        return ("127.0.0.1", "localhost", "::1", host)
    return None
