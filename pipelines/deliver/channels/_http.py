"""One HTTP POST for the HTTP-based kinds, with the traps of ``requests`` closed.

- ``requests`` has no default timeout: every call passes (connect, read) timeouts.
- It follows redirects on POST (a 302 becomes a GET elsewhere): ``allow_redirects=False``
  and a 3xx is a failure, as Standard Webhooks says.
- Its exception texts contain the full URL (a Slack or Telegram URL *is* the secret):
  errors are rebuilt from the exception class and the redacted host only.
- ``trust_env=False``: a proxy from the environment would silently reroute alerts.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from pipelines.errors import DeliveryError, PermanentDeliveryError

if TYPE_CHECKING:
    import requests

__all__ = ["MAX_BODY", "post", "retry_after_header", "status_error"]

MAX_BODY = 64 * 1024
USER_AGENT = "newswatch (+alerts)"

# urllib3 logs request paths at DEBUG, and paths carry tokens (Telegram's bot<token>).
logging.getLogger("urllib3").setLevel(logging.WARNING)


def post(
    url: str, *, data: bytes, headers: dict[str, str], timeout: tuple[float, float], where: str
) -> tuple[requests.Response, bytes]:
    """POST ``data``; returns the response and at most :data:`MAX_BODY` bytes of its body.

    ``where`` is the redacted target used in error texts.
    """
    # Imported on first use: a crawl loads the channel kinds only to check its config.
    import requests

    headers = {"User-Agent": USER_AGENT, **headers}
    with requests.Session() as session:
        session.trust_env = False
        try:
            with session.post(
                url, data=data, headers=headers, timeout=timeout, allow_redirects=False, stream=True
            ) as response:
                body = response.raw.read(MAX_BODY, decode_content=True) or b""
                return response, body
        except requests.Timeout as exc:
            raise DeliveryError(
                f"no answer from {where} within {timeout[1]:g} s ({type(exc).__name__})"
            ) from None
        except requests.ConnectionError as exc:
            raise DeliveryError(f"cannot connect to {where} ({_cause(exc)})") from None
        except requests.RequestException as exc:
            raise DeliveryError(f"request to {where} failed ({type(exc).__name__})") from None


def post_json(
    url: str, payload: object, *, timeout: float, where: str
) -> tuple[requests.Response, bytes]:
    """POST ``payload`` as UTF-8 JSON (chat APIs); like :func:`post`."""
    return post(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        timeout=(5.0, timeout),
        where=where,
    )


def _cause(exc: BaseException) -> str:
    """The innermost exception class (ConnectionRefusedError…), never its text (has the URL)."""
    inner: BaseException = exc
    seen = 0
    while seen < 10:
        nxt = inner.__cause__ or inner.__context__
        if nxt is None:
            break
        inner, seen = nxt, seen + 1
    reason = getattr(exc, "args", ())
    for arg in reason:
        sub = getattr(arg, "reason", None)
        if isinstance(sub, BaseException):
            inner = sub
    return type(inner).__name__


def retry_after_header(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def status_error(
    response: requests.Response, where: str, detail: str = "", retry_after: float | None = None
) -> DeliveryError:
    """The error for a non-2xx answer: 410 disables the channel, 3xx is not followed."""
    status = response.status_code
    suffix = f": {detail}" if detail else ""
    if status == 410:
        return PermanentDeliveryError(
            f"HTTP 410 Gone from {where}{suffix}; channel disabled",
            status=status,
            disable_channel=True,
        )
    if 300 <= status < 400:
        return DeliveryError(
            f"HTTP {status} redirect from {where} not followed; "
            "set the channel URL to the final address",
            status=status,
        )
    if retry_after is None:
        retry_after = retry_after_header(response.headers.get("Retry-After"))
    return DeliveryError(
        f"HTTP {status} from {where}{suffix}", status=status, retry_after=retry_after
    )


def short_text(body: bytes, limit: int = 120) -> str:
    """A receiver's answer text, one line, capped (for "what the receiver answered")."""
    text = " ".join(body.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
