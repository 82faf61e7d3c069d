"""Turn the bytes of a downloaded page into text, trusting what the page says it is.

Order of authority (first that names a known charset wins):

1. the HTTP ``Content-Type`` header (``text/html; charset=utf-8``);
2. a byte-order mark;
3. a ``<meta charset>`` / ``<meta http-equiv="Content-Type">`` or an XML declaration
   *anywhere* in the document: Tuổi Trẻ declares its charset 18 KB in and Báo Chính phủ
   8 KB in, past the 1 024-byte prescan window of HTML5 parsers, so libxml2 and browsers'
   prescans alike miss it and guess wrong;
4. UTF-8 when the bytes decode strictly as UTF-8;
5. windows-1258, the legacy Vietnamese code page.

Why not charset-normalizer or libxml2's own detection (both installed): they guess from
byte statistics, and on a short Vietnamese page a guess is often a Central-European code
page. When the page declares its charset we never guess; when it does not, step 4/5 is a
decision, not a guess — a strict UTF-8 decode of non-UTF-8 text almost never succeeds.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

__all__ = ["charset_from_content_type", "declared_charset", "decode_html", "normalise_charset"]

# WHATWG "encoding labels" that differ from Python's codec names: a page that says latin-1
# or ascii is decoded by every browser as windows-1252.
_WHATWG_OVERRIDES = {"iso8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252"}
# A <meta> that an ASCII-compatible regex could read is not in UTF-16 whatever it says
# (WHATWG: such a declaration means UTF-8).
_META_UTF16 = {"utf-16", "utf-16-le", "utf-16-be"}

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:+-]+)""", re.IGNORECASE)
_META_TAG = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9._:+-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._:+-]+)""")


def normalise_charset(label: str | None) -> str | None:
    """Python codec name for a charset label (``'utf8'``, ``'CP1258'``, ``'windows-1258'``),
    or None when the label names no known encoding."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return _WHATWG_OVERRIDES.get(name, name)


def charset_from_content_type(content_type: str | None) -> str | None:
    """The known charset named by an HTTP ``Content-Type`` value, if any."""
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return normalise_charset(match.group(1)) if match else None


def declared_charset(body: bytes) -> str | None:
    """The first known charset the document itself declares (XML declaration or any
    ``<meta>`` in the whole document, not only its first 1 024 bytes)."""
    xml = _XML_DECL.match(body[:512])
    if xml:
        found = normalise_charset(xml.group(1).decode("ascii"))
        if found:
            return found
    for tag in _META_TAG.finditer(body):
        match = _META_CHARSET.search(tag.group(0))
        if match:
            found = normalise_charset(match.group(1).decode("ascii"))
            if found:
                return "utf-8" if found in _META_UTF16 else found
    return None


def _bom_charset(body: bytes) -> tuple[str, int] | None:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, len(bom)
    return None


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Charset from the HTTP header, else BOM, else ``<meta charset>``/``<meta http-equiv>``
    anywhere in the document (not only in the first 1024 bytes), else UTF-8 if it decodes
    strictly, else windows-1258; never a byte-statistics guess when the page says what it
    is. Aliases are mapped (``utf8``, ``windows-1258``, ``cp1258``, ``latin-1`` → windows-1252
    as browsers do). Undecodable bytes in a declared charset become U+FFFD.

    windows-1258 encodes most Vietnamese letters as a base letter plus a combining tone
    mark, so its result is NFC-normalised: "Hà Nội" comes out as the same code points a
    UTF-8 page would give.
    """
    bom = _bom_charset(body)
    header = charset_from_content_type(content_type)
    if header:
        # A BOM of the same family is not text; strip it. (Browsers let a BOM override the
        # header; we follow the brief's order, which only differs for broken servers.)
        skip = bom[1] if bom and bom[0] == header else 0
        return _decode(body[skip:], header)
    if bom:
        return _decode(body[bom[1] :], bom[0])
    declared = declared_charset(body)
    if declared:
        return _decode(body, declared)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return _decode(body, "cp1258")


def _decode(body: bytes, charset: str) -> str:
    text = body.decode(charset, errors="replace")
    if charset == "cp1258":
        text = unicodedata.normalize("NFC", text)
    return text
