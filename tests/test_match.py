"""What a match reports: hits, offsets, snippets, flags, reasons, JSON and HTML."""

from __future__ import annotations

import json

from pipelines.match.matcher import Hit, Matcher, WatchMatch, explain, matches_to_json
from pipelines.match.rules import parse_watch, parse_watches
from pipelines.match.snippet import highlight_html, make_snippet
from pipelines.match.text import canonicalize, document_text
from pipelines.match.watch import Watch

DISTRICT = parse_watch(
    "quan-hai-ba-trung",
    {
        "label": "Quận Hai Bà Trưng",
        "any": ["quận Hai Bà Trưng", "Hai Bà Trưng"],
        "except_in": ["đường Hai Bà Trưng", "phố Hai Bà Trưng"],
    },
)
PHONG = parse_watch(
    "nguyen-van-phong",
    {
        "any": ["Nguyễn Văn Phong"],
        "whole_name": True,
        "near": {"within": 10, "any": ["bí thư", "Thành ủy"]},
        "notify": ["newsroom"],
    },
)


def _match(watches: list[Watch], title: str, body: str) -> tuple[str, list[WatchMatch]]:
    text, title_length = document_text(title, body)
    return text, Matcher.compile(watches).match(text, title_length=title_length)


def test_hits_carry_offsets_into_the_canonical_text() -> None:
    body = "Sau buổi họp ở phố Hai\u00a0Bà Trưng, đoàn về UBND QUẬN HAI BÀ TRƯNG làm việc."
    text, (m,) = _match([DISTRICT], "Tin Hai Bà Trưng", body)
    assert m.watch is DISTRICT
    assert [(h.term, h.text) for h in m.hits] == [
        ("Hai Bà Trưng", "Hai Bà Trưng"),
        ("quận Hai Bà Trưng", "QUẬN HAI BÀ TRƯNG"),  # not repeated: "HAI BÀ TRƯNG" inside it
    ]
    for h in m.hits:
        assert text[h.start : h.end] == h.text
        assert h.text in h.snippet
    assert m.hits[0].flags == ("in_title",)
    assert set(m.hits[1].flags) == {"all_caps"}
    assert any("except_in 'phố Hai Bà Trưng' removed" in r for r in m.reasons)


def test_near_reason_names_the_partner() -> None:
    _, (m,) = _match([PHONG], "", "Phó Bí thư Thường trực Thành ủy Nguyễn Văn Phong chủ trì.")
    assert m.reasons[0].startswith("any 'Nguyễn Văn Phong' at")
    assert "near 'Thành ủy' 0 syllables away" in m.reasons[1]


def test_only_matching_watches_in_config_order() -> None:
    other = parse_watch("other", {"any": ["Bình Dương"]})
    watches = [PHONG, other, DISTRICT]
    text = canonicalize("UBND quận Hai Bà Trưng và tỉnh Bình Dương ký kết hợp tác.")
    matches = Matcher.compile(watches).match(text)
    assert [m.watch.name for m in matches] == ["other", "quan-hai-ba-trung"]


def test_shared_terms_are_verified_per_watch_options() -> None:
    strict = parse_watch("strict", {"any": ["Nguyễn Văn Phong"]})
    lenient = parse_watch("lenient", {"any": ["Nguyễn Văn Phong"], "accents": "lenient"})
    matcher = Matcher.compile([strict, lenient])
    matches = matcher.match(canonicalize("Ong Nguyen Van Phong noi."))
    assert [m.watch.name for m in matches] == ["lenient"]
    assert matches[0].hits[0].flags == ("unaccented",)
    assert [m.watch.name for m in matcher.match("Ông Nguyễn Văn Phong nói.")] == [
        "strict",
        "lenient",
    ]


def test_one_compiled_matcher_serves_many_articles() -> None:
    matcher = Matcher.compile([DISTRICT, PHONG])
    assert matcher.match("UBND quận Hai Bà Trưng họp.")
    assert matcher.match("Không có gì.") == []
    assert matcher.match("") == []
    assert Matcher.compile([]).match("UBND quận Hai Bà Trưng") == []


def test_legacy_encoded_text_matches_nothing() -> None:
    tcvn3 = canonicalize("UBND quËn Hai Bµ Tr\u00adng - Hai Bà Trưng th«ng b¸o")
    assert Matcher.compile([DISTRICT]).match(tcvn3) == []


def test_json_shape() -> None:
    _, matches = _match([DISTRICT], "", "UBND quận Hai Bà Trưng họp.")
    data = json.loads(json.dumps(matches_to_json(matches)))
    (watch,) = data["watches"]
    assert set(watch) == {"name", "label", "hits", "reasons"}
    assert (watch["name"], watch["label"]) == ("quan-hai-ba-trung", "Quận Hai Bà Trưng")
    assert set(watch["hits"][0]) == {"term", "text", "start", "end", "snippet", "flags"}
    assert watch["hits"][0]["flags"] == []
    assert matches_to_json([]) == {"watches": []}


def test_explain_says_why() -> None:
    _, matches = _match([PHONG], "", "Bí thư Nguyễn Văn Phong phát biểu.")
    out = explain(matches)
    assert out.startswith("nguyen-van-phong")
    assert "near 'bí thư' 0 syllables away" in out
    assert "'Nguyễn Văn Phong' at" in out
    assert explain([]) == "no watch matched"


def test_snippet_is_about_200_characters_cut_at_spaces() -> None:
    words = [f"chữ{i}" for i in range(200)]
    body = " ".join([*words[:100], "Hai Bà Trưng", *words[100:]])
    text, (m,) = _match([DISTRICT], "Tiêu đề", body)
    snippet = m.hits[0].snippet
    assert 150 <= len(snippet) <= 210
    assert snippet.startswith("…chữ") and snippet.endswith("…")
    inner = snippet.strip("…").split(" ")
    assert all(w in words or w in ("Hai", "Bà", "Trưng") for w in inner)
    assert make_snippet(text, 0, 3) == "Tiêu đề"  # the title is its own paragraph


def test_highlight_html_escapes_and_wraps_whole_words() -> None:
    snippet = "<UBND> quận Hai Bà Trưng & Hai Bà Trưngx"
    html = highlight_html(snippet, ["quận Hai Bà Trưng", "Hai Bà Trưng"])
    assert html == "&lt;UBND&gt; <b>quận Hai Bà Trưng</b> &amp; Hai Bà Trưngx"


def test_hit_and_watch_are_immutable_values() -> None:
    hit = Hit("a", 0, 1, "a", "a", ())
    assert hit == Hit("a", 0, 1, "a", "a", ())
    watches, _ = parse_watches({"watches": {"w": {"any": ["Hà Nội"]}}})
    assert hash(watches[0]) == hash(parse_watch("w", {"any": ["Hà Nội"]}))
