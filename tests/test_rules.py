"""watches.yaml mappings -> Watch objects: errors, defaults and lint warnings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipelines.errors import ConfigError, Problem
from pipelines.match.rules import parse_watch, parse_watches
from pipelines.match.watch import Near, Term

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REPO = Path(__file__).resolve().parents[1]


def _problems(data: object, severity: str = "error") -> list[Problem]:
    return [p for p in parse_watches(data)[1] if p.severity == severity]


def _paths(problems: list[Problem]) -> list[tuple[str | int, ...]]:
    return [p.path for p in problems]


def test_full_watch_is_parsed_with_defaults_and_overrides() -> None:
    watches, problems = parse_watches(
        {
            "defaults": {"accents": "lenient", "notify": ["newsroom"], "digest": "hourly"},
            "watches": {
                "phong": {
                    "label": "Ông Nguyễn Văn Phong",
                    "any": ["Nguyễn Văn Phong", {"text": "Nguyen Van Phong", "case": "exact"}],
                    "whole_name": True,
                    "near": {"within": 15, "any": ["bí thư", "Thành ủy"]},
                    "all": ["Hà Nội"],
                    "not": ["Bình Dương"],
                    "except_in": ["xã Văn Phong"],
                    "notify": ["editors"],
                    "digest": "daily@07:30",
                }
            },
        }
    )
    assert [p for p in problems if p.severity == "error"] == []
    (w,) = watches
    assert (w.name, w.label, w.notify, w.digest) == (
        "phong",
        "Ông Nguyễn Văn Phong",
        ("editors",),
        "daily@07:30",
    )
    assert w.any_terms == (
        Term("Nguyễn Văn Phong", "lenient", "smart", True),
        Term("Nguyen Van Phong", "lenient", "exact", True),
    )
    # whole_name is about the watched names, never about context phrases.
    assert w.near == Near(15, (Term("bí thư", "lenient"), Term("Thành ủy", "lenient")))
    assert w.all_terms == (Term("Hà Nội", "lenient"),)
    assert w.not_terms == (Term("Bình Dương", "lenient"),)


def test_label_notify_and_digest_defaults() -> None:
    w = parse_watch("x", {"any": ["Hà Nội"]}, {"notify": ["local"]})
    assert (w.label, w.notify, w.digest) == ("x", ("local",), "immediate")
    assert parse_watch("y", {"any": ["Hà Nội"]}).notify == ()


def test_terms_are_canonicalised() -> None:
    w = parse_watch("x", {"any": ["Nguye\u0302\u0303n  Va\u0306n\u00a0Phong"]})
    assert w.any_terms[0].text == "Nguyễn Văn Phong"


@pytest.mark.parametrize(
    ("rule", "path", "words"),
    [
        ({"any": []}, ("watches", "w", "any"), "empty any"),
        ({"label": "x"}, ("watches", "w"), "'any'"),
        ({"any": ["A"], "colour": "red"}, ("watches", "w", "colour"), "allowed: accents"),
        ({"any": "Hà Nội"}, ("watches", "w", "any"), "list of terms"),
        ({"any": [12]}, ("watches", "w", "any", 0), "quote numbers"),
        ({"any": ["A"], "accents": "loose"}, ("watches", "w", "accents"), "strict, lenient"),
        ({"any": ["A"], "case": "upper"}, ("watches", "w", "case"), "smart, insensitive"),
        ({"any": ["A"], "whole_name": "yes"}, ("watches", "w", "whole_name"), "true or false"),
        ({"any": ["A"], "digest": "daily@7:30"}, ("watches", "w", "digest"), "daily@HH:MM"),
        ({"any": ["A"], "notify": "x"}, ("watches", "w", "notify"), "channel names"),
        ({"any": [{"txt": "A"}]}, ("watches", "w", "any", 0, "txt"), "allowed: accents"),
        ({"any": [{"case": "exact"}]}, ("watches", "w", "any", 0, "text"), "got nothing"),
        ({"any": ["..."]}, ("watches", "w", "any", 0), "letter or digit"),
        ({"any": ["a\n\nb"]}, ("watches", "w", "any", 0), "paragraphs"),
        ({"any": ["A"], "near": [1]}, ("watches", "w", "near"), "within"),
        ({"any": ["A"], "near": {"any": ["B"]}}, ("watches", "w", "near", "within"), "number"),
        ({"any": ["A"], "near": {"within": 3}}, ("watches", "w", "near", "any"), "non-empty"),
        (
            {"any": ["A"], "near": {"within": 3, "any": ["B"], "n": 1}},
            ("watches", "w", "near", "n"),
            "allowed: any, within",
        ),
        ({"query": "A", "any": ["B"]}, ("watches", "w", "query"), "either query or any"),
        ({"query": '"A" AND (B'}, ("watches", "w", "query"), "column 11"),
    ],
)
def test_errors_name_the_path_and_the_fix(
    rule: dict[str, object], path: tuple[str | int, ...], words: str
) -> None:
    errors = _problems({"watches": {"w": rule}})
    assert path in _paths(errors), errors
    message = next(p.message for p in errors if p.path == path)
    assert words in message
    with pytest.raises(ConfigError):
        parse_watch("w", rule)


def test_every_error_is_reported_and_valid_watches_are_kept() -> None:
    watches, problems = parse_watches(
        {
            "defaults": {"case": "loud", "mood": 1},
            "watches": {"bad": {"any": []}, "good": {"any": ["Hà Nội"]}, "worse": 3},
            "extra": True,
        }
    )
    assert [w.name for w in watches] == ["good"]
    assert set(_paths([p for p in problems if p.severity == "error"])) == {
        ("defaults", "case"),
        ("defaults", "mood"),
        ("watches", "bad", "any"),
        ("watches", "worse"),
        ("extra",),
    }


@pytest.mark.parametrize("data", [None, [], {"watches": {}}, {"watches": ["a"]}])
def test_document_shape_errors(data: object) -> None:
    watches, problems = parse_watches(data)
    assert watches == []
    assert problems and problems[0].severity == "error"


def test_query_compiles_to_the_same_rule_as_the_keys() -> None:
    by_query = parse_watch(
        "q", {"query": '"Nguyễn Văn Phong" NEAR/10 ("bí thư" OR "Thành ủy") NOT "Bình Dương"'}
    )
    by_keys = parse_watch(
        "q",
        {
            "any": ["Nguyễn Văn Phong"],
            "near": {"within": 10, "any": ["bí thư", "Thành ủy"]},
            "not": ["Bình Dương"],
        },
    )
    assert by_query.query is not None
    assert (by_query.any_terms, by_query.near, by_query.not_terms, by_query.all_terms) == (
        by_keys.any_terms,
        by_keys.near,
        by_keys.not_terms,
        by_keys.all_terms,
    )


@pytest.mark.parametrize(
    ("rule", "path", "words"),
    [
        ({"any": ["Trưng"]}, ("watches", "w", "any", 0), "single syllable"),
        ({"query": '"Trưng"'}, ("watches", "w", "query"), "single syllable"),
        (
            {"any": ["Nguyễn Văn Phong"], "accents": "ignore"},
            ("watches", "w", "accents"),
            "accents: ignore",
        ),
        (
            {"any": [{"text": "Nguyễn Văn Phong", "accents": "ignore"}]},
            ("watches", "w", "any", 0),
            "accents: ignore",
        ),
        (
            {"any": ["Nguyễn Văn Phong", "Nguyễn Văn Phòng"]},
            ("watches", "w", "any", 1),
            "fold to the same letters",
        ),
        ({"any": ["nguyễn văn phong"]}, ("watches", "w", "any", 0), "'Nguyễn Văn Phong'"),
        ({"any": ["quận hai bà trưng"]}, ("watches", "w", "any", 0), "'quận Hai Bà Trưng'"),
        ({"any": ["Dương Đức Tuấn"], "all": ["hà nội"]}, ("watches", "w", "all", 0), "'Hà Nội'"),
    ],
)
def test_lint_warnings(rule: dict[str, object], path: tuple[str | int, ...], words: str) -> None:
    data = {"watches": {"w": rule}}
    assert _problems(data) == []
    warnings = _problems(data, "warning")
    assert path in _paths(warnings), warnings
    assert words in next(p.message for p in warnings if p.path == path)


@pytest.mark.parametrize(
    "rule",
    [
        {"any": ["Trưng"], "near": {"within": 5, "any": ["đền"]}},
        {"any": ["Trưng"], "all": ["Mê Linh"]},
        {"any": ["quận ủy Hai Bà Trưng", "giải phóng mặt bằng", "Thành ủy", "Thành uỷ Hà Nội"]},
        {"any": ["hai bà trưng"], "case": "insensitive"},
    ],
)
def test_no_lint_noise(rule: dict[str, object]) -> None:
    assert parse_watches({"watches": {"w": rule}})[1] == []


def test_defaults_accents_ignore_warned_once() -> None:
    data = {"defaults": {"accents": "ignore"}, "watches": {"a": {"any": ["Hà Nội"]}}}
    warnings = _problems(data, "warning")
    assert _paths(warnings) == [("defaults", "accents")]


@pytest.mark.parametrize(
    "path",
    [SHARED / "matching" / "watches.example.yaml", REPO / "config" / "watches.yaml"],
    ids=["shared-example", "default-config"],
)
def test_shipped_configurations_are_clean(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"{path.name} is absent (../shared not checked out)")
    watches, problems = parse_watches(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert watches
    assert [p.render() for p in problems] == []
