"""Day types and state public holidays (spec/claims-files.md "Day types")."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ndis_rules.catalogue import STATES, Catalogue
from ndis_rules.daytypes import (
    DayType,
    HolidayCalendar,
    HolidayList,
    NoHolidays,
    day_type,
    item_day_type,
    name_day_type,
)


def test_weekday_saturday_sunday_without_holidays() -> None:
    monday = date(2025, 8, 4)
    kinds = [day_type(monday + timedelta(days=k), "NSW", NoHolidays()) for k in range(7)]
    assert kinds == [DayType.WEEKDAY] * 5 + [DayType.SATURDAY, DayType.SUNDAY]


def test_public_holiday_wins_over_the_weekday() -> None:
    calendar = HolidayList(by_state={"VIC": [date(2025, 11, 4)]})
    assert day_type(date(2025, 11, 4), "VIC", calendar) is DayType.PUBLIC_HOLIDAY
    assert day_type(date(2025, 11, 4), "NSW", calendar) is DayType.WEEKDAY


def test_datetime_is_refused() -> None:
    with pytest.raises(TypeError):
        day_type(datetime(2025, 8, 4, 9, 0), "NSW", NoHolidays())


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)), st.sampled_from(STATES))
def test_day_type_is_total(d: date, state: str) -> None:
    kind = day_type(d, state, NoHolidays())
    assert kind is not DayType.PUBLIC_HOLIDAY
    assert (kind is DayType.SATURDAY) == (d.weekday() == 5)
    assert (kind is DayType.SUNDAY) == (d.weekday() == 6)


def test_item_day_type_over_the_0107_family(small_2025: Catalogue) -> None:
    expected = {
        "01_002_0107_1_1": DayType.WEEKDAY,  # weekday night
        "01_011_0107_1_1": DayType.WEEKDAY,  # weekday daytime
        "01_015_0107_1_1": DayType.WEEKDAY,  # weekday evening
        "01_013_0107_1_1": DayType.SATURDAY,
        "01_014_0107_1_1": DayType.SUNDAY,
        "01_012_0107_1_1": DayType.PUBLIC_HOLIDAY,
        "01_010_0107_1_1": None,  # night-time sleepover: any day
        "01_003_0107_1_1": None,  # live-in carer
    }
    for number, kind in expected.items():
        item = small_2025.item(number, on=date(2025, 8, 4))
        assert item is not None, number
        assert item_day_type(item) is kind, (number, item.name)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("STA And Assistance (Inc. Respite) - 1:2 - Weekday", DayType.WEEKDAY),
        ("Supports in Employment - Public Holiday", DayType.PUBLIC_HOLIDAY),
        ("Group Activities - High Intensity - Saturday", DayType.SATURDAY),
        ("Skill Development And Training including Public Transport Training", None),
        ("Short Term Accommodation - Sleepover", None),
        ("Assistance with Personal Domestic Activities", None),
        ("Sunday School Transport", None),  # a day word not as the last part
    ],
)
def test_name_day_type(name: str, kind: DayType | None) -> None:
    assert name_day_type(name) is kind


def test_calendars_satisfy_the_protocol() -> None:
    calendars: list[HolidayCalendar] = [NoHolidays(), HolidayList()]
    assert not any(c.is_public_holiday(date(2025, 12, 25), "NSW") for c in calendars)


# -- the holidays-package adapter ------------------------------------------------------------------
def test_holidays_au_by_state() -> None:
    pytest.importorskip("holidays")
    from ndis_rules.adapters.holidays_au import HolidaysAuCalendar

    calendar = HolidaysAuCalendar()
    cup_day = date(2025, 11, 4)  # Melbourne Cup: Victoria only
    assert day_type(cup_day, "VIC", calendar) is DayType.PUBLIC_HOLIDAY
    assert day_type(cup_day, "NSW", calendar) is DayType.WEEKDAY
    for state in STATES:
        assert calendar.is_public_holiday(date(2025, 12, 25), state)
        assert calendar.is_public_holiday(date(2026, 1, 26), state)  # Australia Day, a Monday
        assert not calendar.is_public_holiday(date(2025, 8, 5), state)
    assert calendar.is_public_holiday(date(2025, 6, 2), "WA")  # Western Australia Day
    assert not calendar.is_public_holiday(date(2025, 6, 2), "SA")
    assert calendar.is_public_holiday(date(2025, 12, 25), "nsw")
    with pytest.raises(ValueError, match="unknown state 'XX'"):
        calendar.is_public_holiday(date(2025, 12, 25), "XX")


def test_holidays_missing_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from ndis_rules.adapters.holidays_au import HolidaysAuCalendar

    monkeypatch.setitem(sys.modules, "holidays", None)  # import holidays -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'ndis-rules\[holidays\]'"):
        HolidaysAuCalendar()
