"""Regenerate the cleaner's golden files from the saved real pages in ``../shared/fixtures``.

    .venv/bin/python tests/golden/regen.py

Writes one ``tests/golden/<site>__<page>.json`` per saved page: what :func:`extract` keeps
(headline, publication time, author, canonical URL) and a *fingerprint* of the text and the
captions — length, paragraph count, first and last 80 characters, SHA-256 — never the
article itself (the pages are publishers' content). The pages written here for the generic
path (``tests/pages/generic/*.html``) are ours: their ``tests/golden/generic/<page>.json``
hold the whole ``newswatch extract --json`` output. ``tests/test_clean_golden.py`` compares
against these files and never writes them: after a deliberate change to the cleaner, run
this script and review the diff.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "html"
GOLDEN = Path(__file__).resolve().parent
GENERIC_PAGES = ROOT / "tests" / "pages" / "generic"
GENERIC_GOLDEN = GOLDEN / "generic"

#: Saved page -> the URL it was saved from (PROVENANCE.md), passed as ``url=``.
PAGES: dict[str, str] = {
    "24h/myfeed2012-24h1.html": "http://www.24h.com.vn/tin-tuc-trong-ngay/dot-nhap-lo-luyen-thi-cong-chuc-han-quoc-c46a508182.html",
    "baochinhphu/tracking_news-mcp-article.html": "https://baochinhphu.vn/chinh-sach-moi-co-hieu-luc-tu-thang-3-2026-102260228093004191.htm",
    "baochinhphu/tracking_news-mcp-list.html": "https://baochinhphu.vn/chinh-sach-va-cuoc-song/chinh-sach-moi.htm",
    "baodautu/tracking_news-mcp-article.html": "https://baodautu.vn/xu-phat-giam-doc-tai-chinh-tap-doan-tien-son-thanh-hoa-vi-thao-tung-co-phieu-d538952.html",
    "baodautu/tracking_news-mcp-list.html": "http://baodautu.vn/tai-chinh-chung-khoan-d6/",
    "cafef/tracking_news-mcp-article.html": "https://cafef.vn/thoi-diem-nang-hang-can-ke-mbs-diem-ten-30-co-phieu-viet-nam-co-kha-nang-lot-ro-chi-so-ftse-18826030622484142.chn",
    "cafef/tracking_news-mcp-article_batdongsan.html": "https://cafef.vn/tang-ho-tro-giam-ap-luc-tai-chinh-khi-chuyen-muc-dich-su-dung-dat-188260307071033787.chn",
    "cafef/tracking_news-mcp-list.html": "https://cafef.vn/thi-truong-chung-khoan.chn",
    "dantri/myfeed2012-dantri1.html": "http://dantri.com.vn/su-kien/chot-lich-nghi-le-tet-2013-cua-cong-chuc-vien-chuc-677792.htm",
    "dantri/quocthai200x-homepage-2019-03-18-listing.html": "https://dantri.com.vn/",
    "dantri/son601008-homepage-2019-08-25-listing.html": "https://dantri.com.vn/",
    "dantri/tracking_news-mcp-article.html": "https://dantri.com.vn/kinh-doanh/gia-vang-giam-van-cao-hon-the-gioi-gan-20-trieu-dongluong-20260307080054340.htm",
    "dantri/tracking_news-mcp-list.html": "https://dantri.com.vn/kinh-doanh.htm",
    "genk/myfeed2012-genk1.html": "http://genk.vn/internet/amazon-ke-lao-luyen-day-chien-luoc-trong-cuoc-chien-cong-nghe-2012122104231130.chn",
    "genk/myfeed2012-genkvn.homepage-listing.html": "http://genk.vn/",
    "hanoimoi/ai-news-dat-vang-94-pho-lo-duc-731520.html": "https://hanoimoi.vn/phuong-hai-ba-trung-mong-som-dua-khu-dat-vang-94-pho-lo-duc-vao-su-dung-731520.html",
    "ngoisao/myfeed2012-ngoisao1.html": "http://ngoisao.net/tin-tuc/hollywood/2012/12/hoa-hau-hoan-vu-2011-gay-soc-voi-hinh-anh-xau-xi-224619/",
    "nld/myfeed2012-nld1.html": "http://nld.com.vn/20121226051446379p0c1019/thieu-tien-hui-xach-dao-di-noi-chuyen-voi-chu-no.htm",
    "nld/tracking_news-mcp-article.html": "https://nld.com.vn/nhung-sai-sot-ho-kinh-doanh-thuong-gap-khi-thuc-hien-quy-dinh-moi-ve-thue-196260307071308923.htm",
    "nld/tracking_news-mcp-list.html": "https://nld.com.vn/kinh-te.htm",
    "soha/myfeed2012-soha.homepage-listing.html": "http://soha.vn/",
    "soha/myfeed2012-soha1.html": "http://soha.vn/giai-tri/can-lo-lo-la-loi-voi-khan-tam-20121225102525545.htm",
    "thanhnien/myfeed2012-thanhnien.homepage-listing.html": "http://www.thanhnien.com.vn/",
    "thanhnien/myfeed2012-thanhnien1.html": "http://www.thanhnien.com.vn/pages/20121219/5-bong-hong-buon-ma-tuy-lanh-an.aspx",
    "tuoitre/tracking_news-mcp-article.html": "https://tuoitre.vn/chien-su-day-gia-hoa-nhap-khau-dip-8-3-tang-manh-20260307075519174.htm",
    "tuoitre/tracking_news-mcp-list.html": "https://tuoitre.vn/kinh-doanh.htm",
    "vietnamnet/news-crawler2017-lich-thi-dau-asian-cup-362525.html": "http://vietnamnet.vn/vn/the-thao/bong-da-trong-nuoc/lich-thi-dau-vong-loai-asian-cup-2019-cua-doi-tuyen-viet-nam-362525.html",
    "vietnamnet/tracking_news-mcp-article.html": "https://vietnamnet.vn/co-phieu-flc-duoc-giao-dich-tro-lai-2495349.html",
    "vietnamnet/tracking_news-mcp-list.html": "https://vietnamnet.vn/kinh-doanh",
    "vnexpress/chighedocbao2019-17-dau-hieu-trieu-phu-3878849.html": "https://vnexpress.net/doi-song/17-dau-hieu-cho-thay-som-muon-ban-cung-tro-thanh-trieu-phu-3878849.html",
    "vnexpress/chighedocbao2019-khu-tuong-niem-phi-cong-3882669.html": "https://vnexpress.net/thoi-su/khu-tuong-niem-14-phi-cong-trieu-tien-hy-sinh-o-viet-nam-3882669.html",
    "vnexpress/daily-news-gravity-e-vnexpress-home-listing.html": "https://e.vnexpress.net",
    "vnexpress/fundus-dau-bung-keo-dai-4954454.html": "https://vnexpress.net/dau-bung-keo-dai-phat-hien-ung-thu-lymphoma-ruot-non-4954454.html",
    "vnexpress/htmldate-ho-duc-phoc-giam-tru-gia-canh-4672302.html": "https://vnexpress.net/ong-ho-duc-phoc-se-nang-muc-giam-tru-gia-canh-tinh-thue-ca-nhan-khi-sua-luat-4672302.html",
    "vnexpress/myfeed2012-vnexpress.hompage-listing.html": "http://vnexpress.net/",
    "vnexpress/myfeed2012-vnexpress1.html": "http://vnexpress.net/gl/ban-doc-viet/tam-su/2012/12/vo-ngoai-tinh-sau-nhung-lan-bi-toi-danh-dap-da-man/",
    "vnexpress/myfeed2012-vnexpress2.html": "http://ione.vnexpress.net/tin-tuc/vui-la/anh/2012/12/41584-nhung-nguoi-kho-hanh-vi-bot-la.html",
    # The original URL of this page is unknown (PROVENANCE.md); the site's home stands in.
    "vnexpress/myfeed2012-vnexpress3.html": "http://vnexpress.net/",
    "vnexpress/tracking_news-mcp-article.html": "https://vnexpress.net/cach-cac-nuoc-doi-pho-cu-soc-nang-luong-tu-trung-dong-5047363.html",
    "vnexpress/tracking_news-mcp-list.html": "https://vnexpress.net/kinh-doanh",
    "zingnews/myfeed2012-zing1.html": "http://news.zing.vn/xa-hoi/moi-nga-duong-ve-nha-tho-tac-nghn-dem-giang-sinh/a293004.html",
    "zingnews/myfeed2012-zing2.html": "http://news.zing.vn/giao-duc/keu-troi-vi-van-ta-mui-con-lon-bep-gi-nhu-mui-bo/a288324.html",
}

EDGE = 80  # characters of text kept at each end


def golden_path(page: str) -> Path:
    """``vnexpress/x.html`` -> ``tests/golden/vnexpress__x.json``."""
    return GOLDEN / (page.removesuffix(".html").replace("/", "__") + ".json")


def fingerprint(page: str) -> dict[str, Any]:
    """What the golden file holds for one saved page (extracted now)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from pipelines.clean.extract import extract

    found = extract((FIXTURES / page).read_bytes(), PAGES[page])
    result: dict[str, Any] | None = None
    if found is not None:
        text = found.text
        result = {
            "title": found.title,
            "published": found.published.isoformat() if found.published else None,
            "author": found.author,
            "canonical_url": found.canonical_url,
            "text_chars": len(text),
            "paragraphs": len(text.split("\n\n")),
            "text_start": text[:EDGE],
            "text_end": text[-EDGE:],
            "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "captions": len(found.captions),
            "captions_sha256": hashlib.sha256("\n".join(found.captions).encode()).hexdigest(),
        }
    return {"page": page, "url": PAGES[page], "extracted": result}


