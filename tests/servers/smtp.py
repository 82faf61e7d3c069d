"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 with STARTTLS and a trustme CA.

The server's certificate is issued for 127.0.0.1 and localhost by a CA made for this
server only; ``ca_file`` is that CA's PEM, which a test trusts explicitly (the email
channel's ``smtp.ca_file``), so certificate verification is really exercised.

``security``: ``starttls`` (STARTTLS offered and required before MAIL), ``ssl`` (implicit
TLS) or ``none``. ``auth=(user, password)`` requires that login. ``reject`` lists
recipients answered 550; ``flake(rate)`` answers 451 to a random share of messages.
"""

from __future__ import annotations

import email
import random
import socket
import ssl
import tempfile
import threading
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from types import TracebackType
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = ["SMTPServer"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Handler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.server.reject:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        owner = self.server
        with owner._lock:
            if owner._flake and owner._rng.random() < owner._flake:
                return "451 4.3.0 Temporary failure, try again"
            message = email.message_from_bytes(envelope.content, policy=default)
            assert isinstance(message, EmailMessage)
            owner.messages.append(message)
            owner.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            owner.tls_used.append(session.ssl is not None or owner.security == "ssl")
            owner._lock.notify_all()
            return f"250 2.0.0 Ok: queued as NW{len(owner.messages):05d}"


class SMTPServer:
    """``with SMTPServer() as smtp:`` -- ``smtp.port``, ``smtp.ca_file``, ``smtp.messages``."""

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        security: str = "starttls",
        auth: tuple[str, str] | None = None,
        reject: set[str] | None = None,
    ) -> None:
        self.security = security
        self.auth = auth
        self.reject = reject or set()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.tls_used: list[bool] = []
        self.port = 0
        self._lock = threading.Condition()
        self._flake = 0.0
        self._rng = random.Random(0)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._controller: Controller | None = None
        self.ca_file = ""

    @property
    def received(self) -> list[EmailMessage]:
        return self.messages

    def flake(self, rate: float, seed: int = 0) -> SMTPServer:
        with self._lock:
            self._flake = rate
            self._rng = random.Random(seed)
        return self

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: len(self.messages) >= count, timeout)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.auth is not None
            and (data.login.decode(), data.password.decode()) == self.auth
        )
        return AuthResult(success=ok, handled=False)

    def start(self) -> SMTPServer:
        self._tmp = tempfile.TemporaryDirectory(prefix="newswatch-smtp-")
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = str(Path(self._tmp.name) / "test-ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(server_ctx)
        self.port = _free_port()
        kwargs: dict[str, Any] = {}
        if self.security == "starttls":
            kwargs.update(tls_context=server_ctx, require_starttls=True)
        elif self.security == "ssl":
            kwargs.update(ssl_context=server_ctx)
        if self.auth is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=True)
        self._controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, ready_timeout=10, **kwargs
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
