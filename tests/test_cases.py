"""Every worked case of the shared specification (../shared/matching/cases.json) passes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipelines.match.matcher import Matcher
from pipelines.match.rules import parse_watch
from pipelines.match.text import canonicalize

CASES_FILE = Path(__file__).resolve().parents[1].parent / "shared" / "matching" / "cases.json"


def _cases() -> list[Any]:
    if not CASES_FILE.is_file():
        return [
            pytest.param(
                None,
                marks=pytest.mark.skip(
                    reason=f"{CASES_FILE} is absent: "
                    "the shared specification cases are not checked out"
                ),
            )
        ]
    cases = json.loads(CASES_FILE.read_text(encoding="utf-8"))
    return [pytest.param(c, id=f"{c['id']}-{'-'.join(c.get('tags', []))}") for c in cases]


@pytest.mark.parametrize("case", _cases())
def test_shared_case(case: dict[str, Any]) -> None:
    watch = parse_watch(f"case-{case['id']}", case["rule"])
    matches = Matcher.compile([watch]).match(canonicalize(case["text"]))
    assert bool(matches) is case["match"], case["why"]
