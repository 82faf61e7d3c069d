"""kind: email -- SMTP with verified TLS (STARTTLS by default, or implicit SSL).

``smtplib``'s ``starttls()`` and ``SMTP_SSL`` do *not* verify certificates unless given a
context, so every connection gets ``ssl.create_default_context()``. That context trusts the
system store, which OpenSSL lets you replace with the ``SSL_CERT_FILE`` environment
variable; a private CA is better given per channel as ``smtp.ca_file`` (a PEM file).
``security: none`` sends in clear and is meant for a relay on the same machine.

Message, recipient and data commands are issued one by one (not ``send_message``) so
that the server's final answer ("250 2.0.0 Ok: queued as …") can be reported.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.deliver.channels.base import Channel, Fields
from pipelines.deliver.render import email_message
from pipelines.errors import DeliveryError, PermanentDeliveryError

if TYPE_CHECKING:
    from pipelines.deliver.render import Message

__all__ = ["EmailChannel"]

SECURITY = ("starttls", "ssl", "none")


class EmailChannel(Channel):
    """Send each alert as an email (plain + HTML, threaded per watch) through an SMTP server."""

    kind = "email"
    example = (
        "{kind: email, to: [bientap@example.vn], from: newswatch@example.vn, "
        "smtp: {host: smtp.example.vn, port: 587, security: starttls, "
        "username: newswatch, password: secret}}"
    )

    def __init__(
        self,
        name: str,
        *,
        sender: str,
        to: list[str],
        host: str,
        port: int,
        security: str = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
        ca_file: str = "",
    ) -> None:
        super().__init__(name)
        self.sender = sender
        self.to = to
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password
        self.timeout = timeout
        self.ca_file = ca_file

    @classmethod
    def from_config(cls, name: str, fields: Fields, *, data_dir: Path) -> EmailChannel:
        to = fields.strings("to", required=True)
        sender = fields.text("from", required=True)
        for i, address in enumerate(to):
            if "@" not in parseaddr(address)[1]:
                fields.error("to", f"item {i}: not an email address: {address!r}")
        if sender and "@" not in parseaddr(sender)[1]:
            fields.error("from", f"not an email address: {sender!r}")
        smtp = fields.sub("smtp")
        host = smtp.text("host", required=True)
        security = smtp.choice("security", SECURITY, "starttls")
        default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
        port = int(smtp.number("port", default_port, low=1, high=65535, integer=True))
        username = smtp.text("username")
        password = smtp.text("password")
        if password and not username:
            smtp.error("username", "a password is set but no username")
        if username and security == "none" and host not in ("localhost", "127.0.0.1", "::1"):
            smtp.error(
                "security",
                "refusing to send a password in clear to a remote server; use starttls or ssl",
            )
        timeout = smtp.number("timeout", 30.0, low=1, high=300)
        ca_file = smtp.text("ca_file")
        if ca_file and security == "none":
            smtp.error("ca_file", "only meaningful with security: starttls or ssl")
        smtp.check_unknown()
        return cls(
            name,
            sender=sender,
            to=to,
            host=host,
            port=port,
            security=security,
            username=username,
            password=password,
            timeout=timeout,
            ca_file=ca_file,
        )

    def target(self) -> str:
        return f"smtp {self.host}:{self.port}"

    def _context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise DeliveryError(
                f"cannot read smtp.ca_file {self.ca_file!r}: {type(exc).__name__}"
            ) from None

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context()
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(f"{self.target()} does not offer STARTTLS")
                smtp.starttls(context=self._context())
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: Message) -> str:
        email = email_message(message, sender=self.sender, to=self.to, now=datetime.now(UTC))
        data = email.as_bytes()
        envelope_from = parseaddr(self.sender)[1]
        try:
            smtp = self._connect()
            try:
                return self._transaction(smtp, envelope_from, data)
            finally:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(
                f"{self.target()}: TLS certificate not trusted "
                f"({exc.verify_message}); set smtp.ca_file for a private CA"
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"{self.target()}: login refused ({exc.smtp_code}); "
                "check smtp.username and smtp.password",
                status=exc.smtp_code,
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise self._response_error(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPException as exc:
            raise DeliveryError(f"{self.target()}: {type(exc).__name__}") from None
        except OSError as exc:
            raise DeliveryError(
                f"cannot connect to {self.target()} ({type(exc).__name__})"
            ) from None

    def _transaction(self, smtp: smtplib.SMTP, envelope_from: str, data: bytes) -> str:
        smtp.ehlo_or_helo_if_needed()
        if self.username:
            smtp.login(self.username, self._password)
        code, reply = smtp.mail(envelope_from)
        if code != 250:
            raise smtplib.SMTPResponseException(code, reply)
        refused = []
        for rcpt in self.to:
            code, reply = smtp.rcpt(parseaddr(rcpt)[1])
            if code not in (250, 251):
                refused.append((rcpt, code, reply))
        if len(refused) == len(self.to):
            smtp.rset()
            _, code, reply = refused[0]
            raise smtplib.SMTPResponseException(code, reply)
        code, reply = smtp.data(data)
        if code != 250:
            raise smtplib.SMTPResponseException(code, reply)
        answer = f"{code} {reply.decode('utf-8', 'replace')}"
        if refused:
            answer += "; refused: " + ", ".join(f"{r} ({c})" for r, c, _ in refused)
        return answer

    def _response_error(self, code: int, reply: bytes | str) -> DeliveryError:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
        text = " ".join(text.split())[:160]
        if 500 <= code < 600:
            return PermanentDeliveryError(
                f"{self.target()} refused the message: {code} {text}", status=code
            )
        return DeliveryError(f"{self.target()} answered {code} {text}", status=code)
