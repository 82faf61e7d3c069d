"""What finding the lead and the captions costs the cleaner (not a test).

One run, the same pages, one core: the saved real pages in ``../shared/fixtures/html`` (when
present) and the pages written here for the generic path (``tests/pages/generic``), each
cleaned

  (a) by :func:`pipelines.clean.extract.extract` as it is, and
  (b) by the same function with the generic lead search and the caption search switched off
      (the baseline: what the cleaner did before them; known CMS sapo selectors still run).

Prints CPU milliseconds per page for both (best of interleaved rounds), the difference,
and what (a) found that (b) did not.

Usage: python bench/clean.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.clean import extract as extract_module  # noqa: E402
from pipelines.clean.captions import Captions  # noqa: E402
from pipelines.clean.extract import Extracted, extract  # noqa: E402
from pipelines.clean.pagemeta import first  # noqa: E402
from pipelines.clean.sites import SAPO_SELECTORS  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures" / "html"
GENERIC = ROOT / "tests" / "pages" / "generic"


def _pages() -> list[tuple[str, bytes, str]]:
    pages = [
        (f"generic/{p.name}", p.read_bytes(), f"https://thudomau.vn/{p.stem}-251999.html")
        for p in sorted(GENERIC.glob("*.html"))
    ]
    if FIXTURES.is_dir():
        for p in sorted(FIXTURES.glob("*/*.html")):
            pages.append(
                (
                    str(p.relative_to(FIXTURES)),
                    p.read_bytes(),
                    f"https://{p.parent.name}.vn/a-1.html",
                )
            )
    return pages


@contextmanager
def _baseline() -> Iterator[None]:
    """The cleaner without the generic lead search and without the caption search."""
    saved: dict[str, Any] = {
        "find_captions": extract_module.find_captions,
        "find_lead": extract_module.find_lead,
    }

    def no_captions(*args: Any, **kwargs: Any) -> Captions:
        return Captions()

    def known_lead(tree: Any, **kwargs: Any) -> Any:
        return first(tree, SAPO_SELECTORS, exclude=kwargs["drops"], present=kwargs["present"])

    extract_module.find_captions = no_captions  # type: ignore[assignment]
    extract_module.find_lead = known_lead
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(extract_module, name, value)


def _pass(pages: list[tuple[str, bytes, str]]) -> tuple[float, list[Extracted | None]]:
    # CPU time of this process: other work on a busy machine does not count.
    started = time.process_time()
    found = [extract(body, url) for _, body, url in pages]
    return time.process_time() - started, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    pages = _pages()
    _pass(pages)  # warm: imports, caches
    base_times, full_times = [], []
    base: list[Extracted | None] = []
    full: list[Extracted | None] = []
    # Interleaved, so that a busy machine slows both sides alike.
    for _ in range(args.rounds):
        with _baseline():
            elapsed, base = _pass(pages)
        base_times.append(elapsed)
        elapsed, full = _pass(pages)
        full_times.append(elapsed)
    # The fastest round of each: noise only ever adds time.
    base_ms = min(base_times) / len(pages) * 1000
    full_ms = min(full_times) / len(pages) * 1000
    size = sum(len(b) for _, b, _ in pages) / 1e6
    print(f"{len(pages)} pages ({size:.1f} MB), one core, CPU time, best of {args.rounds} rounds")
    print(f"  (b) baseline, no generic lead/captions: {base_ms:7.2f} ms/page")
    print(
        f"  (a) cleaner with lead and captions:     {full_ms:7.2f} ms/page"
        f"  ({full_ms - base_ms:+.2f} ms, {100 * (full_ms / base_ms - 1):+.1f}%)"
    )
    leads = captions = 0
    for b, f in zip(base, full, strict=True):
        if f is None:
            continue
        if b is None or f.text.split("\n\n")[0] != b.text.split("\n\n")[0]:
            leads += 1
        captions += len(f.captions)
    print(f"  found by (a) only: {leads} leads (first paragraph changed), {captions} captions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
