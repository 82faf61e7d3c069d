"""``newswatch search``: the index finds candidates, the matcher decides -- on both engines.

The answer of every search is compared with a plain scan of every stored text by the
matcher (``use_index=False``): the index may only make it faster, never different.
"""

from __future__ import annotations

import contextlib
import json
import unicodedata
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.match.query import QuerySyntaxError
from pipelines.match.text import document_text
from pipelines.store.articles import ArticleRecord
from pipelines.store.database import Store
from pipelines.store.schema import utcnow
from pipelines.store.search import candidate_query, search
from tests.conftest import run_cli

# (slug, source, age in days, title, body)
CORPUS = [
    ("phong-1", "tintudo", 1, "Hội nghị Thành ủy",
     "Phó Bí thư Thường trực Thành uỷ Nguyễn Văn Phong chủ trì hội nghị."),
    ("phong-nfd", "hanoimoi", 2, "Kiểm tra công trình",
     unicodedata.normalize("NFD", "Đồng chí Nguyễn Văn Phong kiểm tra công trình ở "
                           "quận Hai Bà Trưng.")),
    ("phong-wrapped", "tintudo", 3, "Tiếp xúc cử tri",
     "Ông Nguyễn\nVăn Phong tiếp xúc cử tri phường Bạch Mai."),
    ("caps", "kinhtedothi", 4, "QUẬN HAI BÀ TRƯNG RA MẮT MÔ HÌNH MỚI",
     "Mô hình tổ dân phố số được nhân rộng."),
    ("decoy-trung-bay", "tintudo", 5, "Chợ Tết",
     "Hai bà trưng bày hàng Tết ở chợ Đồng Xuân từ sáng sớm."),
    ("hcm-street", "thanhnien", 6, "Thảm lại mặt đường",
     "Sửa chữa mặt đường Hai Bà Trưng ở trung tâm TP Hồ Chí Minh."),
    ("namesake", "tintudo", 40, "Album mùa xuân",
     "Ca sĩ Nguyễn Văn Phong ra mắt album mùa xuân."),
    ("accentless", "tintudo", 7, "Tin ngan", "Nguyen Van Phong du hop o quan Hai Ba Trung."),
]  # fmt: skip


def _fill(store: Store) -> dict[str, str]:
    urls = {}
    now = utcnow()
    for slug, source, age, title, body in CORPUS:
        text, _ = document_text(title, body)
        url = f"https://{source}.example.vn/{slug}.html"
        urls[slug] = url
        store.record_article(
            ArticleRecord(
                url=url,
                source=source,
                title=title,
                text=text,
                published=now - timedelta(days=age),
            ),
            [],
        )
    return urls


Archive = tuple[Store, dict[str, str]]


@pytest.fixture
def archive(database_url: str) -> Iterator[tuple[Store, dict[str, str]]]:
    store = Store(database_url)
    store.migrate()
    urls = _fill(store)
    yield store, urls
    store.close()


def _urls(store: Store, query: str, **kw: Any) -> list[str]:
    with store.engine.connect() as conn:
        found = [f.url for f in search(conn, query, **kw)]
        scanned = [f.url for f in search(conn, query, use_index=False, **kw)]
    assert found == scanned, f"index and scan disagree on {query!r}"
    return found


def test_names_in_nfd_across_lines_and_old_tone_placement_are_found(archive: Archive) -> None:
    store, urls = archive
    found = _urls(store, '"Nguyễn Văn Phong"')
    # Newest first; NFD text and a name wrapped across lines count; the accentless
    # article does not (accents are strict, as in a watch).
    assert found == [urls["phong-1"], urls["phong-nfd"], urls["phong-wrapped"], urls["namesake"]]
    assert _urls(store, '"Nguyễn Văn Phong" AND "Thành ủy"') == [urls["phong-1"]]


def test_the_watch_rules_decide_not_the_index(archive: Archive) -> None:
    store, urls = archive
    # Lower case "bà trưng bày" and the Ho Chi Minh City street are excluded by the rule
    # itself; an ALL-CAPS headline counts.
    assert _urls(store, '"quận Hai Bà Trưng"') == [urls["phong-nfd"], urls["caps"]]
    assert _urls(store, '"Hai Bà Trưng" NOT "Hồ Chí Minh"') == [urls["phong-nfd"], urls["caps"]]
    assert _urls(store, '"Nguyễn Văn Phong" NEAR/5 ("cử tri" OR "hội nghị")') == [
        urls["phong-1"],
        urls["phong-wrapped"],
    ]


def test_since_source_and_limit(archive: Archive) -> None:
    store, urls = archive
    since = utcnow() - timedelta(days=30)
    assert urls["namesake"] not in _urls(store, '"Nguyễn Văn Phong"', since=since)
    assert _urls(store, '"Nguyễn Văn Phong"', sources=["hanoimoi"]) == [urls["phong-nfd"]]
    assert _urls(store, '"Nguyễn Văn Phong"', limit=2) == [urls["phong-1"], urls["phong-nfd"]]


PHRASES = ["Nguyễn Văn Phong", "Thành ủy", "quận Hai Bà Trưng", "Hai Bà Trưng", "cử tri",
           "Hồ Chí Minh", "album", "Bạch Mai", "mô hình", "Nguyen Van Phong"]  # fmt: skip


@st.composite
def queries(draw: st.DrawFn) -> str:
    quoted = [f'"{p}"' for p in draw(st.lists(st.sampled_from(PHRASES), min_size=1, max_size=3))]
    head = quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"
    if draw(st.booleans()):
        head = f'{head} NEAR/{draw(st.integers(0, 12))} "{draw(st.sampled_from(PHRASES))}"'
    tail = draw(st.lists(st.sampled_from(PHRASES), max_size=2))
    ops = [f'{draw(st.sampled_from(["AND", "NOT"]))} "{p}"' for p in tail]
    return " ".join([head, *ops])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=queries())
def test_any_query_gives_what_a_plain_scan_gives(archive: Archive, query: str) -> None:
    store, _ = archive
    with contextlib.suppress(QuerySyntaxError):  # refused the same way as a watch query
        _urls(store, query)


def test_a_phrase_the_index_cannot_see_falls_back_to_the_matcher() -> None:
    assert candidate_query('"Nguyễn Văn Phong"', "sqlite") == '("nguyen van phong")'
    assert candidate_query('"Phong" NEAR/3 "UBND"', "postgresql") == "((phong)) & ((ubnd))"
    assert candidate_query('"..."', "sqlite") is None


def test_search_cli_json_and_syntax_errors(database_url: str, tmp_path: Path) -> None:
    store = Store(database_url)
    store.migrate()
    urls = _fill(store)
    store.close()
    args = ("--database", database_url, "--data", tmp_path)
    result = run_cli("search", '"Nguyễn Văn Phong" AND "Thành ủy"', "--json", *args)
    assert result.returncode == 0, result.stderr
    [item] = json.loads(result.stdout)
    assert item["url"] == urls["phong-1"] and item["source"] == "tintudo"
    assert item["title"] == "Hội nghị Thành ủy" and item["published"]
    assert "Nguyễn Văn Phong" in item["snippet"]
    plain = run_cli("search", '"quận Hai Bà Trưng"', "--since", "30d", *args)
    assert urls["caps"] in plain.stdout and urls["decoy-trung-bay"] not in plain.stdout
    broken = run_cli("search", '"Nguyễn Văn Phong" AND ("Thành ủy"', *args)
    assert broken.returncode == 2
    assert "column" in broken.stderr and "Traceback" not in broken.stderr
