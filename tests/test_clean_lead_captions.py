"""The lead and the photo captions on markup the cleaner does not know (the generic path), on
pages written for it (``tests/pages/generic``; their whole output is also pinned by golden
files), and what a watch that hits only a caption tells the reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.clean.extract import CleanError, Extracted, extract
from pipelines.clean.lead import has_hook
from pipelines.match.matcher import Matcher
from pipelines.match.rules import parse_watches
from pipelines.match.snippet import CAPTION_MARK
from pipelines.persist import clean_page
from tests.conftest import run_cli

GENERIC = Path(__file__).resolve().parent / "pages" / "generic"
SEED_URL = "https://thudomau.vn/kiem-tra-tien-do-cai-tao-chung-cu-cu-251990.html"


def _extract(name: str, **selectors: list[str]) -> Extracted:
    found = extract(
        (GENERIC / name).read_bytes(), f"https://thudomau.vn/{name}-1.html", **selectors
    )
    assert found is not None
    return found


# page -> (how the lead opens, the captions). Every generic lead shape, with and without a
# class, and every caption shape: figcaption, a caption class after the image, a table.
SHAPES = {
    "lead_h2_class.html": ("(HNM) - Sáng 11/9", ["Giám đốc Sở Xây dựng Phạm Văn Tâm"]),
    "lead_h2_plain.html": ("KTĐT - Phường Vĩnh Tuy", ["Cán bộ phường Vĩnh Tuy"]),
    # The seed's shape with no class and no description meta: found by position alone.
    "lead_h2_bare.html": ("TTTĐ - Chiều 10/9", ["Phó Chủ tịch UBND", "Bí thư Đảng ủy"]),
    "lead_p_class.html": ("Từ ngày 15/9, Bệnh viện Bạch Mai", ["Người bệnh làm thủ tục"]),
    "lead_p_plain.html": ("Chiều 14/9, Quận ủy Hai Bà Trưng", ["Bí thư Quận ủy Nguyễn Thị Lan"]),
    "lead_div_class.html": ("Tuần lễ văn hóa quanh hồ", ["Khách tham quan xem biểu diễn"]),
    "lead_div_plain.html": ("Các trường học trên địa bàn", ["Học sinh trường tiểu học"]),
    "lead_strong_class.html": ("KTĐT - Tám tháng đầu năm", ["Cục trưởng Cục Thống kê"]),
    "lead_strong_plain.html": ("TTTĐ - Sáng 8/9, hơn 500 đoàn viên", []),
}


@pytest.mark.parametrize("page", sorted(SHAPES))
def test_the_lead_is_the_first_paragraph_once_and_captions_stand_apart(page: str) -> None:
    opens, captions = SHAPES[page]
    got = _extract(page)
    paragraphs = got.text.split("\n\n")
    assert paragraphs[0].startswith(opens)
    assert sum(p.startswith(opens) for p in paragraphs) == 1
    assert len(got.captions) == len(captions)
    for caption, start in zip(got.captions, captions, strict=True):
        assert caption.startswith(start)
        assert caption not in got.text  # never glued into the body's sentences


def test_the_seed_like_page_yields_lead_body_and_captions_in_reading_order() -> None:
    got = extract((GENERIC / "seed_tttd.html").read_bytes(), SEED_URL)
    assert got is not None
    paragraphs = got.text.split("\n\n")
    assert paragraphs[0].startswith("TTTĐ - Chiều 10/9, Phó Chủ tịch UBND thành phố Trần Minh")
    assert paragraphs[1].startswith("Theo báo cáo của UBND phường Bạch Mai")
    assert paragraphs[-1].startswith("Đồng chí cũng lưu ý đơn vị thi công")
    # Printed twice on the page (the image's alt text and the caption under it): once here.
    assert got.captions == (
        "Phó Chủ tịch UBND thành phố Trần Minh Quang kiểm tra hiện trạng khu chung cư Bạch Mai",
        "Bí thư Đảng ủy phường Bạch Mai Lê Thu Hằng trao đổi với người dân",
    )
    for chrome in ("Phiên bản di động", "Hà Nội đẩy nhanh cải tạo", "Phường Vĩnh Tuy ra quân"):
        assert chrome not in got.text
    assert not any("Giá vàng" in c or "Vĩnh Tuy" in c for c in got.captions)  # other articles'


def test_a_photo_story_keeps_its_captions_as_its_text() -> None:
    # A gallery told in captions (2012 Ngôi Sao lays its stories out so): moving them apart
    # would leave an article with no text.
    got = _extract("photo_story.html")
    assert got.captions == ()
    paragraphs = got.text.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[2].startswith("Chủ tịch UBND phường Hoàn Kiếm Đặng Thu Trang")


def test_a_headline_repeat_a_teaser_and_an_ad_slot_are_not_taken_for_the_lead() -> None:
    got = _extract("not_a_lead.html")
    assert got.text.startswith("Sau ba tháng tạm dừng để sửa chữa mặt đường")
    for wrong in ("Nhiều hoạt động văn hóa, thể thao", "Quảng cáo", "Hồ Tây đón khách"):
        assert wrong not in got.text


@pytest.mark.parametrize(
    ("value", "hooked"),
    [
        ("post-sapo", True),
        ("sapo_detail", True),
        ("articleLead", True),
        ("LeadText", True),
        ("article-chapeau box", True),
        ("boxsapo", True),
        ("leaderboard", False),
        ("misleading", False),
        ("descriptions-list", False),
    ],
)
def test_a_hook_word_counts_on_its_own_only(value: str, hooked: bool) -> None:
    assert has_hook(value, ("sapo", "lead", "chapeau", "description")) is hooked


# An outlet whose markup the generic rules get wrong: a hooked box before the lead is its
# author's note, and its captions carry no caption word.
SITE_PAGE = """<html><head><title>Hà Nội công bố quy hoạch phân khu đô thị sông Hồng</title>
</head><body><div class="wrap"><h1>Hà Nội công bố quy hoạch phân khu đô thị sông Hồng</h1>
<p class="summary-author">Bài viết của phóng viên ban Đô thị, người theo dõi quy hoạch
sông Hồng trong nhiều năm qua.</p>
<div class="intro"><span class="intro-text">Chiều 3/10, UBND thành phố Hà Nội công bố
quy hoạch phân khu đô thị sông Hồng và lấy ý kiến người dân.</span></div>
<div class="txt"><p>Quy hoạch có diện tích khoảng 11.000 ha, trải dài 40 km dọc hai bên bờ
sông, đi qua nhiều phường, với các khu công viên, quảng trường và không gian văn hóa.</p>
<div class="pic"><img src="/a.jpg"></div><div class="note">Phó Chủ tịch UBND thành phố
Dương Đức Tuấn phát biểu tại hội nghị công bố</div>
<p>Người dân có thể xem hồ sơ quy hoạch tại trụ sở UBND các phường trong vòng 30 ngày,
và gửi ý kiến góp ý bằng văn bản hoặc qua cổng thông tin điện tử của thành phố.</p>
</div></div></body></html>"""


def test_site_lead_and_caption_selectors_cover_what_the_generic_rules_miss() -> None:
    url = "https://kinhtedothi.vn/quy-hoach-song-hong-123.html"
    plain = extract(SITE_PAGE, url)
    assert plain is not None
    assert plain.text.startswith("Bài viết của phóng viên") and "Dương Đức Tuấn" in plain.text
    tuned = extract(SITE_PAGE, url, lead=["span.intro-text"], captions=["div.note"])
    assert tuned is not None
    assert tuned.text.startswith("Chiều 3/10, UBND thành phố Hà Nội công bố quy hoạch")
    assert tuned.captions == (
        "Phó Chủ tịch UBND thành phố Dương Đức Tuấn phát biểu tại hội nghị công bố",
    )
    assert "Dương Đức Tuấn" not in tuned.text


@pytest.mark.parametrize("key", ["lead", "captions"])
def test_an_invalid_site_selector_is_a_clear_error(key: str) -> None:
    with pytest.raises(CleanError, match=r"invalid CSS selector 'p\[\['"):
        extract(SITE_PAGE, "https://kinhtedothi.vn/a-1.html", **{key: ["p[["]})


WATCHES = {
    "watches": {
        "bi-thu-bach-mai": {"any": ["Lê Thu Hằng"]},
        "pho-chu-tich": {"any": ["Trần Minh Quang"]},
    }
}


def test_an_alert_whose_only_hit_is_in_a_caption_says_so() -> None:
    page = clean_page((GENERIC / "seed_tttd.html").read_bytes(), SEED_URL, None, [])
    assert page is not None and page.captions_start is not None
    watches, _ = parse_watches(WATCHES)
    matches = Matcher.compile(watches).match(
        page.text, title_length=page.title_length, captions_start=page.captions_start
    )
    by_name = {m.watch.name: m.hits for m in matches}
    (only,) = by_name["bi-thu-bach-mai"]
    assert "in_caption" in only.flags
    assert only.snippet.startswith(CAPTION_MARK)
    assert "Lê Thu Hằng trao đổi với người dân" in only.snippet
    # The official is named in the lead and in a caption: the alert's snippet (its first
    # hit's) is the lead's sentence, not marked.
    first, *rest = by_name["pho-chu-tich"]
    assert not first.snippet.startswith(CAPTION_MARK) and "TTTĐ - Chiều 10/9" in first.snippet
    assert [h.flags for h in rest] == [("in_caption",)]


def test_extract_and_match_commands_show_the_captions(tmp_path: Path) -> None:
    seed = GENERIC / "seed_tttd.html"
    shown = run_cli("extract", seed, "--url", SEED_URL, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["captions"][1].startswith("Bí thư Đảng ủy phường Bạch Mai")
    watches = tmp_path / "watches.yaml"
    watches.write_text("watches:\n  bi-thu:\n    any: [Lê Thu Hằng]\n", encoding="utf-8")
    matched = run_cli("match", "--watches", watches, "--html", "--json", seed, "--url", SEED_URL)
    assert matched.returncode == 0, matched.stderr
    (hit,) = json.loads(matched.stdout)["watches"][0]["hits"]
    assert hit["flags"] == ["in_caption"] and hit["snippet"].startswith(CAPTION_MARK)


def test_a_wrapper_named_like_a_caption_is_not_taken_out_of_the_text() -> None:
    # The generic caption rule goes by a class word; a box of the story's text can carry it
    # too, and is too long to be a caption: it stays text.
    sentence = "Phường Bạch Mai lắp thêm camera giám sát giao thông tại các nút giao lớn. "
    box = f'<div class="khung-chuthich"><img src="/a.jpg"><p>{sentence * 9}</p></div>'
    rest = "".join(f"<p>Đoạn {i}. {sentence * 4}</p>" for i in range(6))
    page = (
        "<html><head><title>Phường Bạch Mai lắp camera giao thông</title></head><body>"
        f"<div><h1>Phường Bạch Mai lắp camera giao thông</h1>{box}{rest}</div></body></html>"
    )
    got = extract(page, "https://thudomau.vn/bach-mai-camera-1.html")
    assert got is not None and got.captions == ()
    assert got.text.count(sentence.strip()) == 9 + 6 * 4
