"""Logging for every command: one line per event, text or JSON, secrets never written.

``setup_logging`` is called once per command by the CLI (and again by ``run``; it is
idempotent). Each record carries the source or channel it is about, taken from
:func:`log_context` (a context variable, so every asyncio task and thread keeps its own)
or from ``extra={"source": ...}``.

Redaction happens in a handler filter, so it covers records from every library (Scrapy,
urllib3, APScheduler) and the text of tracebacks: userinfo in URLs, token-like query
parameters, the token parts of Slack/Discord/Telegram webhook URLs, and the values of
environment variables registered with :func:`add_secrets` or referenced from the
configuration files (:func:`secrets_from_config`).

Written by hand rather than with a JSON-logging package: the record is eight fields and the
redaction has to run before any formatter sees the message.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import logging.handlers
import os
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "REDACTED",
    "add_secrets",
    "close_logging",
    "log_context",
    "redact",
    "secrets_from_config",
    "setup_logging",
]

REDACTED = "***"
CONTEXT_FIELDS = ("source", "channel")

_context: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "newswatch_log_context", default=()
)
_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secret_pattern: re.Pattern[str] | None = None

# scheme://user:password@host  ->  scheme://***@host
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@:]*:?[^/\s@]*@")
# ?token=abc&x=1  ->  ?token=***&x=1  (names that carry credentials in the wild)
_QUERY_TOKEN = re.compile(
    r"(?P<key>[?&;](?:[a-z0-9_-]*(?:token|secret|key|password|passwd|pwd|sig|signature|auth)"
    r"[a-z0-9_-]*))=(?P<value>[^&#\s\"'<>]+)",
    re.IGNORECASE,
)
# Webhook URLs whose path is the credential.
_PATH_TOKENS = (
    re.compile(r"(hooks\.slack\.com/services/)[A-Za-z0-9/_-]+"),
    re.compile(r"(discord(?:app)?\.com/api/webhooks/\d+/)[A-Za-z0-9_-]+"),
    re.compile(r"(api\.telegram\.org/(?:file/)?bot)[0-9]+:[A-Za-z0-9_-]+"),
)
# Env var names referenced from the configuration that are addresses, not secrets.
_NOT_SECRET_NAME = re.compile(r"(HOST|PORT|FROM|TO|USER|USERNAME|NAME|DIR|PATH)$", re.IGNORECASE)
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
# Values shorter than this are not redacted: "587" or "1" would blank out unrelated text.
_MIN_SECRET_LEN = 6


def add_secrets(values: Iterable[str]) -> None:
    """Register literal values (tokens, passwords, webhook URLs) that must never be logged."""
    global _secret_pattern
    with _secrets_lock:
        _secrets.update(v for v in values if v and len(v) >= _MIN_SECRET_LEN)
        if _secrets:
            ordered = sorted(_secrets, key=len, reverse=True)
            _secret_pattern = re.compile("|".join(re.escape(v) for v in ordered))


def secrets_from_config(config_dir: Path, environ: dict[str, str] | None = None) -> list[str]:
    """Values of the environment variables that the YAML files reference as ``${VAR}``.

    Variables named like addresses (``SMTP_HOST``, ``SMTP_PORT``, ``…_USER``) are left out:
    they help an operator read the log and are not credentials.
    """
    env = os.environ if environ is None else environ
    found: list[str] = []
    for path in sorted(config_dir.glob("*.y*ml")):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        for name in _ENV_REFERENCE.findall(text):
            value = env.get(name)
            if value and not _NOT_SECRET_NAME.search(name):
                found.append(value)
    return found


def redact(text: str) -> str:
    """The text with every known secret and credential-like URL part replaced by ``***``."""
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    if "://" in text:
        text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
        for rx in _PATH_TOKENS:
            text = rx.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    if "=" in text:
        text = _QUERY_TOKEN.sub(lambda m: f"{m.group('key')}={REDACTED}", text)
    return text


@contextlib.contextmanager
def log_context(**fields: str) -> Iterator[None]:
    """Attach ``source=`` / ``channel=`` to every record logged inside the block."""
    merged = {**dict(_context.get()), **fields}
    token = _context.set(tuple(merged.items()))
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the current :func:`log_context` onto the record (explicit ``extra`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class RedactFilter(logging.Filter):
    """Renders the message and the traceback once, redacted, before any formatter runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format in a library's call; keep the raw template
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if isinstance(value, str):
                setattr(record, key, redact(value))
        return True


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(record.msecs):03d}Z"


def _short_exception(record: logging.LogRecord) -> str | None:
    if not record.exc_info or record.exc_info[1] is None:
        return None
    exc = record.exc_info[1]
    return redact(f"{type(exc).__name__}: {exc}")


class TextFormatter(logging.Formatter):
    """``TIME LEVEL logger [source=S] message``; tracebacks only when ``tracebacks`` is set."""

    def __init__(self, *, tracebacks: bool) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(
            f"{key}={getattr(record, key)}" for key in CONTEXT_FIELDS if getattr(record, key, None)
        )
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name}"
        if context:
            line += f" [{context}]"
        line += f" {record.getMessage()}"
        if self.tracebacks and record.exc_text:
            return f"{line}\n{record.exc_text}"
        short = _short_exception(record)
        if short and short not in line:
            line += f" ({short})"
        return line.replace("\n", " | ") if not self.tracebacks else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers (journald, Loki, Vector…)."""

    def __init__(self, *, tracebacks: bool) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value:
                data[key] = value
        short = _short_exception(record)
        if short:
            data["error"] = short
        if self.tracebacks and record.exc_text:
            data["traceback"] = record.exc_text
        return json.dumps(data, ensure_ascii=False)


_OUR_HANDLER = "_newswatch_handler"
# Libraries that are chatty at INFO about things an operator does not act on.
_QUIET_AT_INFO = ("apscheduler.executors", "apscheduler.scheduler", "urllib3", "scrapy.core")


def setup_logging(verbosity: int, fmt: str = "text", log_file: Path | None = None) -> None:
    """Configure the root logger for one command (safe to call again: it replaces itself).

    ``verbosity`` 0 is INFO, 1 or more DEBUG with tracebacks, negative WARNING. ``fmt`` is
    ``text`` or ``json``. ``log_file`` adds a size-rotated file (10 MB × 5) so a service left
    alone for months cannot fill the disk.
    """
    if fmt not in ("text", "json"):
        raise ValueError(f"unknown log format {fmt!r}; use text or json")
    level = logging.DEBUG if verbosity > 0 else logging.WARNING if verbosity < 0 else logging.INFO
    tracebacks = verbosity > 0
    formatter: logging.Formatter = (
        JsonFormatter(tracebacks=tracebacks)
        if fmt == "json"
        else TextFormatter(tracebacks=tracebacks)
    )
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_file, maxBytes=10_000_000, backupCount=5, encoding="utf-8"
            )
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, _OUR_HANDLER, False):
            root.removeHandler(old)
            old.close()
    for handler in handlers:
        setattr(handler, _OUR_HANDLER, True)
        handler.addFilter(ContextFilter())
        handler.addFilter(RedactFilter())
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET_AT_INFO:
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity > 1 else logging.WARNING)
    logging.captureWarnings(True)


def close_logging() -> None:
    """Remove and close the handlers :func:`setup_logging` installed (tests, shutdown)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, _OUR_HANDLER, False):
            root.removeHandler(old)
            old.close()
