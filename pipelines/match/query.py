"""Expert query strings, compiled to the same rule as the YAML keys.

::

    query: '"Nguyễn Văn Phong" NEAR/10 ("bí thư" OR "Thành ủy") NOT "Bình Dương"'

Operators (upper case only, so the Vietnamese words *and*/*or* written in lower case inside
a phrase are never operators), loosest first: ``OR``; ``AND`` and ``NOT`` (``A NOT B``
means ``A AND NOT B``); ``NEAR/n`` (at most *n* syllables between, same paragraph); unary
``NOT``; then quoted phrases (``"…"`` or ``“…”``), single bare words and parentheses.

A query must fit the watch rule: one group of alternatives (``any``), optionally ``NEAR/n``
another group (``near``), ANDed with single phrases (``all``) and NOTed phrases (``not``).
Anything else is refused with the column where it stops fitting.

The parser is a small hand-written recursive descent rather than pyparsing: the grammar is
six productions, and owning the tokenizer is what lets every error name the exact column
(and the unclosed quote or parenthesis) in words a non-programmer can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["CompiledQuery", "QuerySyntaxError", "compile_query", "parse_query"]


class QuerySyntaxError(ValueError):
    """A query that does not parse, or does not fit a watch rule; ``column`` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} (at column {column})")
        self.message = message
        self.column = column


@dataclass(frozen=True)
class _Token:
    kind: str  # "(" ")" "phrase" "word" "AND" "OR" "NOT" "NEAR" "end"
    text: str
    column: int
    distance: int = 0


@dataclass(frozen=True)
class Phrase:
    """A quoted phrase or a bare word."""

    text: str
    column: int


@dataclass(frozen=True)
class Op:
    """``OR``/``AND``/``NOT``/``NEAR`` over operands; ``distance`` only for ``NEAR``."""

    kind: str
    items: tuple[Node, ...]
    column: int
    distance: int = 0


Node = Phrase | Op

_QUOTES = {'"': '"', "“": "”", "„": "“"}
_NEAR = re.compile(r"NEAR(?:/(\d+))?$")


def _tokens(query: str) -> list[_Token]:
    out: list[_Token] = []
    i = 0
    while i < len(query):
        ch, col = query[i], i + 1
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append(_Token(ch, ch, col))
            i += 1
        elif ch in _QUOTES:
            close = query.find(_QUOTES[ch], i + 1)
            if close < 0 and ch == "“":
                close = query.find('"', i + 1)
            if close < 0:
                raise QuerySyntaxError(f"the quote {ch} is never closed", col)
            text = " ".join(query[i + 1 : close].split())
            if not text:
                raise QuerySyntaxError("empty phrase", col)
            out.append(_Token("phrase", text, col))
            i = close + 1
        else:
            j = i
            while j < len(query) and not query[j].isspace() and query[j] not in '()"“”':
                j += 1
            out.append(_word_token(query[i:j], col))
            i = j
    out.append(_Token("end", "", len(query) + 1))
    return out


def _word_token(word: str, col: int) -> _Token:
    if word in ("AND", "OR", "NOT"):
        return _Token(word, word, col)
    near = _NEAR.match(word)
    if near:
        if near.group(1) is None:
            raise QuerySyntaxError("NEAR needs a distance in syllables, e.g. NEAR/10", col)
        return _Token("NEAR", word, col, int(near.group(1)))
    if word.upper().startswith("NEAR/"):
        raise QuerySyntaxError(f"{word!r}: write NEAR/n with a whole number, e.g. NEAR/10", col)
    return _Token("word", word, col)


