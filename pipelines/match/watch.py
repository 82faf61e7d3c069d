"""A watch as the matcher sees it: immutable terms, options and rule shape.

:mod:`pipelines.match.rules` builds these from ``watches.yaml``; the lint, the verifier and
the matcher read them. They live apart from the parser so that the lint, which the parser
calls, reads them without importing the parser.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

__all__ = ["ACCENTS", "CASES", "Accents", "Case", "Near", "Term", "Watch", "building"]

Accents = Literal["strict", "lenient", "ignore"]
Case = Literal["smart", "insensitive", "exact"]
ACCENTS: tuple[Accents, ...] = ("strict", "lenient", "ignore")
CASES: tuple[Case, ...] = ("smart", "insensitive", "exact")


@dataclass(frozen=True)
class Term:
    """One phrase to look for, with the options that apply to it (already resolved)."""

    text: str
    accents: Accents = "strict"
    case: Case = "smart"
    whole_name: bool = False


@dataclass(frozen=True)
class Near:
    """``near``: an ``any`` hit needs one of ``any`` within ``within`` syllables."""

    within: int
    any: tuple[Term, ...]


@dataclass(frozen=True)
class Watch:
    """One compiled-ready watch; immutable. Term lists are in config order."""

    name: str
    label: str = ""
    notify: tuple[str, ...] = ()
    digest: str = "immediate"
    any_terms: tuple[Term, ...] = ()
    all_terms: tuple[Term, ...] = ()
    not_terms: tuple[Term, ...] = ()
    near: Near | None = None
    except_in: tuple[Term, ...] = ()
    accents: Accents = "strict"
    case: Case = "smart"
    whole_name: bool = False
    query: str | None = None

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.name)

    @property
    def fingerprint(self) -> str:
        """A hash of what decides a match (terms and options; not label, notify, digest):
        it changes exactly when the watch may match different articles."""
        rule = (
            self.any_terms,
            self.all_terms,
            self.not_terms,
            self.near,
            self.except_in,
            self.accents,
            self.case,
            self.whole_name,
        )
        return hashlib.sha256(repr(rule).encode()).hexdigest()


@contextlib.contextmanager
def building() -> Iterator[None]:
    """Pause the cyclic garbage collector while a configuration's watches are built.

    100,000 watches are millions of small objects that live as long as the configuration;
    the collector would rescan them over and over as they pile up (half of the time it took
    to parse them), and none of them is garbage.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
