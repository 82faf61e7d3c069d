"""The default watches in config/ alert on an article like the reference one, and not on
the look-alikes that fool naive keyword matching."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from crawler.config import load_watches_file
from pipelines.match.matcher import Matcher
from pipelines.match.text import document_text
from tests.conftest import REPO, run_cli

OFFICIALS = {
    "nguyen-van-phong",
    "duong-duc-tuan",
    "nguyen-van-nam",
    "cao-thi-hoa",
    "nguyen-quang-trung",
}


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    watches, _ = load_watches_file(REPO / "config" / "watches.yaml")
    return Matcher.compile(watches)


def _demo_article(slug_start: str) -> tuple[str, int]:
    articles = json.loads(
        resources.files("crawler.demo.data").joinpath("articles.json").read_text(encoding="utf-8")
    )
    art = next(a for a in articles if a["slug"].startswith(slug_start))
    return document_text(art["title"], "\n\n".join([art["sapo"], *art["paragraphs"]]))


def _matched(matcher: Matcher, text: str, title_length: int = 0) -> set[str]:
    return {m.watch.name for m in matcher.match(text, title_length=title_length)}


def test_reference_article_alerts_the_district_and_every_official(matcher: Matcher) -> None:
    text, title_length = _demo_article("quan-hai-ba-trung-can-manh-dan")
    assert _matched(matcher, text, title_length) == {"quan-hai-ba-trung", *OFFICIALS}


@pytest.mark.parametrize(
    "slug", ["hai-ba-trung-bay-hang", "sua-chua-mat-duong-hai-ba-trung", "ha-noi-du-bao-ret"]
)
def test_look_alikes_do_not_alert(matcher: Matcher, slug: str) -> None:
    text, title_length = _demo_article(slug)
    assert _matched(matcher, text, title_length) == set()


def test_successor_ward_in_an_all_caps_headline_alerts(matcher: Matcher) -> None:
    text, title_length = _demo_article("phuong-bach-mai")
    assert _matched(matcher, text, title_length) == {"quan-hai-ba-trung"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Ông Nguyễn Văn Nam, Bí thư Quận ủy Hai Bà Trưng, dự lễ khánh thành trường học.",
            {"nguyen-van-nam", "quan-hai-ba-trung"},
        ),
        ("Cầu thủ Nguyễn Văn Nam ghi bàn thắng quyết định ở phút cuối trận đấu.", set()),
        ("Bà Cao Thị Hoa, Trưởng phòng Y tế quận, kiểm tra an toàn thực phẩm.", {"cao-thi-hoa"}),
        ("Chủ tịch UBND quận Nguyễn Quang Trung tiếp công dân định kỳ.", {"nguyen-quang-trung"}),
        ("Nhà thơ Nguyễn Quang Trung Kiên ra mắt tập thơ mới.", set()),
        ("Đoàn đi lễ đền Hai Bà Trưng ở Mê Linh nhân dịp đầu xuân.", set()),
        ("Phó Chủ tịch UBND TP Hà Nội Dương Đức Tuấn kiểm tra tiến độ dự án.", {"duong-duc-tuan"}),
        # How Hanoi papers write: the office next to the name, the city left out.
        (
            "Phó Chủ tịch UBND thành phố Dương Đức Tuấn kiểm tra công tác giải phóng mặt bằng "
            "dự án đường Vành đai 4.",
            {"duong-duc-tuan"},
        ),
        (
            "Phát biểu chỉ đạo, đồng chí Dương Đức Tuấn yêu cầu các sở, ngành khẩn trương "
            "tháo gỡ vướng mắc cho doanh nghiệp.",
            {"duong-duc-tuan"},
        ),
        (
            "Phát biểu kết luận hội nghị, đồng chí Nguyễn Văn Phong đề nghị các cấp ủy tập "
            "trung lãnh đạo hoàn thành chỉ tiêu năm.",
            {"nguyen-van-phong"},
        ),
        (
            "Dự hội nghị có đồng chí Nguyễn Văn Phong, Phó Bí thư Thường trực Thành ủy, "
            "Trưởng đoàn đại biểu Quốc hội thành phố.",
            {"nguyen-van-phong"},
        ),
        (
            "Đồng chí Nguyễn Văn Nam, Bí thư Đảng ủy phường, thăm hỏi các gia đình chính sách.",
            {"nguyen-van-nam"},
        ),
        (
            "Bà Cao Thị Hoa, Trưởng phòng Y tế, cho biết phường đã tiêm chủng cho 2.000 trẻ.",
            {"cao-thi-hoa"},
        ),
        (
            "Chủ tịch UBND phường Nguyễn Quang Trung tiếp công dân định kỳ tháng 12.",
            {"nguyen-quang-trung"},
        ),
        # Namesakes with no office near the name stay quiet.
        ("Anh Nguyễn Văn Phong, tài xế xe ôm ở Gia Lâm, trả lại ví cho khách.", set()),
        ("Nhà giáo Dương Đức Tuấn nghỉ hưu sau 30 năm đứng lớp ở Nghệ An.", set()),
        ("Vận động viên Cao Thị Hoa giành huy chương vàng môn điền kinh.", set()),
    ],
)
def test_default_rules_on_sentences(matcher: Matcher, text: str, expected: set[str]) -> None:
    canonical, title_length = document_text("", text)
    assert _matched(matcher, canonical, title_length) == expected


def test_the_real_hanoi_moi_page_about_the_ward_alerts(fixtures_dir: Path) -> None:
    """A real Hà Nội Mới article (January 2026) about phường Hai Bà Trưng, the successor ward:
    the district watch alerts; no official's watch does (none of them is in it)."""
    page = fixtures_dir / "html" / "hanoimoi" / "ai-news-dat-vang-94-pho-lo-duc-731520.html"
    result = run_cli(
        "match", "--watches", REPO / "config" / "watches.yaml", "--html", page,
        "--url", "https://hanoimoi.vn/dat-vang-94-pho-lo-duc-731520.html", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    matched = json.loads(result.stdout)["watches"]
    assert [w["name"] for w in matched] == ["quan-hai-ba-trung"]
    assert {h["text"] for h in matched[0]["hits"]} >= {"phường Hai Bà Trưng"}
