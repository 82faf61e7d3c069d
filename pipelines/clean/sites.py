"""What the cleaner knows about Vietnamese news CMSs, as data.

Every entry is a CSS selector with the site or CMS it comes from; the markup notes behind them
are in ``../shared/fixtures/PROVENANCE.md``. Per-source extras come from ``sources.yaml``:
``drop:`` is applied on top of :data:`DEFAULT_DROP`, ``lead:`` is tried before
:data:`SAPO_SELECTORS` and ``captions:`` before :data:`CAPTION_SELECTORS`.

Order matters in the *first match wins* lists (title, sapo, body): the most specific hook of
each CMS comes first, generic fallbacks last.
"""

from __future__ import annotations

__all__ = [
    "BODY_SELECTORS",
    "CAPTION_HOOKS",
    "CAPTION_SELECTORS",
    "DATE_SELECTORS",
    "DEFAULT_DROP",
    "LEAD_HOOKS",
    "RELATED_LABELS",
    "SAPO_SELECTORS",
    "TITLE_SELECTORS",
    "TRAILER_LINES",
]

#: The article headline. A generic rule (an ``<h1>`` that starts the ``<title>``) follows.
TITLE_SELECTORS: tuple[str, ...] = (
    "h1.title-detail",  # VnExpress 2020+
    "h1.title_news_detail",  # VnExpress 2019
    "h1.detail-title",  # Tuổi Trẻ, NLĐ, Báo Chính phủ (VCCorp CMS)
    "h1[data-slot=title]",  # Dân trí 2026
    "h1.content-detail-title",  # VietNamNet 2026
    "h1.sc-longform-header-title",  # Hà Nội Mới
    "h1.baiviet-title",  # 24h (its og:title carries an unaccented SEO suffix)
    "h1.mainTitle",  # Thanh Niên 2012
    "h1.pTitle",  # Zing 2012 (later h1.scblk_title are box headings)
    "h1.article-title",
    "h1.title",  # CafeF, VietNamNet 2017
    "h1.Title",  # VnExpress / Ngôi Sao 2012
    "div.title-detail",  # Báo Đầu tư has no <h1>: its headline is a div
)

#: The lead paragraph ("sapo"), often outside the body container.
SAPO_SELECTORS: tuple[str, ...] = (
    "p.description",  # VnExpress 2020+
    "h2.description",  # VnExpress 2019
    "h2.detail-sapo",  # Tuổi Trẻ, NLĐ, Báo Chính phủ, CafeF
    "[data-slot=sapo]",  # Dân trí 2026
    "h2.content-detail-sapo",  # VietNamNet 2026
    ".sapo_detail",  # Báo Đầu tư
    "div.baiviet-head-noidung",  # 24h 2012
    "h2.Lead",  # VnExpress 2012
    "h2.sapo",
    ".sapo",
)

#: Words that mark a standfirst in a class or id on markup no selector above knows
#: (``h2.post-sapo``, ``div#article-lead``, ``strong.standfirst``, ``p.chapeau``). A word
#: counts on its own, not inside another one: ``lead`` is not ``leaderboard`` (an ad slot).
LEAD_HOOKS: tuple[str, ...] = ("sapo", "lead", "summary", "description", "standfirst", "chapeau")

#: The container of the article body. The first selector with enough text wins; the rest
#: of the page is then ignored, which is what keeps sidebars and "most read" lists out.
BODY_SELECTORS: tuple[str, ...] = (
    "article.fck_detail",  # VnExpress 2019+
    "div.detail-content[itemprop=articleBody]",  # Tuổi Trẻ (not #objectPopupBody: dropped)
    "div.detail-content.afcbc-body",  # NLĐ, Báo Chính phủ, CafeF (VCCorp CMS)
    "div.detail-content",
    "[data-slot=content]",  # Dân trí 2026
    "div#maincontent.maincontent",  # VietNamNet 2026
    "div.c-news-detail div.b-maincontent",  # Hà Nội Mới
    "#content_detail_news",  # Báo Đầu tư
    "[itemprop=articleBody]",
    # 2012-era layouts (the fixtures' oldest pages), kept because archives still serve them.
    "div.text-conent",  # 24h (sic)
    "#ctl00_IDContent_ctl00_divContent",  # Dân trí
    "div.detailCT",  # Ngôi Sao
    "div#newscontent",  # Soha
    "div.article-ds > div.article-content",  # Thanh Niên
    "div.dtContent",  # VnExpress iOne
    "div.cxtLeft",  # VnExpress
    "#content_document",  # Zing News
    "#ArticleContent",  # VietNamNet 2017
)

