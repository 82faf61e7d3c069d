"""Decoding downloaded pages: the page's own word on its charset wins, never a guess."""

from __future__ import annotations

import codecs
from pathlib import Path

import lxml.html
import pytest

from pipelines.clean.encoding import charset_from_content_type, declared_charset, normalise_charset
from pipelines.clean.extract import decode_html, extract

PAGES = Path(__file__).resolve().parent / "pages"
VIETNAMESE = "Phường Hai Bà Trưng, quận Đống Đa, Hà Nội: ủy ban, Ưu đãi, Ỷ lại"


def _page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("utf8", "utf-8"),
        ("UTF-8", "utf-8"),
        ("windows-1258", "cp1258"),
        ("cp1258", "cp1258"),
        ("Windows-1258", "cp1258"),
        ("iso-8859-1", "cp1252"),  # what browsers do with a latin-1 label
        ("us-ascii", "cp1252"),
        ("no-such-charset", None),
        ("", None),
    ],
)
def test_charset_labels_are_mapped(label: str, expected: str | None) -> None:
    assert normalise_charset(label) == expected


def test_charset_from_http_header() -> None:
    assert charset_from_content_type('text/html; charset="UTF-8"') == "utf-8"
    assert charset_from_content_type("text/html;charset=windows-1258") == "cp1258"
    assert charset_from_content_type("text/html") is None
    assert charset_from_content_type(None) is None


def test_late_meta_charset_is_found_past_the_html5_prescan_window() -> None:
    body = _page("late_charset.html")
    assert body.index(b'<meta charset="utf-8">') > 18_000
    # The trap this guards against: libxml2 guesses from the first bytes and gets mojibake.
    assert "Đống Đa" not in (lxml.html.fromstring(body).findtext(".//h1") or "")
    assert declared_charset(body) == "utf-8"
    assert "Đống Đa lắp đèn tín hiệu mới" in decode_html(body)


def test_windows_1258_page_declared_in_meta_http_equiv() -> None:
    text = decode_html(_page("windows1258.html"))
    # windows-1258 stores tones as combining marks; the result is composed like UTF-8 text.
    assert "Phường Hoàn Kiếm chỉnh trang vỉa hè phố Hàng Bài" in text
    assert "Ủy ban nhân dân phường Hoàn Kiếm" in text


def test_header_only_charset_is_used() -> None:
    body = _page("header_only_charset.html")
    assert declared_charset(body) is None
    text = decode_html(body, "text/html; charset=windows-1258")
    assert "Quận Ba Đình thông xe cầu vượt Kim Mã – Liễu Giai" in text


def test_header_wins_over_a_wrong_meta() -> None:
    body = f'<meta charset="windows-1258"><p>{VIETNAMESE}</p>'.encode()
    assert VIETNAMESE in decode_html(body, "text/html; charset=utf-8")


def test_meta_wins_over_bytes_that_also_decode_as_utf8() -> None:
    # b"\xc3\xa0" is "à" in UTF-8 and "Ă" + no-break space in windows-1258: the page says.
    body = b'<meta charset="windows-1258"><p>\xc3\xa0</p>'
    assert "<p>Ă\u00a0</p>" in decode_html(body)


def test_bom_is_used_and_stripped() -> None:
    assert decode_html(codecs.BOM_UTF8 + VIETNAMESE.encode()) == VIETNAMESE
    assert decode_html(codecs.BOM_UTF16_LE + VIETNAMESE.encode("utf-16-le")) == VIETNAMESE


def test_xml_declaration_is_a_declaration() -> None:
    body = b'<?xml version="1.0" encoding="windows-1258"?><html><p>\xd0a\xec</p></html>'
    assert "Đá" in decode_html(body)


def test_undeclared_utf8_is_utf8_and_anything_else_windows_1258() -> None:
    assert decode_html(f"<p>{VIETNAMESE}</p>".encode()) == f"<p>{VIETNAMESE}</p>"
    legacy = _page("header_only_charset.html")
    assert "Quận Ba Đình" in decode_html(legacy)


def test_unknown_declared_label_is_ignored_not_fatal() -> None:
    body = f'<meta charset="x-vietnamese-tcvn"><p>{VIETNAMESE}</p>'.encode()
    assert VIETNAMESE in decode_html(body)


def test_meta_claiming_utf16_in_an_ascii_compatible_page_means_utf8() -> None:
    body = f'<meta charset="utf-16"><p>{VIETNAMESE}</p>'.encode()
    assert VIETNAMESE in decode_html(body)


def test_broken_bytes_in_a_declared_charset_do_not_raise() -> None:
    body = b'<meta charset="utf-8"><p>Ha Noi \xff\xfe</p>'
    assert "Ha Noi" in decode_html(body)


@pytest.mark.parametrize(
    ("name", "content_type", "title"),
    [
        ("late_charset.html", None, "Đống Đa lắp đèn tín hiệu mới ở nút giao Tây Sơn – Thái Hà"),
        ("windows1258.html", None, "Phường Hoàn Kiếm chỉnh trang vỉa hè phố Hàng Bài"),
        (
            "header_only_charset.html",
            "text/html; charset=windows-1258",
            "Quận Ba Đình thông xe cầu vượt Kim Mã – Liễu Giai",
        ),
    ],
)
def test_extract_from_bytes_reads_the_headline_correctly(
    name: str, content_type: str | None, title: str
) -> None:
    found = extract(_page(name), "https://example.vn/bai-1.html", content_type=content_type)
    assert found is not None
    assert found.title == title
    assert "Ä" not in found.text and "�" not in found.text
