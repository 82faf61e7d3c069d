"""YAML loading that remembers where every value came from, and `${VAR}` interpolation.

PyYAML's node tree carries line numbers; plain ``safe_load`` throws them away. We compose
the node tree ourselves so that every problem found later can be reported as
``FILE:LINE: PATH: message`` — the format the CLI contract fixes.

Environment variables are interpolated into *parsed* string values, never into raw text,
so a secret containing ``:`` or ``#`` cannot change the document's structure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pipelines.errors import Problem

__all__ = ["UNSET", "Located", "check_keys", "interpolate", "load_located", "str_list"]

Path_ = tuple[str | int, ...]

_VAR = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|-|:\?|\?)(?P<arg>[^}]*))?\}"
)


class _Unset(str):
    """Marks a value whose `${VAR}` was not set (so a channel can be disabled, not crash)."""


UNSET = _Unset("")


@dataclass
class Located:
    """A parsed YAML document with the line of every path in it."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # Paths whose value referenced an environment variable that is not set, and its name.
    unset: dict[Path_, str] = field(default_factory=dict)

    def line(self, path: Path_) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def locate(self, problem: Problem) -> Problem:
        """The same problem with this document's file name and the path's line."""
        return Problem(
            path=problem.path,
            message=problem.message,
            severity=problem.severity,
            file=self.file,
            line=self.line(problem.path),
        )

    def error(self, path: Path_, message: str, severity: str = "error") -> None:
        self.problems.append(self.locate(Problem(path, message, severity)))  # type: ignore[arg-type]


def load_located(path: Path, display: str | None = None) -> Located:
    """Read one YAML file; syntax errors and duplicate keys become located problems."""
    shown = display or path.name
    doc = Located(file=shown, data=None)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        doc.problems.append(Problem((), "file not found", file=shown, line=0))
        return doc
    except (OSError, UnicodeDecodeError) as exc:
        doc.problems.append(Problem((), f"cannot read: {exc}", file=shown, line=0))
        return doc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        what = getattr(exc, "problem", None) or str(exc)
        doc.problems.append(Problem((), f"YAML syntax error: {what}", file=shown, line=line))
        return doc
    if node is None:
        doc.data = {}
        return doc
    doc.data = _convert(node, (), doc, SafeConstructor())
    return doc


def _convert(node: Node, path: Path_, doc: Located, ctor: SafeConstructor) -> Any:
    doc.lines[path] = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        result: dict[Any, Any] = {}
        ctor.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = ctor.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                doc.error(path, f"keys must be strings, not {type(key).__name__}")
                continue
            child = (*path, key)
            if key in result:
                doc.lines.setdefault(child, key_node.start_mark.line + 1)
                doc.problems.append(
                    Problem(
                        child,
                        "duplicate key (the later one would win)",
                        file=doc.file,
                        line=key_node.start_mark.line + 1,
                    )
                )
            result[key] = _convert(value_node, child, doc, ctor)
            doc.lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, SequenceNode):
        return [_convert(item, (*path, i), doc, ctor) for i, item in enumerate(node.value)]
    if isinstance(node, ScalarNode):
        return ctor.construct_object(node, deep=True)
    return None  # pragma: no cover - PyYAML has no other node kinds


def interpolate(doc: Located, env: Mapping[str, str] | None = None) -> None:
    """Replace `${VAR}`, `${VAR:-default}`, `${VAR:?message}` in every string value.

    An unset `${VAR}` without a default leaves the value empty and is recorded in
    ``doc.unset`` (the caller decides whether that is an error); `${VAR:?msg}` is always
    an error. `$$` is a literal dollar sign.
    """
    environ = os.environ if env is None else env
    doc.data = _interp(doc.data, (), doc, environ)


def _interp(value: Any, path: Path_, doc: Located, env: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _interp(v, (*path, k), doc, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interp(v, (*path, i), doc, env) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value
    missing: list[str] = []

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group("name"), m.group("op"), m.group("arg") or ""
        current = env.get(name)
        empty = current is None or (current == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if empty else str(current)
        if op in (":?", "?") and empty:
            doc.error(path, f"environment variable {name} is required: {arg or 'not set'}")
            return ""
        if not current:
            # Set but empty counts as unset: `NEWSROOM_WEBHOOK_URL=` in an env file.
            missing.append(name)
            return ""
        return current

    result = _VAR.sub(sub, value)
    if missing:
        doc.unset[path] = missing[0]
        return _Unset(result)
    return result


def check_keys(
    doc: Located, value: Mapping[str, Any], path: tuple[str | int, ...], allowed: set[str]
) -> None:
    """An error for every key of ``value`` not in ``allowed``."""
    for key in value:
        if key not in allowed:
            doc.error((*path, key), f"unknown key; allowed: {', '.join(sorted(allowed))}")


def str_list(doc: Located, path: tuple[str | int, ...], value: Any) -> list[str]:
    """A string or a list of strings, as a list (an error and ``[]`` otherwise)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        doc.error(path, "expected a list of strings")
        return []
    return list(value)
