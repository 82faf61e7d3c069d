"""The cleaner against its golden files (``tests/golden``): one per saved real page, and one
per page written here for the generic path (``tests/pages/generic``).

A failure means the extraction of a page changed. If the change is deliberate, run
``.venv/bin/python tests/golden/regen.py`` and review the diff of the JSON files.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "html"


def _regen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("clean_golden_regen", GOLDEN / "regen.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


regen = _regen()
needs_fixtures = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason="saved real pages not present at ../shared/fixtures/html"
)


def test_every_saved_page_has_a_golden_file() -> None:
    names = {p.name for p in GOLDEN.glob("*.json")}
    assert names == {regen.golden_path(page).name for page in regen.PAGES}


@needs_fixtures
def test_every_saved_page_is_listed() -> None:
    saved = {str(p.relative_to(FIXTURES)) for p in FIXTURES.glob("*/*.html")}
    assert saved == set(regen.PAGES)


@needs_fixtures
@pytest.mark.parametrize("page", sorted(regen.PAGES))
def test_extraction_matches_golden(page: str) -> None:
    expected = json.loads(regen.golden_path(page).read_text(encoding="utf-8"))
    assert regen.fingerprint(page) == expected


GENERIC = sorted(p.name for p in regen.GENERIC_PAGES.glob("*.html"))


def test_every_generic_page_has_a_golden_file() -> None:
    assert len(GENERIC) >= 10
    names = {p.stem for p in regen.GENERIC_GOLDEN.glob("*.json")}
    assert names == {Path(page).stem for page in GENERIC}


@pytest.mark.parametrize("page", GENERIC)
def test_generic_page_matches_golden(page: str) -> None:
    golden = regen.GENERIC_GOLDEN / f"{Path(page).stem}.json"
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert regen.generic_output(page) == expected
