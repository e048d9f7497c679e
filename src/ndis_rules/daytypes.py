"""Day types: weekday, Saturday, Sunday or public holiday, and the day type an item is for.

Source: NDIS Pricing Arrangements and Price Limits (items priced by time of day and day of week,
e.g. the 0107 self-care family: weekday daytime / evening / night, Saturday, Sunday, public
holiday); spec/claims-files.md "Day types". Public holidays differ by state: they come from a
:class:`HolidayCalendar` (the ``holidays``-package adapter in
:mod:`ndis_rules.adapters.holidays_au`, or :class:`NoHolidays` / :class:`HolidayList`), never
from a hand-written list in the core.

Examples:
    >>> calendar = HolidayList({date(2025, 12, 25)})
    >>> day_type(date(2025, 12, 25), "NSW", calendar)
    <DayType.PUBLIC_HOLIDAY: 'public_holiday'>
    >>> day_type(date(2025, 12, 27), "NSW", calendar).value
    'saturday'
    >>> name_day_type("Assistance With Self-Care Activities - Standard - Weekday Evening").value
    'weekday'
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Final

from .ports import HolidayCalendar

if TYPE_CHECKING:
    from .catalogue import CatalogueItem

__all__ = [
    "DayType",
    "HolidayCalendar",
    "HolidayList",
    "NoHolidays",
    "day_type",
    "item_day_type",
    "name_day_type",
]


class DayType(enum.StrEnum):
    """The kind of day a support was delivered on, as price limits distinguish them."""

    WEEKDAY = "weekday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"
    PUBLIC_HOLIDAY = "public_holiday"


class NoHolidays:
    """A calendar with no public holidays (every day is a weekday, Saturday or Sunday).

    Examples:
        >>> NoHolidays().is_public_holiday(date(2025, 12, 25), "NSW")
        False
    """

    __slots__ = ()

    def is_public_holiday(self, d: date, state: str) -> bool:
        """Always False."""
        return False


class HolidayList:
    """A fixed list of public holidays: national dates, plus dates per state.

    Args:
        everywhere: dates that are public holidays in every state.
        by_state: state code -> dates that are public holidays only there.

    Examples:
        >>> cal = HolidayList({date(2026, 1, 26)}, by_state={"VIC": {date(2025, 11, 4)}})
        >>> cal.is_public_holiday(date(2025, 11, 4), "vic"), cal.is_public_holiday(
        ...     date(2025, 11, 4), "NSW")
        (True, False)
    """

    __slots__ = ("_by_state", "_everywhere")

    def __init__(
        self,
        everywhere: Iterable[date] = (),
        *,
        by_state: Mapping[str, Iterable[date]] | None = None,
    ) -> None:
        self._everywhere = frozenset(everywhere)
        self._by_state = {k.strip().upper(): frozenset(v) for k, v in (by_state or {}).items()}

    def is_public_holiday(self, d: date, state: str) -> bool:
        """True when ``d`` is listed for every state or for ``state``."""
        return d in self._everywhere or d in self._by_state.get(state.strip().upper(), ())


def day_type(d: date, state: str, calendar: HolidayCalendar) -> DayType:
    """The day type of ``d`` in ``state``: a public holiday (per ``calendar``) first, then
    Saturday, Sunday, else a weekday.

    Raises:
        TypeError: ``d`` is a ``datetime`` or not a date.

    Examples:
        >>> day_type(date(2025, 8, 4), "QLD", NoHolidays())
        <DayType.WEEKDAY: 'weekday'>
    """
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"expected a date, got {type(d).__name__}")
    if calendar.is_public_holiday(d, state):
        return DayType.PUBLIC_HOLIDAY
    weekday = d.weekday()
    if weekday == 5:
        return DayType.SATURDAY
    if weekday == 6:
        return DayType.SUNDAY
    return DayType.WEEKDAY


# the last " - " part of an item name: "Weekday Daytime", "Saturday", "Public Holiday", ...
_DAY_PART: Final = re.compile(
    r"(?:^|\s-\s)(?P<day>weekday(?:\s+(?:daytime|evening|night))?|saturday|sunday|public\s+holiday)\s*$",
    re.IGNORECASE,
)
_DAY_WORD: Final[dict[str, DayType]] = {
    "weekday": DayType.WEEKDAY,
    "saturday": DayType.SATURDAY,
    "sunday": DayType.SUNDAY,
    "public": DayType.PUBLIC_HOLIDAY,
}


def name_day_type(name: str) -> DayType | None:
    """The day type an item name is for, from its last ``" - "`` part ("Weekday Daytime",
    "Weekday Evening", "Weekday Night", "Weekday", "Saturday", "Sunday", "Public Holiday");
    ``None`` when the item is not priced by day (e.g. "Night-Time Sleepover").

    Examples:
        >>> name_day_type("STA And Assistance (Inc. Respite) - 1:2 - Public Holiday").value
        'public_holiday'
        >>> name_day_type("Skill Development And Training including Public Transport Training")
        >>> name_day_type("Assistance With Self-Care Activities - Night-Time Sleepover")
    """
    m = _DAY_PART.search(name)
    if m is None:
        return None
    return _DAY_WORD[m["day"].split()[0].lower()]


def item_day_type(item: CatalogueItem) -> DayType | None:
    """The day type a catalogue item is for (see :func:`name_day_type`), or ``None``."""
    return name_day_type(item.name)
