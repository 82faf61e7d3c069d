"""The Jinja2 environment of the pages: autoescaping on, the language, the CSRF token and
the filters that show times in Asia/Ho_Chi_Minh.

Everything an article brings (title, text, snippet) reaches a template as a plain string
and is escaped there; the only markup around it is the template's own ``<mark>``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from crawler.web.i18n import LANGUAGES, translator
from crawler.web.security import csrf_token
from pipelines.deliver.render import DEFAULT_TIMEZONE, human_time, segments

__all__ = ["LANG_COOKIE", "duration", "language", "page", "templates"]

LANG_COOKIE = "nw_lang"

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
templates.env.autoescape = True


def when(value: datetime | None) -> str:
    """``HH:MM dd/mm/YYYY`` in Vietnam's time, or an empty string."""
    return human_time(value, DEFAULT_TIMEZONE)


def duration(value: timedelta | float | None) -> str:
    """``45 s``, ``12 min``, ``3 h``, ``2 d`` (units that read the same in both languages)."""
    if value is None:
        return "–"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def web_url(value: str) -> str:
    """An article's address as a link only when it is http(s): a stored URL comes from a
    page's own markup (``<link rel=canonical>``), which is hostile input."""
    return value if value.lower().startswith(("http://", "https://")) else "#"


templates.env.filters["when"] = when
templates.env.filters["web_url"] = web_url
templates.env.filters["duration"] = duration
# (text, is_hit) pieces of a snippet, the hit words marked as in the email alerts
templates.env.globals["highlight"] = segments


def language(request: Request) -> str:
    """``?lang=`` first, then the cookie, then Vietnamese."""
    for lang in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if lang in LANGUAGES:
            return str(lang)
    return "vi"


def page(request: Request, name: str, status: int = 200, **values: Any) -> Response:
    """Render one page template with the shared values (``_``, ``lang``, ``csrf``)."""
    lang = language(request)
    response = templates.TemplateResponse(
        request,
        name,
        {"_": translator(lang), "lang": lang, "csrf": csrf_token(request), **values},
        status_code=status,
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", httponly=True, path="/")
    return response
