"""Canonical text, folding and legacy-encoding detection (pipelines.match.text)."""

from __future__ import annotations

import unicodedata

import pytest

from pipelines.match.text import canonicalize, document_text, fold, legacy_encoding, tone_key


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("Qu&#7853;n Hai B&agrave; Tr&#432;ng", "Quận Hai Bà Trưng"),
        ("&amp;lt; stays one level deep", "&lt; stays one level deep"),
        ("Quáº\u00adn Hai BÃ\u00a0 TrÆ°ng", "Quận Hai Bà Trưng"),
        ("\u00d0ường Hai Bà Trưng, \u00f0ường", "Đường Hai Bà Trưng, đường"),
        ("Hai\u00a0Bà\u202fTrưng\u2007x", "Hai Bà Trưng x"),
        ("\ufeffHai\u200d Bà\u2060 Tr\u00adưng\u200e", "Hai Bà Trưng"),
        ("Văn\u200bPhong", "Văn Phong"),
        ("Văn\u200b Phong", "Văn Phong"),
        ("Nguyễn  Văn\t\tPhong ", "Nguyễn Văn Phong"),
        ("Nguyễn Văn\r\nPhong", "Nguyễn Văn Phong"),
        ("Đoạn một.\n\nĐoạn hai.", "Đoạn một.\nĐoạn hai."),
        ("Đoạn một.\r\n  \r\n\r\nĐoạn hai.\n", "Đoạn một.\nĐoạn hai."),
        ("một\u2029hai\u2028ba", "một\nhai ba"),
        ("\n\n  \n", ""),
    ],
)
def test_canonicalize(raw: str, canonical: str) -> None:
    assert canonicalize(raw) == canonical


def test_canonical_text_is_nfc_even_when_only_some_lines_are_nfd() -> None:
    raw = "Dòng NFC.\n\n" + unicodedata.normalize("NFD", "Quận Hai Bà Trưng") + "\n\nHết."
    text = canonicalize(raw)
    assert text == "Dòng NFC.\nQuận Hai Bà Trưng\nHết."
    assert unicodedata.is_normalized("NFC", text)


def test_genuine_capital_a_tilde_is_not_taken_for_mojibake() -> None:
    assert canonicalize("NGÃ BA HUẾ") == "NGÃ BA HUẾ"
    assert canonicalize("Giá: 100Â") == "Giá: 100Â"


def test_document_text_marks_the_title() -> None:
    text, title_length = document_text("Tiêu\nđề", "Thân\n\nbài")
    assert text == "Tiêu đề\nThân\nbài"
    assert text[:title_length] == "Tiêu đề"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("UBND QuËn Hai Bµ Tr\u00adng th«ng b¸o", "tcvn3"),
        ("Hµ Néi: Thµnh ñy häp b¸o vÒ t×nh h×nh", "tcvn3"),
        ("UBND quaän Hai Baø Tröng thoâng baùo", "vni"),
        ("Ñoaøn coâng taùc laøm vieäc", "vni"),
        ("UBND quận Hai Bà Trưng thông báo", None),
        ("Müller và Schröder ghi bàn cho Bayern", None),
        ("Coca-Cola® và Pepsi giảm giá 5µm", None),
        ("Søren Kierkegaard, Bjørn Borg, François, Muñoz", None),
        ("Nhiệt độ 35°C « trích dẫn » ¿qué?", None),
    ],
)
def test_legacy_encoding(text: str, encoding: str | None) -> None:
    assert legacy_encoding(text) == encoding
    assert legacy_encoding(canonicalize(text)) == encoding


def test_tcvn3_keeps_its_soft_hyphen_letter() -> None:
    # 0xAD is "ư" in TCVN3: deleting it would make the text unconvertible.
    assert "\u00ad" in canonicalize("UBND QuËn Hai Bµ Tr\u00adng th«ng b¸o")


def test_fold_keeps_length_and_offsets() -> None:
    text = "Nguyễn ĐỨC Tuấn “Hà Nội” Müller 日本\nđường"
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded.startswith("nguyen duc tuan ?ha noi? muller ??\nduong")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("hoà", "hòa", True),
        ("uỷ", "ủy", True),
        ("Thuý", "thúy", True),
        ("hòan", "hoàn", True),
        ("lựơng", "lượng", True),
        ("Phong", "Phòng", False),
        ("Tuấn", "Tuân", False),
        ("Nam", "Nâm", False),
        ("Hóa", "Hòa", False),
    ],
)
def test_tone_key_ignores_only_the_placement(a: str, b: str, same: bool) -> None:
    assert (tone_key(a) == tone_key(b)) is same
