"""A real webhook receiver on 127.0.0.1 (port 0) for tests: records, verifies, misbehaves.

Behaviour is scripted per request: ``fail()``, ``down()``, ``gone()``, ``throttle()``,
``redirect()`` queue answers for the next requests (``times=None``: from now on);
``flake(rate)`` fails a random share; ``respond(fn)`` takes over completely (for chat APIs:
Telegram's JSON answers, Discord's message object). Only requests answered 2xx land in
``received``; ``requests`` has all of them.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

__all__ = ["Answer", "Request", "WebhookReceiver"]


@dataclass
class Request:
    """One request as the receiver saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    json: Any = None
    verified: bool | None = None  # None: no secret configured
    status: int = 0  # what the receiver answered (0: dropped the connection)

    @property
    def id(self) -> str:
        return self.headers.get("webhook-id", "")


@dataclass(frozen=True)
class Answer:
    """What to answer: a status, headers, a body; ``drop`` closes the connection instead."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    drop: bool = False


Responder = Callable[[Request], Answer | None]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a sender killed mid-request (the crash test does that on purpose)


class WebhookReceiver:
    """``with WebhookReceiver(secret=...) as hook:`` -- ``hook.url`` takes POSTs."""

    def __init__(self, secret: str | bytes | None = None, *, path: str = "/hook") -> None:
        if isinstance(secret, str) and not secret.startswith("whsec_"):
            secret = secret.encode()  # a plain secret's UTF-8 bytes are the key
        self._verifier = Webhook(secret) if secret else None
        self.path = path
        self.url = ""
        self.received: list[Request] = []
        self.requests: list[Request] = []
        self._script: list[Answer] = []
        self._default = Answer()
        self._flake = 0.0
        self._rng = random.Random(0)
        self._responder: Responder | None = None
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.url = f"{self.base_url}{self.path}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="webhook-receiver",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- behaviour -------------------------------------------------------------------------

    def _queue(self, answer: Answer, times: int | None) -> WebhookReceiver:
        with self._cond:
            if times is None:
                self._script.clear()
                self._default = answer
            else:
                self._script.extend([answer] * times)
        return self

    def ok(self) -> WebhookReceiver:
        """Accept everything again (clears scripted failures and flakiness)."""
        with self._cond:
            self._script.clear()
            self._flake = 0.0
        return self._queue(Answer(), None)

    def fail(
        self, status: int = 503, times: int | None = None, retry_after: str | None = None
    ) -> WebhookReceiver:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return self._queue(Answer(status, headers, b"unavailable"), times)

    def throttle(self, retry_after: str = "30", times: int | None = 1) -> WebhookReceiver:
        return self.fail(429, times, retry_after)

    def gone(self, times: int | None = None) -> WebhookReceiver:
        return self._queue(Answer(410, {}, b"gone"), times)

    def down(self, times: int | None = None) -> WebhookReceiver:
        """Close the connection without answering (like a crashed receiver)."""
        return self._queue(Answer(drop=True), times)

    def redirect(
        self, location: str, status: int = 302, times: int | None = None
    ) -> WebhookReceiver:
        return self._queue(Answer(status, {"Location": location}, b""), times)

    def flake(self, rate: float, seed: int = 0) -> WebhookReceiver:
        """Answer 500 to a random ``rate`` share of the requests (seeded: reproducible)."""
        with self._cond:
            self._flake = rate
            self._rng = random.Random(seed)
        return self

    def respond(self, responder: Responder | None) -> WebhookReceiver:
        """``responder(request)`` returns the Answer (None: fall back to the script)."""
        self._responder = responder
        return self

    # -- reading ---------------------------------------------------------------------------

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Block until ``count`` requests were accepted (a guard, not a timing assertion)."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.received) >= count, timeout)

    def ids(self) -> list[str]:
        return [r.id for r in self.received]

    # -- the handler -----------------------------------------------------------------------

    def _next_answer(self, request: Request) -> Answer:
        if self._responder is not None:
            answer = self._responder(request)
            if answer is not None:
                return answer
        with self._cond:
            if self._script:
                return self._script.pop(0)
            if self._flake and self._rng.random() < self._flake:
                return Answer(500, {}, b"flaky")
            return self._default

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        if len(body) < length:  # the sender died mid-request: nothing was delivered
            handler.close_connection = True
            return
        parts = urlsplit(handler.path)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        request = Request(handler.command, parts.path, parse_qs(parts.query), headers, body)
        try:
            request.json = json.loads(body) if body else None
        except ValueError:
            request.json = None
        answer = self._verify(request) or self._next_answer(request)
        request.status = 0 if answer.drop else answer.status
        with self._cond:
            self.requests.append(request)
            # Recorded before answering: once the sender has its 2xx, it is in `received`.
            if 200 <= request.status < 300:
                self.received.append(request)
                self._cond.notify_all()
        if answer.drop:
            handler.close_connection = True
            return
        handler.send_response(answer.status)
        for name, value in answer.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(answer.body)))
        handler.end_headers()
        handler.wfile.write(answer.body)

    def _verify(self, request: Request) -> Answer | None:
        if self._verifier is None:
            return None
        try:
            self._verifier.verify(request.body, request.headers)
        except WebhookVerificationError:
            request.verified = False
            return Answer(401, {}, b"bad signature")
        request.verified = True
        return None
