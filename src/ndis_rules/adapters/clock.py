"""Clock adapters: the system clock in a named zone, and a fixed clock for tests.

Examples:
    >>> FixedClock(date(2025, 9, 1)).today()
    datetime.date(2025, 9, 1)
    >>> isinstance(SystemClock.in_zone("Australia/Sydney").today(), date)
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from dateutil import tz

__all__ = ["DEFAULT_ZONE", "FixedClock", "SystemClock"]

DEFAULT_ZONE = "Australia/Sydney"


@dataclass(frozen=True, slots=True)
class SystemClock:
    """Today in an explicit time zone (state time zones differ at midnight)."""

    zone: tzinfo

    @classmethod
    def in_zone(cls, name: str = DEFAULT_ZONE) -> SystemClock:
        """The clock of an IANA zone such as ``Australia/Perth``."""
        zone = tz.gettz(name)
        if zone is None:
            raise ValueError(f"unknown time zone {name!r}")
        return cls(zone)

    def today(self) -> date:
        """Today's date in the zone."""
        return datetime.now(self.zone).date()


@dataclass(frozen=True, slots=True)
class FixedClock:
    """Always the same day."""

    value: date

    def today(self) -> date:
        """The fixed day."""
        return self.value
