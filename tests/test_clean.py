"""The cleaner on the project's own pages: what a user sees in `newswatch extract`."""

from __future__ import annotations

import json
import pickle
import socket
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from pipelines.clean.extract import CleanError, Extracted, check_selector, extract, extract_to_json
from pipelines.errors import NewswatchError

PAGES = Path(__file__).resolve().parent / "pages"
LOCAL_URL = "http://127.0.0.1:8765/xa-hoi/ha-noi-mo-rong-pho-bach-mai-123456.html"
VIETNAM = timezone(timedelta(hours=7))

BODY = [
    "Theo Ban quản lý dự án, đoạn từ ngã tư Đại Cồ Việt đến phố Minh Khai",
    "Chủ tịch UBND phường cho biết đã có 212 hộ dân nhận tiền bồi thường",
    "Người dân trên phố đồng tình với chủ trương",
    "Dự kiến công trình hoàn thành vào quý III năm sau",
]


def _page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


# The page's one site-specific box (a subscription pitch inside the body) is what a
# source's `drop:` list in sources.yaml is for.
SITE_DROP = [".goi-doc-bao"]
PITCH = "Đăng ký gói Thủ đô Mẫu Plus"


@pytest.fixture(scope="module")
def article() -> Extracted:
    found = extract(_page("boilerplate.html"), LOCAL_URL, drop=SITE_DROP)
    assert found is not None
    return found


def test_headline_is_the_h1_not_the_title_or_og_title(article: Extracted) -> None:
    assert article.title == "Hà Nội mở rộng phố Bạch Mai trong năm nay"


def test_published_keeps_the_pages_offset(article: Extracted) -> None:
    assert article.published == datetime(2026, 11, 20, 9, 15, tzinfo=VIETNAM)
    assert article.published is not None and article.published.utcoffset() == timedelta(hours=7)


def test_text_is_sapo_then_the_whole_body_once(article: Extracted) -> None:
    paragraphs = article.text.split("\n\n")
    assert paragraphs[0].startswith("Phường Hai Bà Trưng sẽ bàn giao mặt bằng")
    for snippet in BODY:
        # Once: the reading-popup copy of the body (#objectPopupBody) is not counted again.
        assert article.text.count(snippet) == 1, snippet


@pytest.mark.parametrize(
    "boilerplate",
    [
        "Tin liên quan",
        "Hà Nội thí điểm xén dải phân cách phố Huế",  # related box inside the body
        "Xem thêm",
        "Quy hoạch phường Hai Bà Trưng đến năm 2030",  # inline "Xem thêm:" link
        "Hà Nội lắp thêm đèn tín hiệu tại Ngã Tư Sở",  # a related headline run into the body
        "Phố Huế sẽ thành phố đi bộ vào cuối tuần",
        "Phiên bản di động",
        "Chia sẻ bài viết",
        "Bình luận",
        "Phố Vọng cũng cần mở rộng",  # a reader comment
        "Đọc nhiều",
        "Giá vàng hôm nay",  # sidebar
        "Trang chủ",  # navigation
        "Giấy phép số",  # footer
        "Từ khóa",  # tags
        "Phố Bạch Mai giờ tan tầm",  # photo caption
    ],
)
def test_boilerplate_is_not_in_the_text(article: Extracted, boilerplate: str) -> None:
    assert boilerplate not in article.text


CAPTIONS = [
    "Phố Bạch Mai giờ tan tầm. Ảnh: Minh Châu",
    "Phối cảnh tuyến phố sau khi mở rộng (ảnh do Ban quản lý dự án cung cấp).",
]


def test_a_caption_printed_twice_is_kept_once_as_a_caption(article: Extracted) -> None:
    # figcaption + the same words again as an italic paragraph under the photo.
    assert "Phối cảnh tuyến phố sau khi mở rộng" not in article.text
    assert list(article.captions) == CAPTIONS


