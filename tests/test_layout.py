"""The tree keeps showing the stages: every package says what it holds, and no room or
module outgrows what a newcomer can read. (The imports between rooms are checked by
``lint-imports``, which ``python3 make.py test`` runs.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(
    p.parent for top in ("crawler", "pipelines") for p in (ROOT / top).rglob("__init__.py")
)
MAX_MODULES = 12  # per folder, __init__.py not counted
MAX_LINES = 420  # "about 400"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_package_says_what_it_holds(package: Path) -> None:
    tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree)
    assert doc, f"{package.relative_to(ROOT)}/__init__.py has no docstring"
    modules = [m for m in package.glob("*.py") if m.name != "__init__.py"]
    assert len(modules) <= MAX_MODULES, f"{package.relative_to(ROOT)}: {len(modules)} modules"


def test_no_module_outgrows_a_reading() -> None:
    long = {
        str(m.relative_to(ROOT)): n
        for top in ("crawler", "pipelines")
        for m in (ROOT / top).rglob("*.py")
        if (n := len(m.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split by responsibility: {long}"
