"""Watch rules: ``watches.yaml`` mappings -> immutable :class:`~pipelines.match.watch.Watch`
objects.

The keys and their meaning are the shared ``matching/RULES.md``: ``any``, ``all``, ``not``,
``near: {within, any}``, ``except_in``; options ``accents``, ``case`` and ``whole_name``
on the watch (or in ``defaults``) and per term (``{text, accents, case}``); or, instead of
the term keys, an expert ``query`` string (:mod:`pipelines.match.query`).

Every problem is collected, never raised one at a time, so ``check-config`` lists them all;
lint warnings come from :mod:`pipelines.match.lint`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import cast

from pipelines.errors import ConfigError, Problem
from pipelines.match.lint import IGNORE_WARNING, lint_watch
from pipelines.match.query import QuerySyntaxError, compile_query
from pipelines.match.text import canonicalize
from pipelines.match.watch import ACCENTS, CASES, Accents, Case, Near, Term, Watch, building

__all__ = ["parse_watch", "parse_watches"]

Path = tuple[str | int, ...]

_TERM_LISTS = ("any", "all", "not", "except_in")
_OPTION_KEYS = ("accents", "case", "whole_name")
WATCH_KEYS = frozenset({*_TERM_LISTS, *_OPTION_KEYS, "near", "query", "label", "notify", "digest"})
DEFAULT_KEYS = frozenset({*_OPTION_KEYS, "notify", "digest"})
TERM_KEYS = frozenset({"text", "accents", "case", "whole_name"})
NEAR_KEYS = frozenset({"within", "any"})
_DIGEST = re.compile(r"^(immediate|hourly|daily@([01]\d|2[0-3]):[0-5]\d)$")


@dataclass
class _Report:
    """Problems found while parsing, with paths relative to the document root."""

    problems: list[Problem] = field(default_factory=list)

    def error(self, path: Path, message: str) -> None:
        self.problems.append(Problem(path=path, message=message, severity="error"))

    def warn(self, path: Path, message: str) -> None:
        self.problems.append(Problem(path=path, message=message, severity="warning"))

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def parse_watches(data: object) -> tuple[list[Watch], list[Problem]]:
    """Validate a whole parsed ``watches.yaml`` (already env-interpolated).

    Returns the watches that are valid, in config order, and every problem found: errors
    (unknown keys, wrong types, empty ``any``, query syntax) and lint warnings.
    """
    report = _Report()
    if not isinstance(data, Mapping):
        report.error((), "expected a mapping with 'watches' (and optional 'defaults')")
        return [], report.problems
    _check_keys(report, data, (), frozenset({"defaults", "watches"}))
    defaults = _parse_defaults(report, data.get("defaults"))
    raw = data.get("watches")
    if not isinstance(raw, Mapping) or not raw:
        report.error(("watches",), "expected a mapping of watch name -> rule (at least one)")
        return [], report.problems
    with building():
        watches = _parse_all(report, raw, defaults)
    return watches, report.problems


def _parse_all(
    report: _Report, raw: Mapping[object, object], defaults: Mapping[str, object]
) -> list[Watch]:
    watches: list[Watch] = []
    for name, mapping in raw.items():
        sub = _Report()
        watch = _parse_watch(sub, str(name), mapping, defaults)
        if watch is not None and not sub.failed:
            own = mapping.keys() if isinstance(mapping, Mapping) else ()
            for path, message in lint_watch(watch, own):
                sub.warn(path, message)
            watches.append(watch)
        report.problems.extend(sub.problems)
    return watches


def parse_watch(name: str, mapping: object, defaults: Mapping[str, object] | None = None) -> Watch:
    """Parse one watch rule (e.g. a ``cases.json`` rule); raise :class:`ConfigError` if invalid."""
    report = _Report()
    merged = _parse_defaults(report, defaults or {})
    watch = _parse_watch(report, name, mapping, merged)
    if watch is None or report.failed:
        raise ConfigError([p for p in report.problems if p.severity == "error"])
    return watch


def _parse_defaults(report: _Report, raw: object) -> dict[str, object]:
    path: Path = ("defaults",)
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        report.error(path, "expected a mapping (accents, case, whole_name, notify, digest)")
        return {}
    _check_keys(report, raw, path, DEFAULT_KEYS)
    out: dict[str, object] = {}
    for key, value in raw.items():
        if key in DEFAULT_KEYS and _valid_option(report, (*path, key), key, value):
            out[key] = value
    if out.get("accents") == "ignore":
        report.warn((*path, "accents"), IGNORE_WARNING)
    return out


def _parse_watch(
    report: _Report, name: str, mapping: object, defaults: Mapping[str, object]
) -> Watch | None:
    path: Path = ("watches", name)
    if not isinstance(mapping, Mapping):
        report.error(path, "expected a mapping with at least 'any' (or 'query')")
        return None
    _check_keys(report, mapping, path, WATCH_KEYS)
    options = {k: v for k, v in defaults.items() if k in _OPTION_KEYS}
    for key in (*_OPTION_KEYS, "notify", "digest"):
        if key in mapping and _valid_option(report, (*path, key), key, mapping[key]):
            options[key] = mapping[key]
    accents = cast(Accents, options.get("accents", "strict"))
    case = cast(Case, options.get("case", "smart"))
    whole_name = bool(options.get("whole_name", False))

    def term_list(raw: object, where: Path, names: bool = False) -> tuple[Term, ...]:
        # whole_name is about names: it applies to `any` terms, never to context phrases.
        return _terms(report, where, raw, Term("", accents, case, whole_name and names))

    fields = _rule_fields(report, path, mapping, term_list)
    label = mapping.get("label", name)
    if not isinstance(label, str) or not label.strip():
        report.error((*path, "label"), "expected a non-empty text")
        label = name
    notify = options.get("notify", defaults.get("notify", []))
    return Watch(
        name=name,
        label=label.strip(),
        notify=tuple(cast(list[str], notify)) if isinstance(notify, list) else (),
        digest=str(options.get("digest", defaults.get("digest", "immediate"))),
        accents=accents,
        case=case,
        whole_name=whole_name,
        **fields,  # type: ignore[arg-type]
    )


_TermList = Callable[..., tuple[Term, ...]]


def _rule_fields(
    report: _Report, path: Path, mapping: Mapping[str, object], term_list: _TermList
) -> dict[str, object]:
    query = mapping.get("query")
    if query is not None:
        return _query_fields(report, path, mapping, query, term_list)
    fields: dict[str, object] = {}
    if "any" not in mapping:
        report.error(path, "needs 'any' (a list of terms) or 'query'")
    elif not isinstance(mapping["any"], list) or not mapping["any"]:
        report.error(
            (*path, "any"), "must be a non-empty list of terms: an empty any never matches"
        )
    fields["any_terms"] = term_list(mapping.get("any", []), (*path, "any"), True)
    fields["all_terms"] = term_list(mapping.get("all", []), (*path, "all"))
    fields["not_terms"] = term_list(mapping.get("not", []), (*path, "not"))
    fields["except_in"] = term_list(mapping.get("except_in", []), (*path, "except_in"))
    if "near" in mapping:
        fields["near"] = _near(report, (*path, "near"), mapping["near"], term_list)
    return fields


def _query_fields(
    report: _Report, path: Path, mapping: Mapping[str, object], query: object, term_list: _TermList
) -> dict[str, object]:
    where = (*path, "query")
    clash = [k for k in ("any", "all", "not", "near") if k in mapping]
    if clash:
        report.error(where, f"use either query or {', '.join(clash)}, not both")
    if not isinstance(query, str) or not query.strip():
        report.error(where, "expected a query string")
        return {}
    try:
        rule = compile_query(query)
    except QuerySyntaxError as exc:
        marked = f"{query[: exc.column - 1]}⟪here⟫{query[exc.column - 1 :]}"
        report.error(where, f"syntax error at column {exc.column}: {exc.message}: {marked}")
        return {}
    fields: dict[str, object] = {
        "query": query,
        "any_terms": term_list(list(rule.any), where, True),
        "all_terms": term_list(list(rule.all), where),
        "not_terms": term_list(list(rule.not_), where),
        "except_in": term_list(mapping.get("except_in", []), (*path, "except_in")),
    }
    if rule.near_within is not None:
        fields["near"] = Near(rule.near_within, term_list(list(rule.near_any), where))
    return fields


def _near(report: _Report, path: Path, raw: object, term_list: _TermList) -> Near | None:
    if not isinstance(raw, Mapping):
        report.error(path, "expected a mapping {within: N, any: [terms]}")
        return None
    _check_keys(report, raw, path, NEAR_KEYS)
    within = raw.get("within")
    if isinstance(within, bool) or not isinstance(within, int) or within < 0:
        report.error((*path, "within"), "expected a whole number of syllables (0 or more)")
        within = None
    if not isinstance(raw.get("any"), list) or not raw.get("any"):
        report.error((*path, "any"), "expected a non-empty list of terms")
    terms = term_list(raw.get("any", []), (*path, "any"))
    return Near(within, terms) if within is not None and terms else None


def _terms(report: _Report, path: Path, raw: object, base: Term) -> tuple[Term, ...]:
    if not isinstance(raw, list):
        report.error(path, "expected a list of terms, e.g. [Hà Nội, Thành ủy]")
        return ()
    out: list[Term] = []
    for i, item in enumerate(raw):
        where = (*path, i) if path[-1] != "query" else path
        term = _term(report, where, item, base)
        if term is not None:
            out.append(term)
    return tuple(out)


def _term(report: _Report, path: Path, item: object, base: Term) -> Term | None:
    options: dict[str, object] = {}
    if isinstance(item, Mapping):
        _check_keys(report, item, path, TERM_KEYS)
        for key in _OPTION_KEYS:
            if key in item and _valid_option(report, (*path, key), key, item[key]):
                options[key] = item[key]
        path, item = (*path, "text"), item.get("text")
    if not isinstance(item, str):
        kind = "nothing" if item is None else type(item).__name__
        report.error(path, f"expected a term (text), got {kind}; quote numbers like '1'")
        return None
    text = canonicalize(item)
    if "\n" in text:
        report.error(path, "a term cannot contain a blank line (terms never cross paragraphs)")
        return None
    if not any(c.isalnum() for c in text):
        report.error(path, "a term needs at least one letter or digit")
        return None
    return Term(
        text=text,
        accents=cast(Accents, options.get("accents", base.accents)),
        case=cast(Case, options.get("case", base.case)),
        whole_name=bool(options.get("whole_name", base.whole_name)),
    )


def _valid_option(report: _Report, path: Path, key: str, value: object) -> bool:
    problem = _option_problem(key, value)
    if problem:
        report.error(path, problem)
    return problem is None


def _option_problem(key: str, value: object) -> str | None:
    if key == "accents" and value not in ACCENTS:
        return f"expected one of {', '.join(ACCENTS)}"
    if key == "case" and value not in CASES:
        return f"expected one of {', '.join(CASES)}"
    if key == "whole_name" and not isinstance(value, bool):
        return "expected true or false"
    if key == "notify" and (
        not isinstance(value, list) or not all(isinstance(v, str) and v for v in value)
    ):
        return "expected a list of channel names"
    if key == "digest" and not (isinstance(value, str) and _DIGEST.match(value)):
        return "expected immediate, hourly or daily@HH:MM (e.g. daily@07:30)"
    return None


def _check_keys(
    report: _Report, mapping: Mapping[object, object], path: Path, allowed: frozenset[str]
) -> None:
    for key in mapping:
        if key not in allowed:
            report.error((*path, str(key)), f"unknown key; allowed: {', '.join(sorted(allowed))}")
