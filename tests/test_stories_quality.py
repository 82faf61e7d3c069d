"""The labelled story set (tests/cases/stories.yaml): grouping it must reach pairwise
precision and recall of 0.95, and a user watching it must get one alert per story."""

from __future__ import annotations

from collections import Counter

import pytest

from pipelines.match.matcher import Matcher
from pipelines.match.rules import parse_watch
from pipelines.stories.fingerprint import fingerprint
from pipelines.stories.memory import MemoryIndex
from tests.stories_set import LabelledArticle, load, pair_score

ARTICLES = load()
# Watches a newsroom in Hai Bà Trưng would keep; each matches articles of several stories.
WATCHES = [
    parse_watch("hai-ba-trung", {"any": ["quận Hai Bà Trưng", "Quận ủy Hai Bà Trưng"]}),
    parse_watch("bach-mai", {"any": ["phường Bạch Mai", "phố Bạch Mai"]}),
    parse_watch("nguyen-van-phong", {"any": ["Nguyễn Văn Phong"], "whole_name": True}),
    parse_watch("giai-phong", {"any": ["đường Giải Phóng"]}),
    parse_watch("vanh-dai-4", {"any": ["Vành đai 4"]}),
    parse_watch("gia-vang", {"any": ["giá vàng"]}),
]


def group(articles: list[LabelledArticle]) -> dict[str, str]:
    """The story each article is assigned to, feeding them in publication order."""
    index = MemoryIndex()
    found = {}
    for number, article in enumerate(articles):
        decision = index.assign(
            number, article.outlet, article.at, fingerprint(article.title, article.text)
        )
        found[article.id] = decision.story or f"st-{number}"
    return found


def test_the_set_is_as_large_as_promised() -> None:
    stories = Counter(a.story for a in ARTICLES)
    assert len(ARTICLES) >= 40
    assert len(stories) >= 12
    assert len({a.outlet for a in ARTICLES}) >= 4
    assert sum(1 for n in stories.values() if n >= 3) >= 8  # most stories are covered widely


def test_pairwise_precision_and_recall() -> None:
    score = pair_score({a.id: a.story for a in ARTICLES}, group(ARTICLES))
    assert score.true_pairs >= 40
    assert score.precision >= 0.95, score
    assert score.recall >= 0.95, score


def test_one_alert_per_watch_and_story() -> None:
    found = group(ARTICLES)
    matcher = Matcher.compile(WATCHES)
    per_article: list[tuple[str, str]] = []  # (watch, article id)
    for article in ARTICLES:
        for match in matcher.match(article.text, title_length=article.title_length):
            per_article.append((match.watch.name, article.id))
    labels = {a.id: a.story for a in ARTICLES}
    without = len(per_article)
    with_stories = len({(watch, found[a]) for watch, a in per_article})
    wanted = len({(watch, labels[a]) for watch, a in per_article})
    assert {watch for watch, _ in per_article} == {w.name for w in WATCHES}
    assert with_stories == wanted
    assert without >= 2 * with_stories  # the copies would have doubled the inbox


@pytest.mark.parametrize("story", ["s05", "s06", "s13", "s14", "s15"])
def test_daily_columns_on_one_template_stay_apart(story: str) -> None:
    found = group(ARTICLES)
    groups = {found[a.id] for a in ARTICLES if a.story == story}
    others = {found[a.id] for a in ARTICLES if a.story != story}
    assert len(groups) == 1
    assert not groups & others
