"""`newswatch stories`, and the story line of `newswatch match`, as a user runs them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from pipelines.store.database import Store
from pipelines.store.schema import utcnow
from tests.conftest import run_cli
from tests.test_store_stories import SET, _phong, _record


def _seed(data: Path, shift: timedelta = timedelta(0)) -> Path:
    store = Store.for_data_dir(data)
    store.migrate()
    for article_id in ("s01-a", "s01-b", "s01-d", "s02-a", "s02-b", "s05-a"):
        article = SET[article_id]
        matches = _phong(article) if "Nguyễn Văn Phong" in article.text else []
        record = _record(article)
        assert record.published is not None
        store.record_article(replace(record, published=record.published + shift), matches)
    store.close()
    return data


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return _seed(tmp_path / "data")


def test_stories_lists_outlets_times_and_why(data_dir: Path) -> None:
    result = run_cli("--data", data_dir, "stories", "--since", "10000d", "--json")
    assert result.returncode == 0, result.stderr
    found = {len(s["articles"]): s for s in json.loads(result.stdout)}
    meeting = found[3]
    assert meeting["outlets"] == ["tin-thu-do", "song-hong", "nhip-song"]
    assert meeting["watches"] == ["phong"]
    assert meeting["first_seen"].startswith("2026-11-02T02:00:00")
    first, copy, trimmed = meeting["articles"]
    assert first["reason"] == "new story: no similar article within 72 h"
    assert copy["nearest"] == first["url"] and copy["similarity"] > 0.9
    assert trimmed["reason"].startswith("joined: ")
    assert sorted(found) == [1, 2, 3]  # the school visit next day is its own story

    text = run_cli("--data", data_dir, "stories", "--since", "10000d", "--watch", "phong")
    assert text.returncode == 0, text.stderr
    assert "3 article(s), 3 outlet(s)  02/11 09:00 → 02/11 14:00  alerted: phong" in text.stdout
    assert "outlets: tin-thu-do, song-hong, nhip-song" in text.stdout
    assert "Giá vàng" not in text.stdout  # that story alerted no watch named phong
    none = run_cli("--data", data_dir, "stories", "--since", "1h")
    assert none.stdout.strip() == "no stories in that span"


def test_match_says_which_story_a_text_would_join(tmp_path: Path) -> None:
    # the stored copies were published an hour ago: a text matched now is within the window
    data_dir = _seed(tmp_path / "data", utcnow() - SET["s01-d"].at - timedelta(hours=1))
    watches = tmp_path / "watches.yaml"
    watches.write_text("watches:\n  phong: {any: [Nguyễn Văn Phong]}\n", encoding="utf-8")
    rewrite = tmp_path / "rewrite.txt"
    article = SET["s01-c"]
    title, body = article.text.split("\n", 1)
    rewrite.write_text(title + "\n\n" + body.replace("\n", "\n\n"), encoding="utf-8")
    result = run_cli("--data", data_dir, "match", "--watches", watches, rewrite)
    assert result.returncode == 0, result.stderr
    assert "story: would join st_" in result.stdout
    assert "similar to article 1 (tin-thu-do)" in result.stdout
