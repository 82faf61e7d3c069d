"""Publication times: the date lines Vietnamese pages print, and which source wins."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipelines.clean.pubdate import VisibleDate, parse_visible, reconcile

VN = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Thứ bảy, 7/3/2026, 00:05 (GMT+7)", datetime(2026, 3, 7, 0, 5, tzinfo=VN)),
        ("Thứ Hai, 24/12/2012, 03:04 AM (GMT+7)", datetime(2012, 12, 24, 3, 4, tzinfo=VN)),
        ("- 07/03/2026 08:47", datetime(2026, 3, 7, 8, 47, tzinfo=VN)),
        ("08:40 , 07/03/2026", datetime(2026, 3, 7, 8, 40, tzinfo=VN)),
        ("Thứ Ba, 25/12/2012 - 10:03", datetime(2012, 12, 25, 10, 3, tzinfo=VN)),
        ("15:20 PM  |  21/12/2012", datetime(2012, 12, 21, 15, 20, tzinfo=VN)),
        ("Cập nhật thứ hai, ngày 24/12/12 11:05 tối", datetime(2012, 12, 24, 23, 5, tzinfo=VN)),
        ("07/03/2026   08:52 (GMT+07:00)", datetime(2026, 3, 7, 8, 52, tzinfo=VN)),
        (
            "Thời gian 01/09/2017 10:06:57 (GMT+7)",
            datetime(2017, 9, 1, 10, 6, 57, tzinfo=VN),
        ),
    ],
)
def test_visible_date_lines(line: str, expected: datetime) -> None:
    found = parse_visible(line)
    assert found is not None
    assert found.value == expected
    assert found.value.utcoffset() == expected.utcoffset()
    assert found.has_time


def test_visible_day_without_time_is_marked() -> None:
    found = parse_visible("Ngày 22/10/2012")
    assert found is not None and not found.has_time


@pytest.mark.parametrize("line", ["Giấy phép số 146/GP-BVHTTDL", "31/02/2026 10:00", "Hà Nội"])
def test_not_a_date(line: str) -> None:
    assert parse_visible(line) is None


def _visible(line: str) -> VisibleDate:
    found = parse_visible(line)
    assert found is not None
    return found


def test_structured_time_with_offset_wins() -> None:
    got = reconcile("2012-12-23T14:02:00+0700", _visible("Thứ Hai, 24/12/2012, 03:04 AM"))
    assert got == datetime(2012, 12, 23, 14, 2, tzinfo=VN)


def test_vnexpress_2019_plus_eight_is_corrected_by_its_own_gmt7_line() -> None:
    got = reconcile("2019-02-18T17:34:20+0800", _visible("Thứ hai, 18/2/2019, 17:34 (GMT+7)"))
    assert got == datetime(2019, 2, 18, 17, 34, 20, tzinfo=VN)
    assert got is not None and got.utcoffset() == timedelta(hours=7)


def test_naive_structured_time_is_vietnam_time() -> None:
    got = reconcile("2026-03-07T09:40:00", None)
    assert got == datetime(2026, 3, 7, 9, 40, tzinfo=VN)
    assert got is not None and got.utcoffset() == timedelta(hours=7)


def test_day_only_structured_date_takes_the_time_from_the_date_line() -> None:
    got = reconcile("2012-12-25T00:00:00", _visible("Thứ Ba, 25/12/2012 - 10:03"))
    assert got == datetime(2012, 12, 25, 10, 3, tzinfo=VN)


def test_day_only_structured_date_alone_is_midnight_vietnam_time() -> None:
    assert reconcile("2012-12-25T00:00:00", None) == datetime(2012, 12, 25, tzinfo=VN)


def test_only_a_date_line() -> None:
    assert reconcile(None, _visible("28/01/2026 - 06:52")) == datetime(
        2026, 1, 28, 6, 52, tzinfo=VN
    )
    assert reconcile(None, None) is None
    assert reconcile("not a date", None) is None