def test_paragraphs_are_separated_by_a_blank_line(article: Extracted) -> None:
    paragraphs = article.text.split("\n\n")
    assert len(paragraphs) == 1 + len(BODY)  # sapo and body; the captions are apart
    assert all(p == p.strip() and p for p in paragraphs)


def test_local_test_server_urls_work(article: Extracted) -> None:
    # courlan rejects 127.0.0.1; the app's tests and demo serve pages from there.
    assert article.url == LOCAL_URL
    assert article.canonical_url == LOCAL_URL


def test_canonical_url_is_made_absolute() -> None:
    found = extract(_page("boilerplate.html"), "https://thudomau.vn/amp/bai.html")
    assert found is not None
    assert (
        found.canonical_url == "https://thudomau.vn/xa-hoi/ha-noi-mo-rong-pho-bach-mai-123456.html"
    )


def test_extract_to_json_is_the_cli_shape(article: Extracted) -> None:
    data = extract_to_json(article)
    assert set(data) == {"url", "title", "published", "author", "text", "captions"}
    assert data["captions"] == CAPTIONS
    assert data["published"] == "2026-11-20T09:15:00+07:00"
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


def test_a_listing_page_is_not_an_article() -> None:
    assert extract(_page("not_article.html"), "https://thudomau.vn/xa-hoi") is None


def test_str_input_is_accepted() -> None:
    found = extract(_page("boilerplate.html").decode("utf-8"), LOCAL_URL)
    assert found is not None and found.title.startswith("Hà Nội mở rộng")


def test_site_drop_selectors_remove_more(article: Extracted) -> None:
    assert PITCH not in article.text
    default = extract(_page("boilerplate.html"), LOCAL_URL)
    assert default is not None and PITCH in default.text


def test_a_drop_selector_cannot_remove_the_article_it_contains() -> None:
    found = extract(_page("boilerplate.html"), LOCAL_URL, drop=["main", *SITE_DROP])
    assert found is not None
    assert BODY[0] in found.text


def test_invalid_drop_selector_is_a_clear_error() -> None:
    with pytest.raises(CleanError, match="invalid CSS selector"):
        extract(_page("boilerplate.html"), LOCAL_URL, drop=["div[["])
    assert check_selector("div[[") is not None
    assert check_selector("div.related-news") is None


def test_too_large_page_is_a_clear_error() -> None:
    huge = ("<html><body>" + "<p>Hà Nội</p>" * 400_000 + "</body></html>").encode()
    with pytest.raises(CleanError, match="too large"):
        extract(huge, LOCAL_URL)
    with pytest.raises(CleanError, match="too large"):
        extract(_page("boilerplate.html"), LOCAL_URL, max_bytes=1000)
    assert issubclass(CleanError, NewswatchError)


@pytest.mark.parametrize("body", [b"", b"   \n ", ""])
def test_empty_page_is_a_clear_error(body: bytes | str) -> None:
    with pytest.raises(CleanError, match="empty page"):
        extract(body, LOCAL_URL)


@pytest.mark.parametrize(
    "body",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        b"<html><body><p>Hai B\x00a Tr\x01ung " * 50,
        b"<<<<>>>>><//p></div></div></body><html><head>" * 100,
        b"<div>" * 20_000 + b"<p>Ph\xc6\xb0\xe1\xbb\x9dng</p>" + b"</div>" * 20_000,
        b"<?xml version='1.0' encoding='utf-8'?><rss><channel><item>x</item></channel></rss>",
    ],
    ids=["binary", "control-chars", "tag-soup", "deeply-nested", "xml-feed"],
)
def test_malformed_pages_give_none_or_a_clear_error(body: bytes) -> None:
    try:
        assert extract(body, LOCAL_URL) is None
    except CleanError as exc:
        assert str(exc)


def test_extraction_never_opens_a_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the cleaner tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert extract(_page("boilerplate.html"), "https://thudomau.vn/bai-123.html") is not None


def test_runs_in_a_process_pool() -> None:
    pickle.dumps(extract)
    with ProcessPoolExecutor(max_workers=1) as pool:
        found = pool.submit(extract, _page("boilerplate.html"), LOCAL_URL).result()
    assert isinstance(found, Extracted)
    assert found.title == "Hà Nội mở rộng phố Bạch Mai trong năm nay"


