"""Story fingerprints and the join decision, on small texts written here."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import numpy as np

from pipelines.match.text import document_text
from pipelines.stories.decide import Neighbour, decide
from pipelines.stories.fingerprint import BANDS, Fingerprint, fingerprint
from pipelines.stories.memory import MemoryIndex

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
TITLE = "Phường Bạch Mai khánh thành nhà văn hóa mới"
BODY = (
    "Sáng 2/11, phường Bạch Mai tổ chức lễ khánh thành nhà văn hóa tổ dân phố số 12 sau "
    "tám tháng xây dựng với tổng kinh phí 4,5 tỷ đồng từ ngân sách và đóng góp của người dân.\n\n"
    "Nhà văn hóa có hội trường 150 chỗ ngồi, phòng đọc sách và sân tập thể dục, được thiết kế "
    "để các câu lạc bộ văn nghệ, dưỡng sinh của người cao tuổi và thiếu nhi cùng sử dụng.\n\n"
    "Chủ tịch Ủy ban nhân dân phường cho biết năm tới phường sẽ cải tạo thêm ba nhà văn hóa "
    "xuống cấp và mở cửa sân tập miễn phí cho học sinh vào buổi chiều."
)


def _fp(title: str, body: str) -> Fingerprint:
    text, title_length = document_text(title, body)
    return fingerprint(text[:title_length], text)


def test_nfd_old_tone_placement_and_capitals_give_the_same_fingerprint() -> None:
    plain = _fp(TITLE, BODY)
    variants = [
        _fp(unicodedata.normalize("NFD", TITLE), unicodedata.normalize("NFD", BODY)),
        _fp(TITLE.upper(), BODY.replace("hóa", "hoá").replace("Hóa", "Hoá")),
        _fp(TITLE, BODY.replace("Ủy ban", "Uỷ ban").replace(" ", "\u200b ")),
    ]
    for variant in variants:
        assert np.array_equal(variant.signature, plain.signature)
        assert variant.numbers == plain.numbers == {"2/11", "12", "4,5", "150"}


def test_a_different_tone_is_a_different_syllable() -> None:
    # "Phong" and "Phòng" are different names: changing every syllable's mark breaks shingles.
    a = _fp("Ông Phong", "ông Phong đến phường ông Phong đi phố ông Phong về nhà")
    b = _fp("Ông Phòng", "ông Phòng đến phường ông Phòng đi phố ông Phòng về nhà")
    assert a.jaccard(b) < 0.5


def test_a_copy_joins_within_the_window_and_starts_a_new_story_after_it() -> None:
    original = _fp(TITLE, BODY)
    stored = Neighbour(1, "st-1", T0, "tin-thu-do", original)
    inside = decide(_fp(TITLE, BODY), T0 + timedelta(hours=71), [stored])
    assert inside.story == "st-1"
    assert inside.similarity > 0.95
    assert inside.reason.startswith("joined: 1.00 similar to article 1 (tin-thu-do)")
    outside = decide(_fp(TITLE, BODY), T0 + timedelta(hours=73), [stored])
    assert outside.story is None
    assert outside.reason == "new story: no similar article within 72 h"


def test_a_trimmed_copy_with_a_new_headline_joins() -> None:
    index = MemoryIndex()
    index.assign(1, "tin-thu-do", T0, _fp(TITLE, BODY))
    first_two = "\n\n".join(BODY.split("\n\n")[:2])
    decision = index.assign(
        2,
        "song-hong",
        T0 + timedelta(hours=2),
        _fp("Bạch Mai có nhà văn hóa 4,5 tỷ đồng", first_two),
    )
    assert decision.story == "st-1"
    assert decision.nearest is not None and decision.nearest.article == 1


def test_the_same_template_with_other_figures_is_another_story() -> None:
    column = (
        "Sáng {d}/11, giá vàng miếng được niêm yết ở mức {a} triệu đồng mỗi lượng mua vào và "
        "{b} triệu đồng mỗi lượng bán ra, {c} so với phiên trước. Giá vàng nhẫn dao động "
        "quanh mức {e} triệu đồng mỗi lượng. Người mua nên giao dịch tại cửa hàng được cấp phép."
    )
    monday = _fp(
        "Giá vàng hôm nay",
        column.format(d=3, a="148,5", b="150,5", c="tăng 500.000 đồng", e="146,1"),
    )
    tuesday = _fp(
        "Giá vàng hôm nay",
        column.format(d=4, a="147,8", b="149,8", c="giảm 700.000 đồng", e="145,2"),
    )
    stored = Neighbour(7, "st-7", T0, "song-hong", monday)
    decision = decide(tuesday, T0 + timedelta(days=1), [stored])
    assert decision.story is None
    assert decision.similarity >= 0.5  # similar text: only the figures tell the days apart
    assert "the figures differ (0 of 5 shared)" in decision.reason


def test_an_unrelated_article_about_the_same_ward_says_how_far_it_is() -> None:
    other = _fp(
        "Phường Bạch Mai ra quân dọn vệ sinh",
        "Sáng 9/11, phường Bạch Mai ra quân dọn vệ sinh các ngõ phố, thu gom 20 tấn rác thải "
        "và trồng mới 300 cây xanh tại các vườn hoa trong khu tập thể.",
    )
    stored = Neighbour(1, "st-1", T0, "tin-thu-do", _fp(TITLE, BODY))
    decision = decide(other, T0 + timedelta(hours=5), [stored])
    assert decision.story is None
    assert decision.reason.startswith("new story: the nearest article (1) is 0.")


def test_a_headline_alone_never_joins() -> None:
    stored = Neighbour(1, "st-1", T0, "tin-thu-do", _fp(TITLE, BODY))
    decision = decide(_fp("Bạch Mai", ""), T0, [stored])
    assert decision.story is None
    assert "too short" in decision.reason


def test_a_fingerprint_survives_storage() -> None:
    original = _fp(TITLE, BODY)
    again = Fingerprint.from_stored(
        original.signature_bytes(), original.size, original.numbers_text()
    )
    assert np.array_equal(again.signature, original.signature)
    assert again.numbers == original.numbers and again.size == original.size
    assert again.bands == original.bands and len(set(original.bands)) == BANDS
