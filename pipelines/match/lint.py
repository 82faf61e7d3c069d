"""Config lint for watch rules: warnings that prevent most false positives and misses.

The list is ``matching/RULES.md``'s: a one-syllable ``any`` term with no ``near``/``all``;
``accents: ignore``; two terms of one watch that fold to the same letters (Phong/Phòng);
a proper noun written in lower case.

Proper nouns are recognised by three cheap, dictionary-free signs: a family name followed
by a usual middle name (``nguyễn văn …``), an administrative word followed by a name
(``quận hai bà trưng``), and a short list of places every newsroom watches.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

from pipelines.match.text import fold_exact, tone_key
from pipelines.match.watch import Term, Watch

__all__ = ["IGNORE_WARNING", "lint_watch", "syllables"]

Path = tuple[str | int, ...]


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_SYLLABLE = re.compile(r"[^\W_]+")

_FAMILY = _word_set(
    "nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý đinh trịnh "
    "đào trương lưu lương tạ lâm chu vương"
)
_MIDDLE = _word_set(
    "văn thị đức minh quang hữu ngọc thanh xuân hồng kim công đình quốc bá trọng tiến "
    "mạnh thế duy anh tuấn hải hoài thu mỹ như phương khánh việt"
)
# Administrative words that are followed by a proper name, and the common nouns that may
# follow them instead (quận ủy, tỉnh lộ, thành phố mới …).
_ADMIN = ("quận", "huyện", "phường", "tỉnh", "thị xã", "thị trấn", "thành phố", "tp")
_ADMIN_COMMON = _word_set("ủy uỷ lộ đội trưởng phó đoàn hội bộ mới lớn nhỏ này đó")
_PLACES = (
    "hà nội",
    "hồ chí minh",
    "việt nam",
    "sài gòn",
    "đà nẵng",
    "hải phòng",
    "cần thơ",
    "bình dương",
    "đồng nai",
    "hai bà trưng",
    "hoàn kiếm",
    "ba đình",
    "đống đa",
    "cầu giấy",
    "long biên",
    "quảng ninh",
    "nghệ an",
    "thanh hóa",
    "khánh hòa",
    "bắc ninh",
)
_PLACE_KEYS = {tuple(tone_key(s) for s in p.split()): p for p in _PLACES}


def syllables(text: str) -> list[str]:
    """The syllables (maximal runs of letters and digits) of a term or text."""
    return _SYLLABLE.findall(text)


def lint_watch(watch: Watch, own_keys: Collection[str] = ()) -> Iterator[tuple[Path, str]]:
    """Yield ``(path, message)`` warnings for one valid watch.

    ``own_keys`` are the keys the watch's own mapping sets (an option inherited from
    ``defaults`` is reported once, at ``defaults``).
    """
    base: Path = ("watches", watch.name)
    terms = list(_located_terms(watch))
    if not watch.near and not watch.all_terms:
        for path, term in terms:
            if path[len(base)] in ("any", "query") and len(syllables(term.text)) == 1:
                yield (
                    path,
                    (
                        f"{term.text!r} is a single syllable: it also occurs in unrelated words "
                        "(Trưng in 'trưng bày'); add near: or all:, or use a longer phrase"
                    ),
                )
    if watch.accents == "ignore" and "accents" in own_keys:
        yield (*base, "accents"), IGNORE_WARNING
    for path, term in terms:
        if term.accents == "ignore" and watch.accents != "ignore":
            yield path, IGNORE_WARNING
    yield from _fold_collisions(terms)
    for path, term in terms:
        fixed = _proper_noun_fix(term)
        if fixed:
            yield (
                path,
                (
                    f"{term.text!r} looks like a proper noun written in lower case; with case: "
                    f"{term.case} lower-case syllables also match common words; write {fixed!r}"
                ),
            )


IGNORE_WARNING = (
    "accents: ignore merges different names (Phong/Phòng, Hưng/Hùng); prefer lenient, which "
    "only accepts text written without any diacritics"
)


def _located_terms(watch: Watch) -> Iterator[tuple[Path, Term]]:
    base: Path = ("watches", watch.name)
    lists = [
        ("any", watch.any_terms),
        ("all", watch.all_terms),
        ("not", watch.not_terms),
        ("except_in", watch.except_in),
    ]
    for key, terms in lists:
        for i, term in enumerate(terms):
            from_query = watch.query is not None and key != "except_in"
            yield ((*base, "query") if from_query else (*base, key, i)), term
    if watch.near:
        for i, term in enumerate(watch.near.any):
            yield ((*base, "query") if watch.query else (*base, "near", "any", i)), term


def _fold_collisions(terms: list[tuple[Path, Term]]) -> Iterator[tuple[Path, str]]:
    if len(terms) < 2:
        return
    seen: dict[str, tuple[str, Term]] = {}
    for path, term in terms:
        folded = fold_exact(term.text)
        keys = tuple(tone_key(s) for s in syllables(term.text))
        if folded in seen:
            other_keys, other = seen[folded]
            if other_keys != str(keys):
                yield (
                    path,
                    (
                        f"{term.text!r} and {other.text!r} fold to the same letters ({folded!r}): "
                        "they are different words, and with accents: ignore they would merge; "
                        "check both are meant"
                    ),
                )
            continue
        seen[folded] = (str(keys), term)


def _proper_noun_fix(term: Term) -> str | None:
    if term.case == "insensitive":
        return None
    words = term.text.split(" ")
    lower = [w.lower() for w in words]
    if words != lower:
        return None
    if len(words) >= 3 and lower[0] in _FAMILY and lower[1] in _MIDDLE:
        return " ".join(w.capitalize() for w in words)
    for admin in _ADMIN:
        n = len(admin.split())
        if " ".join(lower[:n]) == admin and len(words) > n:
            rest = words[n:]
            if rest[0] not in _ADMIN_COMMON and rest[0].isalpha():
                return " ".join(words[:n] + [w.capitalize() for w in rest])
    keys = [tone_key(w) for w in lower]
    for place_keys, place in _PLACE_KEYS.items():
        for i in range(len(keys) - len(place_keys) + 1):
            if tuple(keys[i : i + len(place_keys)]) == place_keys:
                fixed = (
                    words[:i]
                    + [w.capitalize() for w in place.split()]
                    + words[i + len(place_keys) :]
                )
                return " ".join(fixed)
    return None
