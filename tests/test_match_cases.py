"""The project's own matching case table (tests/cases/match_cases.yaml), one test per case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines.match.matcher import Matcher
from pipelines.match.rules import parse_watch
from pipelines.match.text import canonicalize, document_text

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "cases" / "match_cases.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    watch = parse_watch(case["id"], case["rule"], case.get("defaults"))
    if "title" in case:
        text, title_length = document_text(case["title"], case["text"])
    else:
        text, title_length = canonicalize(case["text"]), 0
    matches = Matcher.compile([watch]).match(text, title_length=title_length)
    assert bool(matches) is case["match"], matches
    if "hits" in case:
        assert [h.text for h in matches[0].hits] == case["hits"]
    if "flags" in case:
        assert set(matches[0].hits[0].flags) == set(case["flags"])


def test_ids_are_unique() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
