"""Who may see the pages and change state, and the headers every answer carries.

* With ``NEWSWATCH_WEB_TOKEN`` set, every path but ``/healthz``, ``/login`` and
  ``/static/`` needs ``Authorization: Bearer TOKEN`` or the session cookie the login form
  sets (HttpOnly, SameSite=Strict; its value is an HMAC of the token, so changing the token
  signs everybody out and nothing is stored server-side).
* A loopback bind without a token accepts only loopback ``Host`` headers (DNS rebinding).
* Every POST needs the CSRF token: a random cookie (SameSite=Strict) repeated in a hidden
  form field, and an ``Origin``, when the browser sends one, of this very host.
* Every answer forbids scripts, frames and foreign resources (Content-Security-Policy):
  the pages need none, so a headline holding markup that slipped through could run nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from crawler.web.context import WebContext

__all__ = [
    "CSP",
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "csrf_ok",
    "csrf_token",
    "guard",
    "session_value",
    "token_ok",
]

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SESSION_COOKIE = "nw_session"
CSRF_COOKIE = "nw_csrf"
OPEN_PATHS = ("/healthz", "/login", "/static/")

Endpoint = Callable[[Request], Awaitable[Response]]


def session_value(token: str) -> str:
    """The session cookie's value for this token."""
    return hmac.new(token.encode(), b"newswatch web session", hashlib.sha256).hexdigest()


def token_ok(ctx: WebContext, request: Request) -> bool:
    """The request carries the token (Bearer) or the session cookie; always true without
    a token."""
    if ctx.token is None:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), ctx.token):
        return True
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie, session_value(ctx.token))


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (from its cookie, or a new one the answer will set)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return str(token)


def csrf_ok(request: Request, given: str | None) -> bool:
    """The form's token equals the cookie, and the browser's Origin (if sent) is this host."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not given or not hmac.compare_digest(cookie, given):
        return False
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc == request.headers.get("host", "")
    return origin != "null"


def _host(request: Request) -> str:
    host = request.headers.get("host", "")
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if ":" in host else host


def _secure(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Not "no-referrer": with it Chromium sends "Origin: null" on our own form posts.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cache-Control", "no-store")
    return response


def guard(ctx: WebContext) -> Callable[[Request, Endpoint], Awaitable[Response]]:
    """The HTTP middleware: host check, authentication, security headers, CSRF cookie."""

    async def middleware(request: Request, call_next: Endpoint) -> Response:
        path = request.url.path
        if ctx.allowed_hosts is not None and _host(request) not in ctx.allowed_hosts:
            return _secure(PlainTextResponse("unknown host: use http://127.0.0.1", 421))
        if "%00" in request.url.query or "%00" in request.url.path:
            # PostgreSQL refuses NUL in text: a filter holding one would be a server error
            return _secure(JSONResponse({"detail": "a parameter holds a NUL character"}, 400))
        if not path.startswith(OPEN_PATHS) and not token_ok(ctx, request):
            if path.startswith("/api/") or path == "/metrics" or request.method != "GET":
                return _secure(
                    JSONResponse(
                        {"detail": "authentication required: Authorization: Bearer TOKEN"},
                        401,
                        headers={"WWW-Authenticate": "Bearer"},
                    )
                )
            target = quote(path + (f"?{request.url.query}" if request.url.query else ""))
            return _secure(RedirectResponse(f"/login?next={target}", 303))
        response = await call_next(request)
        new = getattr(request.state, "new_csrf", None)
        if new:
            response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict", path="/")
        return _secure(response)

    return middleware
