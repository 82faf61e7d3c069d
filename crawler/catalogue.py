"""``newswatch sources list|add``: the catalogue of outlets (``config/catalogue.yaml``), and
copying one of its entries into ``sources.yaml``.

The catalogue is data, not configuration: nothing in it is polled until it is added. An
entry is a source (``name``, ``home``, ``feeds``) plus what only the catalogue needs:
``label`` (the outlet's name), ``group`` (national, hanoi, provincial, business) and
``checked`` (false: its feed URLs could not be fetched when the list was made). ``add``
appends the entry to ``sources.yaml`` as text — the file's comments and layout stay as the
user wrote them — after checking that the result is a valid sources file.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.config import load_sources_file
from crawler.yamlsrc import Located, check_keys, load_located, str_list
from pipelines.errors import ConfigError, NewswatchError

__all__ = ["Outlet", "add_outlet", "list_outlets", "load_catalogue"]

GROUPS = ("national", "hanoi", "provincial", "business")
_KEYS = {"name", "label", "group", "home", "feeds", "checked"}


@dataclass(frozen=True)
class Outlet:
    """One catalogue entry."""

    name: str
    label: str
    group: str
    home: str
    feeds: tuple[str, ...]
    checked: bool


def load_catalogue(path: Path) -> list[Outlet]:
    """Read and check the catalogue; raise :class:`ConfigError` with every problem."""
    doc = load_located(path, display=str(path))
    data = doc.data if isinstance(doc.data, dict) else {}
    if not doc.problems:
        check_keys(doc, data, (), {"outlets"})
    raw = data.get("outlets")
    if not doc.problems and not isinstance(raw, list):
        doc.error(("outlets",), "expected a list of outlets")
    outlets: list[Outlet] = []
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        outlet = _outlet(doc, ("outlets", i), item)
        if outlet is not None:
            outlets.append(outlet)
    if doc.problems:
        raise ConfigError(doc.problems)
    return outlets


def _outlet(doc: Located, path: tuple[str | int, ...], item: Any) -> Outlet | None:
    before = len(doc.problems)
    if not isinstance(item, dict):
        doc.error(path, "expected a mapping with name, label, group, home")
        return None
    check_keys(doc, item, path, _KEYS)
    for key in ("name", "label", "home"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            doc.error((*path, key), "required: a text")
    if item.get("group") not in GROUPS:
        doc.error((*path, "group"), f"expected one of {', '.join(GROUPS)}")
    if not isinstance(item.get("checked", False), bool):
        doc.error((*path, "checked"), "expected true or false")
    feeds = str_list(doc, (*path, "feeds"), item.get("feeds"))
    if len(doc.problems) > before:
        return None
    return Outlet(
        name=item["name"],
        label=item["label"],
        group=item["group"],
        home=item["home"],
        feeds=tuple(feeds),
        checked=bool(item.get("checked", False)),
    )


def _configured(sources_file: Path) -> set[str]:
    doc = load_located(sources_file)
    sources = doc.data.get("sources") if isinstance(doc.data, dict) else None
    return {s["name"] for s in sources or [] if isinstance(s, dict) and "name" in s}


def list_outlets(catalogue: Path, sources_file: Path) -> str:
    """The catalogue as a table, marking the outlets already in ``sources.yaml``."""
    outlets = load_catalogue(catalogue)
    present = _configured(sources_file)
    width = max(len(o.name) for o in outlets)
    lines = [f"{'NAME'.ljust(width)}  {'GROUP':<10}  FEEDS  ADDED  OUTLET"]
    for o in outlets:
        feeds = str(len(o.feeds)) if o.feeds else "-"
        added = "yes" if o.name in present else ""
        mark = "" if o.checked else " (unchecked)"
        lines.append(
            f"{o.name.ljust(width)}  {o.group:<10}  {feeds:>5}  {added:<5}  {o.label}{mark}"
        )
    return "\n".join(lines)


def render_outlet(outlet: Outlet) -> str:
    """The sources.yaml entry of an outlet, with its label and state as comments."""
    lines = [f"  # {outlet.label} ({outlet.group}; from the catalogue)"]
    if not outlet.checked:
        lines.append("  # Unchecked: its feeds were seen in public code, never fetched from here.")
    lines += [f"  - name: {outlet.name}", f"    home: {outlet.home}"]
    if outlet.feeds:
        lines.append("    feeds:")
        lines += [f"      - {feed}" for feed in outlet.feeds]
    return "\n".join(lines) + "\n"


def add_outlet(name: str, catalogue: Path, sources_file: Path) -> Outlet:
    """Append the catalogue's ``name`` to ``sources_file``; the file is only replaced when
    the result is a valid sources file. Raises :class:`NewswatchError` saying why not."""
    outlets = {o.name: o for o in load_catalogue(catalogue)}
    outlet = outlets.get(name)
    if outlet is None:
        close = difflib.get_close_matches(name, list(outlets), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise NewswatchError(
            f"no outlet named {name!r} in {catalogue}{hint}; `newswatch sources list` shows them"
        )
    if name in _configured(sources_file):
        raise NewswatchError(f"{name!r} is already in {sources_file}")
    text = sources_file.read_text(encoding="utf-8")
    updated = text.rstrip("\n") + "\n\n" + render_outlet(outlet)
    partial = sources_file.with_name(f".{sources_file.name}.{os.getpid()}.tmp")
    partial.write_text(updated, encoding="utf-8")
    try:
        # Raises ConfigError (named after the real file): the user's file stays as it was.
        load_sources_file(partial, display=str(sources_file))
        os.replace(partial, sources_file)
    finally:
        partial.unlink(missing_ok=True)
    return outlet
