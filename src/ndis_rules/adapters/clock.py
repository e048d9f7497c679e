"""Clock adapters: the system clock in a named zone, and a fixed clock for tests.

Examples:
    >>> FixedClock(date(2025, 9, 1)).today()
    datetime.date(2025, 9, 1)
    >>> isinstance(SystemClock.in_zone("Australia/Sydney").today(), date)
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from dateutil import tz

__all__ = ["DEFAULT_ZONE", "FixedClock", "SystemClock"]

DEFAULT_ZONE = "Australia/Sydney"

# An IANA name ("Australia/Perth", "UTC", "Etc/GMT-10"): never a path, which dateutil would open.
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*")


@dataclass(frozen=True, slots=True)
class SystemClock:
    """Today in an explicit time zone (state time zones differ at midnight)."""

    zone: tzinfo

    @classmethod
    def in_zone(cls, name: str = DEFAULT_ZONE) -> SystemClock:
        """The clock of an IANA zone such as ``Australia/Perth``; ``ValueError`` for any other
        text (a path, an empty name, a zone the system does not know).

        Examples:
            >>> SystemClock.in_zone("/etc/passwd")
            Traceback (most recent call last):
            ...
            ValueError: unknown time zone '/etc/passwd' (expected an IANA name such as ...)
        """
        zone: tzinfo | None = None
        if len(name) <= 64 and _ZONE_NAME.fullmatch(name):
            try:
                zone = tz.gettz(name)
            except (ValueError, OSError):  # a file that is not a zone
                zone = None
        if zone is None:
            shown = name if len(name) <= 64 else name[:61] + "..."
            raise ValueError(
                f"unknown time zone {shown!r} (expected an IANA name such as Australia/Perth)"
            )
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