@dataclass
class _Parser:
    tokens: list[_Token]
    pos: int = 0
    opened: list[int] = field(default_factory=list)

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expr(self) -> Node:
        items = [self.and_expr()]
        while self.peek().kind == "OR":
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Op("OR", tuple(items), _column(items[0]))

    def and_expr(self) -> Node:
        items = [self.near_expr()]
        while self.peek().kind in ("AND", "NOT"):
            op = self.take()
            if op.kind == "AND" and self.peek().kind != "NOT":
                items.append(self.near_expr())
                continue
            if op.kind == "AND":
                op = self.take()
            items.append(Op("NOT", (self.near_expr(),), op.column))
        return items[0] if len(items) == 1 else Op("AND", tuple(items), _column(items[0]))

    def near_expr(self) -> Node:
        left = self.unary()
        while self.peek().kind == "NEAR":
            op = self.take()
            left = Op("NEAR", (left, self.unary()), op.column, op.distance)
        return left

    def unary(self) -> Node:
        if self.peek().kind == "NOT":
            op = self.take()
            return Op("NOT", (self.unary(),), op.column)
        return self.primary()

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind in ("phrase", "word"):
            return Phrase(tok.text, tok.column)
        if tok.kind == "(":
            inner = self.expr()
            close = self.take()
            if close.kind != ")":
                raise QuerySyntaxError(
                    f"expected ')' to close the '(' at column {tok.column}", close.column
                )
            return inner
        what = "the end of the query" if tok.kind == "end" else repr(tok.text)
        raise QuerySyntaxError(f"expected a phrase or '(' but found {what}", tok.column)


def _column(node: Node) -> int:
    return node.column


def parse_query(query: str) -> Node:
    """Parse ``query`` into a tree of :class:`Phrase` and :class:`Op`; raise on bad syntax."""
    parser = _Parser(_tokens(query))
    tree = parser.expr()
    tok = parser.peek()
    if tok.kind != "end":
        hint = (
            "; put a multi-word phrase in quotes or join terms with AND/OR"
            if tok.kind in ("word", "phrase", "(")
            else ""
        )
        what = "')' without a matching '('" if tok.kind == ")" else repr(tok.text)
        raise QuerySyntaxError(f"unexpected {what}{hint}", tok.column)
    return tree


@dataclass(frozen=True)
class CompiledQuery:
    """The rule a query means: the same keys as the YAML form."""

    any: tuple[str, ...]
    all: tuple[str, ...] = ()
    not_: tuple[str, ...] = ()
    near_within: int | None = None
    near_any: tuple[str, ...] = ()


def compile_query(query: str) -> CompiledQuery:
    """Parse and compile ``query``; raise :class:`QuerySyntaxError` if it has no rule form."""
    tree = parse_query(query)
    clauses = tree.items if isinstance(tree, Op) and tree.kind == "AND" else (tree,)
    groups: list[Node] = []
    singles: list[str] = []
    vetoes: list[str] = []
    for clause in clauses:
        if isinstance(clause, Op) and clause.kind == "NOT":
            vetoes.extend(_alternatives(clause.items[0], "NOT"))
        elif isinstance(clause, Phrase):
            singles.append(clause.text)
        else:
            groups.append(clause)
    if len(groups) > 1:
        raise QuerySyntaxError(
            "only one OR group or NEAR per query (the rest must be single phrases joined "
            "with AND, or NOT phrases)",
            groups[1].column,
        )
    if not groups and not singles:
        raise QuerySyntaxError("the query needs at least one term that is not NOTed", 1)
    if not groups:
        return CompiledQuery(any=(singles[0],), all=tuple(singles[1:]), not_=tuple(vetoes))
    group = groups[0]
    if isinstance(group, Op) and group.kind == "NEAR":
        left, right = group.items
        if isinstance(left, Op) and left.kind == "NEAR":
            raise QuerySyntaxError("NEAR cannot be chained: use one NEAR per query", group.column)
        return CompiledQuery(
            any=_alternatives(left, "NEAR"),
            all=tuple(singles),
            not_=tuple(vetoes),
            near_within=group.distance,
            near_any=_alternatives(right, "NEAR"),
        )
    return CompiledQuery(any=_alternatives(group, "OR"), all=tuple(singles), not_=tuple(vetoes))


def _alternatives(node: Node, where: str) -> tuple[str, ...]:
    """A phrase or an OR of phrases -> its phrases; anything else cannot be a term list."""
    if isinstance(node, Phrase):
        return (node.text,)
    if node.kind == "OR" and all(isinstance(item, Phrase) for item in node.items):
        return tuple(item.text for item in node.items if isinstance(item, Phrase))
    bad = next((i for i in node.items if not isinstance(i, Phrase)), node)
    raise QuerySyntaxError(
        f"{where} can only take a phrase or (phrase OR phrase …) here, not {_describe(bad)}",
        bad.column,
    )


def _describe(node: Node) -> str:
    if isinstance(node, Phrase):
        return repr(node.text)
    return {"NEAR": "a NEAR", "NOT": "a NOT"}.get(node.kind, f"an {node.kind} group")
