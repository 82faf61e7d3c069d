"""The publication date-time of an article page, aware, with the page's UTC offset.

The structured date (``article:published_time``, ``itemprop=datePublished``, JSON-LD) comes
from trafilatura (htmldate) with ``outputformat="%Y-%m-%dT%H:%M:%S%z"`` and
``original_date=True``. It is then checked against the visible date line that every
Vietnamese news page prints near its headline ("Thứ bảy, 7/3/2026, 00:05 (GMT+7)"),
because the structured one is wrong in ways seen on real pages:

* VnExpress 2019 stamps ``+08:00`` on times that its own page shows as GMT+7;
* CafeF, VietNamNet and Hà Nội Mới give naive times (Hà Nội Mới in US format), and the
  2012 pages of most sites give a day only (htmldate then answers midnight, naive).

Vietnamese sites publish in Vietnam time, so a time without offset is taken as +07:00.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

__all__ = ["VIETNAM", "VisibleDate", "parse_structured", "parse_visible", "reconcile"]

VIETNAM = timezone(timedelta(hours=7))

_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4}|\d{2})(?!\d)")
# Zing 2012 writes "24/12/12 11:05 tối": a two-digit year and "evening" for PM.
_TIME = re.compile(
    r"(?<![\d/.])(\d{1,2})\s*[:h]\s*(\d{2})(?::(\d{2}))?(?![\d/])\s*"
    r"([AaPp]\.?[Mm]\b\.?|sáng|chiều|tối|đêm)?",
    re.IGNORECASE,
)
_PM = ("pm", "chiều", "tối")
_OFFSET = re.compile(r"(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
_MAX_GAP = 25  # characters between the date and its time in one "date line"


@dataclass(frozen=True)
class VisibleDate:
    """A date line as printed on the page; ``has_time`` False means midnight is a filler."""

    value: datetime
    has_time: bool
    explicit_offset: bool


def parse_structured(value: str | None) -> tuple[datetime, bool] | None:
    """Parse trafilatura's date string; returns (datetime, day_only). Naive results are
    kept naive here: :func:`reconcile` decides their offset."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    day_only = parsed.tzinfo is None and (parsed.hour, parsed.minute, parsed.second) == (0, 0, 0)
    return parsed, day_only


def parse_visible(text: str) -> VisibleDate | None:
    """Parse one short Vietnamese date line: "Thứ Hai, 24/12/2012, 03:04 AM (GMT+7)",
    "07/03/2026 08:47", "08:40 , 07/03/2026", "21/12/2012 - 08:04", "15:20 PM | 21/12/2012".
    Day first, as Vietnamese pages write it."""
    found = _DATE.search(text)
    if not found:
        return None
    day, month, year = (int(g) for g in found.groups())
    if year < 100:
        year += 2000
    try:
        when = date(year, month, day)
    except ValueError:
        return None
    offset = _offset(text)
    clock = _nearest_time(text, found.start(), found.end())
    hour = minute = second = 0
    if clock is not None:
        hour, minute, second = clock
    value = datetime(when.year, when.month, when.day, hour, minute, second, tzinfo=offset)
    return VisibleDate(value, clock is not None, _OFFSET.search(text) is not None)


def _offset(text: str) -> timezone:
    found = _OFFSET.search(text)
    if not found:
        return VIETNAM
    sign = -1 if found.group(1) == "-" else 1
    hours, minutes = int(found.group(2)), int(found.group(3) or 0)
    if hours > 14 or minutes > 59:
        return VIETNAM
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _nearest_time(text: str, start: int, end: int) -> tuple[int, int, int] | None:
    best: tuple[int, tuple[int, int, int]] | None = None
    for found in _TIME.finditer(text):
        gap = start - found.end() if found.end() <= start else found.start() - end
        if gap < 0 or gap > _MAX_GAP:
            continue
        hour, minute = int(found.group(1)), int(found.group(2))
        second = int(found.group(3) or 0)
        ampm = (found.group(4) or "").lower().replace(".", "")
        if ampm in _PM and hour < 12:
            hour += 12
        elif ampm in ("am", "sáng", "đêm") and hour == 12:
            hour = 0
        if hour > 23 or minute > 59 or second > 59:
            continue
        if best is None or gap < best[0]:
            best = (gap, (hour, minute, second))
    return best[1] if best else None


def reconcile(structured: str | None, visible: VisibleDate | None) -> datetime | None:
    """The publication time to keep, aware.

    * structured with an offset wins, unless the visible line shows the same wall-clock
      time with a different explicit offset (VnExpress 2019's ``+08:00``);
    * structured naive with a time: the visible line's offset when the wall clock agrees,
      else +07:00;
    * structured day only: the visible line when it has a time (htmldate's day-only
      answers come from URLs and stray dates as often as from the article), else
      midnight +07:00;
    * no structured date: the visible line.
    """
    parsed = parse_structured(structured)
    if parsed is None:
        return visible.value if visible else None
    value, day_only = parsed
    same_clock = visible is not None and visible.has_time and _wall(visible.value) == _wall(value)
    if value.tzinfo is not None:
        if visible is not None and same_clock and visible.explicit_offset:
            return value.replace(tzinfo=visible.value.tzinfo)
        return value
    if day_only:
        if visible is not None and visible.has_time:
            return visible.value
        return value.replace(tzinfo=VIETNAM)
    if visible is not None and same_clock:
        return value.replace(tzinfo=visible.value.tzinfo)
    return value.replace(tzinfo=VIETNAM)


def _wall(value: datetime) -> tuple[int, int, int, int, int]:
    return (value.year, value.month, value.day, value.hour, value.minute)