#: Elements carrying the visible publication line ("Thứ bảy, 7/3/2026, 00:05 (GMT+7)").
DATE_SELECTORS: tuple[str, ...] = (
    "span.date",  # VnExpress 2020+
    "span.time",  # VnExpress 2019
    "[data-role=publishdate]",  # Tuổi Trẻ, NLĐ, Báo Chính phủ
    "time",
    ":has(> meta[itemprop=datePublished])",  # Dân trí 2012: the meta sits in the date line
    "[class*=date]",
    "[class*=Date]",
    "[class*=time]",
    "[class*=Time]",
    "[id*=date]",
    "[id*=Date]",
    "[id*=time]",  # GenK 2012: span#…_lblDattime
    "[id*=Time]",
)

#: Removed from every page before extraction. Never removes the body container, the
#: headline or one of their ancestors (so a broad pattern such as ``[class*=footer]``
#: cannot take the article with it).
DEFAULT_DROP: tuple[str, ...] = (
    # Not text.
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "form",
    "button",
    "select",
    "svg",
    # Tuổi Trẻ: a second body container for the reading popup, filled by script with a
    # copy of the article; keeping it would double every keyword count.
    "#objectPopupBody",
    # Related-article boxes, per CMS.
    "[data-component-type=tin_xemthem]",  # VnExpress: inside article.fck_detail
    "#article-end ~ *",  # VnExpress: whatever follows the end marker inside the body
    "[type=RelatedNewsBox]",  # VCCorp CMS (Báo Chính phủ has one inside the body)
    ".VCObjectBoxRelatedNewsContainer",  # VCCorp 2012 (Soha, GenK)
    ".VCObjectBoxRelatedNewsContentWrapper",
    ".detail__related",  # Tuổi Trẻ
    ".react-relate",  # CafeF
    ".related-news",  # VietNamNet 2026
    "[data-content-name^=article-related]",  # Dân trí 2026
    "[data-content-name=article-popular]",
    "[data-content-name=article-tags]",
    ".box-tinlienquan",
    ".tinlienquan",
    ".relatedNews",
    ".new_relate",  # VnExpress iOne 2012
    ".RelatedLeadSubject",  # VnExpress 2012: related headlines between sapo and body
    ".related_right",
    ".pageHome_related",  # VnExpress 2012
    ".divpage_related",
    ".more_news",  # Zing 2012
    ".c-news-topmore",  # Hà Nội Mới
    # Tags, share and comment prompts, navigation, footers.
    ".tags",
    ".tag_item",
    ".tagsdetail",  # GenK 2012
    ".tag-cotnent",  # VietNamNet 2026 (sic)
    ".tag_detail_item",  # Báo Đầu tư
    ".onecms__tags",  # Hà Nội Mới
    ".tagArticle",
    "[class*=share]",
    "[class*=comment]",
    "[id*=comment]",
    "nav",
    "[role=navigation]",
    "[class*=breadcrumb]",
    "[class*=menu]",
    "footer",
    "[class*=footer]",
    "[id*=footer]",
)

#: Photo captions. They are taken out of the text (sites print them twice: in the image's
#: alt text and under it, in galleries and popups) and kept apart, once each, as the
#: article's captions: they name people the body calls only "đồng chí".
CAPTION_SELECTORS: tuple[str, ...] = (
    "figcaption",
    ".PhotoCMS_Caption",  # VCCorp CMS, Tuổi Trẻ
    "p.Image",  # VnExpress
    ".pCaption",  # Zing 2012
    ".chu-thich-anh",  # 24h 2012
    ".image_caption",
)

#: Words that mark a caption in a class on markup the list above does not know
#: (``p.image-caption``, ``div.chuthich``, ``td.img-desc``); such an element counts only
#: next to an image.
CAPTION_HOOKS: tuple[str, ...] = ("caption", "chuthich", "chu-thich", "chu_thich", "desc")

#: Labels that open a related-links box or an inline "read also" line. A short element whose
#: text starts with one of these is removed, with its box when the box is mostly links.
RELATED_LABELS: tuple[str, ...] = (
    "Tin liên quan",
    "Bài liên quan",
    "Tin cùng chuyên mục",
    "Tin khác",
    "Tin mới",
    "Xem thêm",
    "Đọc thêm",
    "Xem tiếp",
    "Đọc tiếp",
    "Mời quý độc giả",
    "Theo dòng sự kiện",
)

#: Whole lines that are site chrome, not article text (Tuổi trẻ Thủ đô appends the first).
TRAILER_LINES: tuple[str, ...] = (
    "Phiên bản di động",
    "Phiên bản máy tính",
    "[Quay lại]",
    "Quay lại",
    "Về đầu trang",
    "Bình luận",
    "Chia sẻ",
    "In bài",
    "Gửi bài",
)
