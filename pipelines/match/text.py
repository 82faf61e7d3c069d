"""Vietnamese text canonicalisation and folding (shared ``matching/RULES.md``).

The canonical text is what the store keeps and what every hit offset refers to:

* HTML entities decoded once; UTF-8-read-as-cp1252 mojibake repaired, only when a cheap
  check finds its signature;
* zero-width characters, soft hyphens, BOM and bidi marks deleted (a zero-width space that
  is the only thing between two words becomes a space, so ``Văn<ZWSP>Phong`` stays two words);
* Unicode NFC, and the look-alikes ``Ð/ð``/``Ɖ`` mapped to ``Đ/đ``;
* every Unicode space, tab and single line break becomes one space; a blank line is a
  paragraph break, kept as exactly one ``"\\n"``.

Legacy 8-bit Vietnamese (TCVN3/ABC, VNI) is never decoded: :func:`legacy_encoding` only
detects it, and the matcher refuses to match such text.

:func:`fold` gives a lowercase ASCII skeleton *of the same length* as the canonical text,
so an offset found in the folded copy is the same offset in the canonical text.

Mojibake repair is written here rather than taken from ``ftfy``: only the cp1252/latin-1
case matters for Vietnamese feeds, it is a dozen lines, and it keeps the hot path free of
ftfy's general heuristics (which would also re-normalise text we already normalised).
"""

from __future__ import annotations

import codecs
import html
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import _codecs

__all__ = [
    "ArticleDocument",
    "article_document",
    "canonicalize",
    "document_text",
    "fold",
    "fold_exact",
    "legacy_encoding",
    "tone_key",
]

# Deleted outright: zero-width joiners/non-joiners, word joiner and invisible operators,
# soft hyphen, BOM, bidi marks and embeddings, Mongolian vowel separator, CGJ.
_INVISIBLE = (
    "\u200c\u200d\u2060\u2061\u2062\u2063\u2064\u00ad\ufeff\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c\u180e\u034f"
)
_ZWSP = "\u200b"
# Every Unicode space except the ASCII one, and the line-ish controls that are no paragraph.
_SPACES = (
    "\t\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u202f\u205f\u3000"
)
_LOOKALIKES = {"\u00d0": "\u0110", "\u00f0": "\u0111", "\u0189": "\u0110", "\u0256": "\u0111"}
_SPACE_RUN = re.compile("  +")

# -- mojibake (UTF-8 bytes shown as cp1252) ------------------------------------------------
# Signatures that genuine Vietnamese never contains: "áº"/"á»" (U+1Exx letters), "Æ°" (ư),
# "Ä‘" (đ), "Ã" followed by a cp1252 continuation byte.
_MOJIBAKE_HINTS = ("Ã", "Æ", "Ä", "º", "»")  # single characters: `in` is ~10x cheaper


def _cp1252_byte_map() -> dict[str, int]:
    table: dict[str, int] = {}
    for byte in range(0x80, 0x100):
        try:
            table[bytes([byte]).decode("cp1252")] = byte
        except UnicodeDecodeError:
            table[chr(byte)] = byte  # the five holes of cp1252 come through as C1 controls
    return table


_BYTE_OF = _cp1252_byte_map()
_CONT_CHARS = "".join(c for c, b in _BYTE_OF.items() if b < 0xC0)  # bytes 0x80-0xBF
_CONT = f"[{_CONT_CHARS} ]"
_MOJIBAKE_SEQ = re.compile(
    f"[\u00c2-\u00df]{_CONT}|[\u00e0-\u00ef]{_CONT}{{2}}|[\u00f0-\u00f4]{_CONT}{{3}}"
)
_MOJIBAKE_STRONG = re.compile(f"áº|á»|Æ°|Æ¡|Ä‘|Ã[{_CONT_CHARS}]")


def _unmojibake(match: re.Match[str]) -> str:
    seq = match.group()
    # A nbsp continuation byte (à = C3 A0) often reached us already turned into a space.
    raw = bytes(0xA0 if c == " " else _BYTE_OF[c] for c in seq)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return seq


def _repair_mojibake(text: str) -> str:
    if not any(h in text for h in _MOJIBAKE_HINTS) or not _MOJIBAKE_STRONG.search(text):
        return text
    return _MOJIBAKE_SEQ.sub(_unmojibake, text)


# -- canonicalisation ----------------------------------------------------------------------


