"""``newswatch status``: what each source and channel is doing, for people and for scripts.

Everything comes from the store except the next run times, which only the running service
knows: it keeps them in ``DATA/service.json`` (see :mod:`crawler.service.instance`). The
queue counts come from :func:`pipelines.deliver.alertqueue.queue_counts`;
:func:`channel_counts` falls back to counting the delivery tables itself so ``status`` works
whatever the dispatcher's state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from crawler.config import format_duration
from crawler.service.instance import read_state
from pipelines.store.database import Store
from pipelines.store.schema import runs, sources
from pipelines.store.schema import utcnow as _utcnow

if TYPE_CHECKING:
    from crawler.config import Config

__all__ = ["channel_counts", "collect_status", "render_status"]

QUEUE_STATES = ("pending", "retrying", "dead", "delivered")


def channel_counts(store: Store) -> dict[str, dict[str, Any]]:
    """Per channel: pending, retrying, dead, delivered counts and ``last_success``."""
    from pipelines.deliver.alertqueue import queue_counts

    return queue_counts(store)


def _last_runs(store: Store) -> dict[str, Mapping[str, Any]]:
    latest = (
        select(runs.c.source, func.max(runs.c.id).label("id"))
        .where(runs.c.status != "running")
        .group_by(runs.c.source)
        .subquery()
    )
    with store.begin() as conn:
        rows = conn.execute(select(runs).join(latest, runs.c.id == latest.c.id)).mappings()
        return {row["source"]: dict(row) for row in rows}


def collect_status(config: Config, store: Store, now: datetime | None = None) -> dict[str, Any]:
    """The status as plain data (what ``--json`` prints; times are ISO 8601 UTC)."""
    moment = now or _utcnow()
    state = read_state(config.data_dir) or {}
    next_runs: Mapping[str, str] = state.get("next_runs") or {}
    with store.begin() as conn:
        rows = {r["name"]: dict(r) for r in conn.execute(select(sources)).mappings()}
    last_runs = _last_runs(store)
    source_items = []
    for src in config.sources:
        row = rows.get(src.name, {})
        run = last_runs.get(src.name, {})
        detail = _detail(run.get("detail"))
        source_items.append(
            {
                "name": src.name,
                "enabled": src.enabled,
                "every": src.every,
                "last_run": _iso(row.get("last_run_at")),
                "result": row.get("last_status"),
                "new_articles": run.get("new_articles"),
                "too_old": int(detail.get("too_old") or 0),
                "max_age": src.max_age,
                "next_run": next_runs.get(src.name) if src.enabled else None,
                "lag": _lag(row.get("last_run_at"), src.every, moment) if src.enabled else None,
                "consecutive_failures": row.get("consecutive_failures", 0) or 0,
                "last_new_article": _iso(row.get("last_new_at")),
                "last_error": row.get("last_error"),
                "alarm": row.get("alarm"),
            }
        )
    counts = channel_counts(store)
    names = list(config.channels) + [
        n for n in config.disabled_channels if n not in config.channels
    ]
    names += sorted(n for n in counts if n not in names)
    channel_items = []
    for name in names:
        slot = counts.get(name, {})
        channel_items.append(
            {
                "name": name,
                "enabled": name in config.channels and not slot.get("disabled"),
                "disabled_reason": config.disabled_channels.get(name)
                or slot.get("disabled")
                or (None if name in config.channels else "not in channels.yaml"),
                "ops": name in config.ops,
                **{key: int(slot.get(key) or 0) for key in QUEUE_STATES},
                "last_success": _iso(slot.get("last_success")),
            }
        )
    return {
        "generated_at": _iso(moment),
        "service": {
            "running": bool(state),
            "pid": state.get("pid"),
            "started_at": state.get("started_at"),
            "http": state.get("http"),
            "crawling": list(state.get("running") or []),
        },
        "sources": source_items,
        "channels": channel_items,
    }


def render_status(config: Config, store: Store, *, as_json: bool) -> str:
    """The text ``newswatch status`` prints (a table, or JSON with ``as_json``)."""
    data = collect_status(config, store)
    if as_json:
        return json.dumps(data, ensure_ascii=False, indent=2)
    now = datetime.fromisoformat(data["generated_at"])
    service = data["service"]
    if service["running"]:
        head = f"service: running (pid {service['pid']}) since {_when(service['started_at'], now)}"
        if service.get("http"):
            head += f"; health {service['http']}/healthz"
        if service["crawling"]:
            head += f"; crawling now: {', '.join(service['crawling'])}"
    else:
        head = "service: not running (next runs are known only while `newswatch run` runs)"
    lines = [head, ""]
    src_rows = [
        [
            s["name"] + ("" if s["enabled"] else " (disabled)"),
            _when(s["last_run"], now),
            s["result"] or "-",
            "-" if s["new_articles"] is None else str(s["new_articles"]),
            _when(s["next_run"], now),
            str(s["consecutive_failures"]),
            _when(s["last_new_article"], now),
            s["alarm"] or "-",
        ]
        for s in data["sources"]
    ]
    headers = ["SOURCE", "LAST RUN", "RESULT", "NEW", "NEXT RUN", "FAILS", "LAST NEW", "ALARM"]
    lines += _table(headers, src_rows, numeric={3, 5})
    for s in data["sources"]:
        if s["last_error"] and s["result"] != "ok":
            lines.append(f"  {s['name']}: {s['last_error']}")
        if s["too_old"]:
            lines.append(
                f"  {s['name']}: {s['too_old']} older than {format_duration(s['max_age'])} "
                "skipped in the last round (max_age)"
            )
    lines.append("")
    ch_rows = []
    for c in data["channels"]:
        name = c["name"] + (" (ops)" if c["ops"] else "") + ("" if c["enabled"] else " (off)")
        ch_rows.append(
            [
                name,
                str(c["pending"]),
                str(c["retrying"]),
                str(c["dead"]),
                _when(c["last_success"], now),
            ]
        )
    lines += _table(["CHANNEL", "PENDING", "RETRYING", "DEAD", "LAST SUCCESS"], ch_rows, {1, 2, 3})
    for c in data["channels"]:
        if not c["enabled"]:
            lines.append(f"  {c['name']}: disabled: {c['disabled_reason']}")
    return "\n".join(lines)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> list[str]:
    if not rows:
        return [headers[0] + ": none configured"]
    widths = [max(len(r[i]) for r in [list(headers), *rows]) for i in range(len(headers))]

    def fmt(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    return [fmt(headers), *(fmt(r) for r in rows)]


def _lag(last_run: datetime | None, every: float, now: datetime) -> float | None:
    """Seconds a source is overdue (0 when not due yet; ``None`` when it never ran)."""
    if last_run is None:
        return None
    if last_run.tzinfo is None and now.tzinfo is not None:
        now = now.replace(tzinfo=None)
    return round(max(0.0, (now - last_run).total_seconds() - every), 1)


def _detail(text: Any) -> dict[str, Any]:
    """A run's ``detail`` JSON (empty when absent or unreadable: status must still print)."""
    try:
        value = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def _when(iso: str | None, now: datetime) -> str:
    """``3 min ago`` / ``in 7 min`` / ``-`` for a time near ``now``."""
    if not iso:
        return "-"
    delta = (datetime.fromisoformat(iso) - now).total_seconds()
    span = abs(delta)
    if span < 5:
        return "now"
    if span < 120:
        text = f"{span:.0f} s"
    elif span < 7200:
        text = f"{span / 60:.0f} min"
    elif span < 2 * 86400:
        text = f"{span / 3600:.0f} h"
    else:
        text = f"{span / 86400:.0f} d"
    return f"in {text}" if delta > 0 else f"{text} ago"