def generic_url(name: str) -> str:
    """The URL a generic page is extracted as (an article URL of a made-up outlet)."""
    return f"https://thudomau.vn/{name.removesuffix('.html').replace('_', '-')}-251999.html"


def generic_output(name: str) -> dict[str, Any]:
    """``newswatch extract --json`` of one page written here (extracted now)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from pipelines.clean.extract import extract, extract_to_json

    found = extract((GENERIC_PAGES / name).read_bytes(), generic_url(name))
    return {"page": name, "extracted": extract_to_json(found) if found else None}


def main() -> int:
    GENERIC_GOLDEN.mkdir(exist_ok=True)
    for old in GENERIC_GOLDEN.glob("*.json"):
        old.unlink()
    for page in sorted(GENERIC_PAGES.glob("*.html")):
        data = generic_output(page.name)
        (GENERIC_GOLDEN / f"{page.stem}.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        print(f"generic/{page.name}: {data['extracted'] and data['extracted']['title']}")
    if not FIXTURES.is_dir():
        print(f"no saved pages at {FIXTURES}", file=sys.stderr)
        return 1
    for old in GOLDEN.glob("*.json"):
        old.unlink()
    for page in sorted(PAGES):
        data = fingerprint(page)
        golden_path(page).write_text(
            json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        got = data["extracted"]
        print(f"{page}: {'not an article' if got is None else got['title']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