def test_reader_comments_are_excluded_even_without_a_class_hook() -> None:
    page = (
        _page("boilerplate.html")
        .decode()
        .replace('class="comment-box"', 'class="ykien" id="ykien"')
        .replace('class="comment-item"', 'class="ykien-item"')
    )
    found = extract(page, LOCAL_URL)
    assert found is not None
    assert "Phố Vọng cũng cần mở rộng" not in found.text


def _without_h1(page: str) -> str:
    return page.replace(
        '<h1 class="article-title">Hà Nội mở rộng phố Bạch Mai trong năm nay</h1>', ""
    )


def test_without_an_h1_the_headline_comes_from_og_title() -> None:
    page = _without_h1(_page("boilerplate.html").decode())
    found = extract(page, LOCAL_URL)
    assert found is not None
    assert found.title == "Mở rộng phố Bạch Mai: người dân đồng tình"


def test_without_h1_or_og_title_the_site_name_is_cut_from_the_title() -> None:
    page = _without_h1(_page("boilerplate.html").decode())
    page = page.replace('<meta property="og:title"', '<meta property="og:x"')
    found = extract(page, LOCAL_URL)
    assert found is not None
    assert found.title == "Hà Nội mở rộng phố Bạch Mai trong năm nay"


def test_decomposed_input_comes_out_composed() -> None:
    # Some CMSs store Vietnamese decomposed (base letter + combining marks); keyword
    # matching downstream expects the composed form every other page uses.
    page = unicodedata.normalize("NFD", _page("boilerplate.html").decode())
    found = extract(page.encode(), LOCAL_URL, drop=SITE_DROP)
    assert found is not None
    assert found.title == "Hà Nội mở rộng phố Bạch Mai trong năm nay"
    assert found.text == unicodedata.normalize("NFC", found.text)
    assert BODY[1] in found.text


def test_a_failure_inside_trafilatura_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import trafilatura

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ValueError("unexpected markup")

    monkeypatch.setattr(trafilatura, "bare_extraction", broken)
    with pytest.raises(CleanError, match=r"text extraction failed.*unexpected markup"):
        extract(_page("boilerplate.html"), LOCAL_URL)


@pytest.mark.parametrize(
    "byline",
    [
        '<span class="post-author">Nguyễn Văn An</span>',
        '<div id="Author">Nguyễn Văn An</div>',
        '<a rel="author" href="/tac-gia/an">Nguyễn Văn An</a>',
        '<p itemprop="author">Nguyễn Văn An</p>',
        '<div data-component="Byline">Nguyễn Văn An</div>',
        '<span class="byline">Nguyễn Văn An</span>',
        '<span class="writer-name">Nguyễn Văn An</span>',
        "<author>Nguyễn Văn An</author>",
    ],
)
def test_the_byline_pre_check_never_hides_a_byline_trafilatura_finds(byline: str) -> None:
    from trafilatura.metadata import extract_author

    from pipelines.clean.byline import may_have_byline

    tree = lxml.html.document_fromstring(f"<html><body><article>{byline}</article></body></html>")
    assert extract_author(tree) == "Nguyễn Văn An"
    assert may_have_byline(tree)
    plain = lxml.html.document_fromstring("<html><body><p class='x'>Nguyễn Văn An</p></body>")
    assert not may_have_byline(plain) and extract_author(plain) is None


def test_the_byline_pre_check_holds_on_every_saved_page(fixtures_dir: Path) -> None:
    from trafilatura.metadata import extract_author

    from pipelines.clean.byline import may_have_byline

    found = 0
    for path in sorted((fixtures_dir / "html").rglob("*.htm*")):
        tree = lxml.html.document_fromstring(path.read_bytes())
        if extract_author(tree) is not None:
            found += 1
            assert may_have_byline(tree), path.name
    assert found >= 5  # the check is exercised, not vacuous