def canonicalize(raw: str) -> str:
    """Canonical text: NFC, cleaned; paragraphs separated by exactly one "\\n"; no other newlines.

    Input convention: a single line break is a soft wrap (-> space); a blank line (possibly
    with spaces) is a paragraph break.
    """
    text = html.unescape(raw) if "&" in raw else raw
    text = _repair_mojibake(text)
    if _ZWSP in text:
        text = _split_at_zwsp(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if not _printable(text):
        # TCVN3 stores ư as 0xAD (a soft hyphen): keep it so the text stays convertible.
        odd = _ODD_KEEP_SHY if "\xad" in text and legacy_encoding(text) == "tcvn3" else _ODD
        text = odd.sub(_replace_odd, text)
    text = _nfc(text)
    for lookalike, good in _LOOKALIKES.items():
        if lookalike in text:
            text = text.replace(lookalike, good)
    return _paragraphs(text)


# Everything `str.isprintable` refuses that canonical text cannot keep: spaces other than
# " ", line breaks other than "\n", format characters (zero-width, soft hyphen, BOM, bidi)
# and controls. One regex pass, and only over text that is not printable already (`in`
# tests per character would be slower: CPython's search for U+2000-style characters
# degenerates on UCS-2 text).
_ODD_REPLACEMENT = {"\r": "\n", "\u2028": "\n", "\u2029": "\n\n", "\x85": "\n"}
_ODD_REPLACEMENT.update({ch: " " for ch in _SPACES if ch not in _ODD_REPLACEMENT})
_ODD_REPLACEMENT.update({ch: "" for ch in _INVISIBLE})
_ODD_REPLACEMENT.update({chr(c): "" for c in [*range(0, 9), *range(14, 28), 127]})
_ODD = re.compile("[" + "".join(_ODD_REPLACEMENT) + "]")
_ODD_KEEP_SHY = re.compile("[" + "".join(c for c in _ODD_REPLACEMENT if c != "\xad") + "]")


def _replace_odd(match: re.Match[str]) -> str:
    return _ODD_REPLACEMENT[match.group()]


def _printable(text: str) -> bool:
    if "\n" not in text:
        return text.isprintable()
    return all(line.isprintable() for line in text.split("\n"))


def _nfc(text: str) -> str:
    # NFC of a string that fails the quick check re-composes all of it (~30 MB/s); scraped
    # text is usually NFD in a few paragraphs only, so normalise line by line: lines that
    # pass the quick check cost next to nothing.
    if "\n" not in text:
        return unicodedata.normalize("NFC", text)
    return "\n".join([unicodedata.normalize("NFC", line) for line in text.split("\n")])


def _split_at_zwsp(text: str) -> str:
    # A ZWSP that alone separates two words is a word break; anywhere else it is noise.
    # (split/join instead of a look-around regex: ~20x faster on a 7 KB article)
    pieces = text.split(_ZWSP)
    out = [pieces[0]]
    for piece in pieces[1:]:
        if piece and out[-1] and out[-1][-1].isalnum() and piece[0].isalnum():
            out.append(" ")
        out.append(piece)
    return "".join(out)


def _paragraphs(text: str) -> str:
    # Only " " and "\n" are left. A line break alone is a soft wrap; a blank line (maybe
    # holding spaces) separates paragraphs.
    if "\n" in text:
        paragraphs: list[str] = []
        lines: list[str] = []
        for line in text.split("\n"):
            line = line.strip(" ")
            if line:
                lines.append(line)
            elif lines:
                paragraphs.append(" ".join(lines))
                lines = []
        if lines:
            paragraphs.append(" ".join(lines))
        text = "\n".join(paragraphs)
    if "  " in text:
        text = _SPACE_RUN.sub(" ", text)
    return text.strip(" ")


def document_text(title: str, body: str) -> tuple[str, int]:
    """(canonical title + "\\n" + canonical body, length of the canonical title).

    Stored as the article text; hits with start < title length get the flag ``in_title``.
    A title is one paragraph: line breaks inside it are soft wraps.
    """
    head = canonicalize(title).replace("\n", " ")
    return f"{head}\n{canonicalize(body)}", len(head)


class ArticleDocument(NamedTuple):
    """What an article is matched on: the canonical title, text and captions, one string."""

    text: str
    title_length: int
    #: Where the captions begin (``len(text)`` when there are none): hits from here on are
    #: in a photo caption.
    captions_start: int


def article_document(title: str, body: str, captions: Sequence[str] = ()) -> ArticleDocument:
    """:func:`document_text` followed by the photo captions, one paragraph each.

    The captions come last, so a hit in the body always comes before one in a caption
    (an alert's snippet is its first hit's), and every offset in the title and the body is
    the same as without them.
    """
    text, title_length = document_text(title, body)
    tail = canonicalize("\n\n".join(captions)) if captions else ""
    if not tail:
        return ArticleDocument(text, title_length, len(text))
    return ArticleDocument(f"{text}\n{tail}", title_length, len(text) + 1)


# -- legacy 8-bit encodings ----------------------------------------------------------------
# TCVN3 puts lowercase Vietnamese letters on Latin-1 symbols (à=µ, á=¸, ô=«, ư=soft hyphen,
# đ=®) and on capital-looking letters (ậ=Ë, ệ=Ö); VNI writes a base letter followed by a
# mark byte (à = "aø", ạ = "aï", ả = "aû") and ư/đ as ö/ñ. Real Vietnamese, German, French
# or Spanish text never puts those characters in those places.
_TCVN_WORD = re.compile(
    "[^\\W\\d_][µ¸¶·¹«¬¨©ª¡¢£¤¥¦§»¼½¾]|[µ¸¶·¹«¬¨©ª®¡¢£¤¥¦§»¼½¾][^\\W\\d_]|[a-zà-ÿ][ÆÇËÎÏÑÖ×ØÜÞ]"
)
_VNI_STRONG = re.compile("[aeiouyAEIOUYôöÔÖ][øïûØÏÛ]")
_VNI_WEAK = re.compile("[A-Za-z]ö[a-z]|[aeAE][äåëüÄÅËÜ]|\\b[ñÑ][a-zöô]|[a-z]ô[øùûõïØÙÛÕÏ]")
_LEGACY_HINTS = "µ¸¹«¬®©ª¨¶øïûöñ"
_VIETNAMESE = re.compile("[\u1ea0-\u1ef9ăĂđĐĩĨũŨơƠưƯ]")


def legacy_encoding(text: str) -> str | None:
    """``"tcvn3"`` or ``"vni"`` when the text is legacy 8-bit Vietnamese shown as Latin-1.

    Detection only: such text is flagged for conversion and never matched. Clean text
    returns ``None`` after a few substring checks.
    """
    # The letters every legacy text is full of (TCVN3 à á ạ ô ơ đ â ê ă ả, VNI marks and
    # ư đ): a few `in` tests, each far cheaper than one regex scan.
    if not any(hint in text for hint in _LEGACY_HINTS):
        return None
    tcvn = vni_strong = vni_weak = viet = 0
    for word in text.split():
        if _VIETNAMESE.search(word):
            viet += 1  # a legacy word never holds a real Unicode Vietnamese letter
        elif _TCVN_WORD.search(word):
            tcvn += 1
        if _VNI_STRONG.search(word):
            vni_strong += 1
        elif _VNI_WEAK.search(word):
            vni_weak += 1
    if tcvn >= 2 and 2 * tcvn > viet:
        return "tcvn3"
    if vni_strong >= 1 and vni_strong + vni_weak >= 2 and 2 * (vni_strong + vni_weak) > viet:
        return "vni"
    return None


# -- folding ------------------------------------------------------------------------------
_VN_LOWER = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
_FOREIGN = "äåçëîïñöøûüÿ"


def _base_letter(ch: str) -> str:
    low = ch.lower()
    if low == "đ":
        return "d"
    base = unicodedata.normalize("NFD", low)[0]
    return base if base.isascii() else "?"


def _build_fold_codec() -> tuple[dict[int, int] | _codecs._EncodingMap, bytes]:
    # Fold = one C-level charmap encode (each known character -> its own byte, anything
    # else -> "?") + one bytes.translate (byte -> folded ASCII byte). Both keep the length
    # and together run at ~300 MB/s, where str.translate with a dict manages ~20 MB/s.
    # CPython only builds its fast 3-level EncodingMap (not a dict) when NUL comes first.
    known = ["\x00", "\n"] + [chr(i) for i in range(32, 127)]
    known += list(_VN_LOWER) + list(_VN_LOWER.upper()) + list(_FOREIGN)
    known += [c.upper() for c in _FOREIGN if c.upper() != c and len(c.upper()) == 1]
    assert len(known) <= 256, len(known)
    decoding = "".join(known) + "".join(chr(0xE000 + i) for i in range(256 - len(known)))
    table = bytearray(ord("?") for _ in range(256))
    for i, ch in enumerate(known):
        table[i] = ord(ch.lower() if ch.isascii() else _base_letter(ch))
    return codecs.charmap_build(decoding), bytes(table)


_FOLD_MAP, _FOLD_TABLE = _build_fold_codec()


def fold(text: str) -> str:
    """Lowercase ASCII skeleton of ``text`` with exactly the same length.

    Diacritics are dropped and ``đ`` becomes ``d``; characters outside Vietnamese and
    common Latin letters become ``?``. Offsets carry over unchanged.
    """
    encoded = codecs.charmap_encode(text, "replace", _FOLD_MAP)[0]
    return encoded.translate(_FOLD_TABLE).decode("ascii")


@lru_cache(maxsize=200_000)
def fold_exact(text: str) -> str:
    """Accent folding for any script (slow path): NFD, marks dropped, ``đ``→``d``, lower case."""
    low = text.lower().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", low) if not unicodedata.combining(c))


_TONE_MARKS = {"\u0300": "2", "\u0301": "1", "\u0303": "4", "\u0309": "3", "\u0323": "5"}


@lru_cache(maxsize=200_000)
def tone_key(syllable: str) -> str:
    """Letters + tone digit of a lower-cased syllable, wherever the tone mark sits.

    ``hoà`` and ``hòa`` give ``hoa2``; ``lựơng`` and ``lượng`` give ``lương5``; so old and
    new tone placement and the common misplaced-mark typo compare equal, while a different
    vowel mark (``Phong``/``Phòng``, ``Tuấn``/``Tuân``) does not.
    """
    tone = ""
    letters = []
    for ch in unicodedata.normalize("NFD", syllable.lower()):
        if ch in _TONE_MARKS:
            tone = _TONE_MARKS[ch]
        else:
            letters.append(ch)
    return unicodedata.normalize("NFC", "".join(letters)) + tone
