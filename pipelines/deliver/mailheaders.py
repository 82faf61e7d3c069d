"""Email headers with Vietnamese text that every mail client decodes to exactly what we wrote.

Why not ``msg["Subject"] = text`` under ``email.policy.SMTP``: CPython's header folder
(``email._header_value_parser._refold_parse_tree``) splits a long non-ASCII header into
encoded-words with the separating space left *between* them, where RFC 2047 makes it
invisible — clients then show "các phườngkế thừa" or "TuổiTrẻ Thủ đô" — and it can leave a
plain ASCII word between two encoded-words, which loses its space the same way. So the
values are encoded here and stored untouched with ``Message.set_raw``:

- an unstructured header (``Subject``) is encoded whole by the stdlib's RFC 2047 encoder
  (``email.header.Header``), which splits between characters and keeps every space *inside*
  an encoded-word, where it survives decoding;
- an address header (``From``, ``To``) gets each display name as ONE encoded-word
  (``email.utils.formataddr`` with a charset). A name split over several encoded-words is
  decoded differently by different clients (Python's own parser keeps the folding space
  inside a phrase, RFC 2047 clients drop it), one word is read the same by all. A long name
  makes that word longer than RFC 2047's 75 characters, which mail clients accept and the
  stdlib's ``formataddr`` does too.

The message must use :data:`POLICY` (``refold_source="none"``), or the generator would refold
these raw values with the same buggy folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, getaddresses

__all__ = ["POLICY", "set_address_header", "set_text_header"]

POLICY = SMTP.clone(refold_source="none")
MAX_LINE = 76  # RFC 5322 recommends 78 with the CRLF; Header counts without it


def set_text_header(msg: EmailMessage, name: str, text: str) -> None:
    """Set an unstructured header (``Subject``) so that it decodes to exactly ``text``."""
    if text.isascii():
        # Plain ASCII is folded at spaces by the policy, and unfolding restores them.
        msg[name] = text
        return
    encoded = Header(text, "utf-8", maxlinelen=MAX_LINE, header_name=name).encode(linesep="\r\n")
    msg.set_raw(name, encoded)


def set_address_header(msg: EmailMessage, name: str, addresses: Sequence[str]) -> None:
    """Set ``From``/``To`` so that every display name decodes to exactly what was written."""
    rendered = [
        formataddr((display, address), charset="utf-8")
        for display, address in getaddresses(list(addresses))
    ]
    # One address per line: each line stays short, and folding after a comma is safe.
    msg.set_raw(name, ",\r\n ".join(rendered))
