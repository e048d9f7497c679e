"""Australian public holidays per state from the maintained ``holidays`` package.

Needs the optional extra ``holidays`` (``pip install 'ndis-rules[holidays]'``); the package is
imported when the calendar is created, and a clear ``ImportError`` says how to install it.
Substitute ("observed") days count as public holidays, as the holiday library lists them; its
half-day holidays (categories other than ``public``) do not.

Examples:
    >>> cal = HolidaysAuCalendar()  # doctest: +SKIP
    >>> cal.is_public_holiday(date(2025, 11, 4), "VIC")  # Melbourne Cup Day  # doctest: +SKIP
    True
"""

from __future__ import annotations

from datetime import date, datetime
from types import ModuleType
from typing import Final

from ..catalogue import STATES
from ..errors import MissingExtra

__all__ = ["HolidaysAuCalendar"]

_INSTALL_HINT: Final = (
    "the Australian public holiday calendar needs the 'holidays' package: "
    "pip install 'ndis-rules[holidays]' (or pass another HolidayCalendar, e.g. NoHolidays)"
)


class HolidaysAuCalendar:
    """A :class:`ndis_rules.daytypes.HolidayCalendar` over ``holidays.country_holidays("AU")``.

    Args:
        observed: count substitute days ("observed" holidays) as public holidays (default).

    Raises:
        ImportError: the ``holidays`` package is not installed.
    """

    __slots__ = ("_cache", "_module", "_observed")

    def __init__(self, *, observed: bool = True) -> None:
        try:
            import holidays
        except ImportError as exc:
            raise MissingExtra(_INSTALL_HINT) from exc
        self._module: ModuleType = holidays
        self._observed = observed
        self._cache: dict[tuple[str, int], frozenset[date]] = {}

    def _dates(self, state: str, year: int) -> frozenset[date]:
        key = (state, year)
        found = self._cache.get(key)
        if found is None:
            table = self._module.country_holidays(
                "AU", subdiv=state, years=year, observed=self._observed
            )
            found = frozenset(d for d in table if isinstance(d, date))
            self._cache[key] = found
        return found

    def is_public_holiday(self, d: date, state: str) -> bool:
        """True when ``d`` is a public holiday in ``state`` (``ACT``, ``NSW``, ... ``WA``).

        Raises:
            ValueError: ``state`` is not an Australian state or territory code.
            TypeError: ``d`` is a ``datetime`` or not a date.
        """
        if isinstance(d, datetime) or not isinstance(d, date):
            raise TypeError(f"expected a date, got {type(d).__name__}")
        code = state.strip().upper() if isinstance(state, str) else ""
        if code not in STATES:
            raise ValueError(f"unknown state {state!r}: expected one of {', '.join(STATES)}")
        return d in self._dates(code, d.year)
