"""Expert query strings: what they compile to, and errors that point at the mistake."""

from __future__ import annotations

import pytest

from pipelines.match.query import CompiledQuery, QuerySyntaxError, compile_query


@pytest.mark.parametrize(
    ("query", "rule"),
    [
        (
            '"Nguyễn Văn Phong" NEAR/10 ("bí thư" OR "Thành ủy") NOT "Bình Dương"',
            CompiledQuery(("Nguyễn Văn Phong",), (), ("Bình Dương",), 10, ("bí thư", "Thành ủy")),
        ),
        ('"Hà Nội"', CompiledQuery(("Hà Nội",))),
        ("Trưng", CompiledQuery(("Trưng",))),
        ('"A" OR "B" OR C', CompiledQuery(("A", "B", "C"))),
        ('"A" AND "B" AND NOT "C"', CompiledQuery(("A",), ("B",), ("C",))),
        ('NOT "C" AND ("A" OR "B") AND "D"', CompiledQuery(("A", "B"), ("D",), ("C",))),
        ('"A" NOT ("C" OR "D")', CompiledQuery(("A",), (), ("C", "D"))),
        ("“Thành ủy” NEAR/0 “Hà Nội”", CompiledQuery(("Thành ủy",), (), (), 0, ("Hà Nội",))),
        ('(("A"))', CompiledQuery(("A",))),
        ('"  Hai   Bà  Trưng "', CompiledQuery(("Hai Bà Trưng",))),
    ],
)
def test_compiles_to_rule(query: str, rule: CompiledQuery) -> None:
    assert compile_query(query) == rule


@pytest.mark.parametrize(
    ("query", "column", "words"),
    [
        ('"Nguyễn Văn Phong', 1, "never closed"),
        ('"A" AND ("B" OR "C"', 20, "close the '(' at column 9"),
        ('"A" OR "B")', 11, "without a matching '('"),
        ("Hà Nội", 4, "put a multi-word phrase in quotes"),
        ('"A" NEAR "B"', 5, "NEAR/10"),
        ('"A" NEAR/x "B"', 5, "whole number"),
        ('"A" AND', 8, "end of the query"),
        ('"A" OR OR "B"', 8, "found 'OR'"),
        ('""', 1, "empty phrase"),
        ('NOT "A"', 1, "not NOTed"),
        ('"A" OR "B" AND "C"', 8, "AND group"),
        ('("A" OR "B") AND ("C" OR "D")', 19, "only one OR group"),
        ('"A" NEAR/3 "B" NEAR/3 "C"', 16, "cannot be chained"),
        ('"A" NEAR/3 ("B" NEAR/3 "C")', 17, "not a NEAR"),
        ('"A" AND ("B" OR NOT "C")', 17, "a NOT"),
    ],
)
def test_syntax_errors_point_at_the_column(query: str, column: int, words: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        compile_query(query)
    assert info.value.column == column, info.value
    assert words in str(info.value)
