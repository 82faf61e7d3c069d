"""The watch tester: a pasted text or a stored article, against the configured watches and,
optionally, a new watch written as in ``watches.yaml`` (the body of one watch, or just a
query string), to see what matches and why before adding it to the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from crawler.web import queries
from crawler.web.context import WebContext
from crawler.web.explain import Piece, Verdict, explain_watches, paragraphs, title_length
from pipelines.errors import ConfigError, Problem
from pipelines.match.rules import parse_watch
from pipelines.match.text import canonicalize
from pipelines.match.watch import Watch

__all__ = ["TRIED", "TesterResult", "parse_rule", "run_tester"]

TRIED = "thu-nghiem"  # the name the new watch is shown under
MAX_TEXT = 500_000  # characters; a longer paste is an accident


@dataclass
class TesterResult:
    """What the tester shows: problems with the input, or a verdict per watch."""

    errors: list[str] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    text: list[list[Piece]] = field(default_factory=list)
    article_title: str | None = None


def parse_rule(rule: str) -> Watch:
    """The new watch from YAML (a mapping of rule keys, or a bare query string);
    ConfigError naming the line or key that is wrong."""
    try:
        data = yaml.safe_load(rule)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        message = f"{where}not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise ConfigError([Problem((), message)]) from exc
    if isinstance(data, str):
        data = {"query": data}
    return parse_watch(TRIED, data)


def run_tester(ctx: WebContext, *, text: str, article: str, rule: str) -> TesterResult:
    """Explain every configured watch (and the new one) on the text or the article."""
    result = TesterResult()
    watches = list(ctx.config().watches)
    if rule.strip():
        try:
            watches.append(parse_rule(rule))
        except ConfigError as exc:
            result.errors += [
                f"{'.'.join(map(str, p.path)) or 'rule'}: {p.message}" for p in exc.problems
            ]
    body, title_len = "", 0
    if article.strip():
        number = article.strip().lstrip("#")
        row = queries.article(ctx.store, int(number)) if number.isdigit() else None
        if row is None or len(number) > 18:
            result.errors.append(f"article {article.strip()!r}: no stored article has that number")
        else:
            body, title_len, result.article_title = row.text, title_length(row.text), row.title
    elif text.strip():
        body = canonicalize(text[:MAX_TEXT])
    else:
        result.errors.append("paste a text or give a stored article's number")
    if result.errors:
        return result
    result.verdicts = explain_watches(watches, body, title_len)
    result.text = paragraphs(body, [(h.start, h.end) for v in result.verdicts for h in v.hits])
    return result
